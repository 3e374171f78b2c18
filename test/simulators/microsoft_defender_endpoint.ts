import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  rawTarget,
  type Simulator,
  sendBytes,
  sendJson,
  startSimulator,
} from './base.js';
import { answerMagic, endpointScript, requestMagic } from './magic.js';

/**
 * Microsoft Entra ID's token endpoint (`POST /<tenant>/oauth2/v2.0/token`, client credentials in
 * a form body) and the Defender for Endpoint API (`/api/machines`, `/api/machineactions`,
 * `/api/libraryfiles`) on one server. API calls need a bearer token the token endpoint issued
 * (else 401); unknown machines and actions answer 404 ResourceNotFound; a machine with an action
 * in flight refuses another with ActiveRequestAlreadyExists. Live response results are served
 * from pre-signed blob links that need no token.
 *
 * Scripted failures: see endpointScript in magic.ts (e.g. a machine id `respond-with-429`).
 * Also the action id `no-result` has no download link.
 */

export const RESULT_BYTES = Buffer.from(
  '{"script_name":"collect.ps1","exit_code":0,"script_output":"ok"}',
);
const BLOB_SIGNATURE = 'sim-sas-signature';

export interface DefenderApp {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  scope: string;
}

export interface SimMachine {
  id: string;
  computerDnsName: string;
  osPlatform: string;
  healthStatus: string;
  busy: boolean;
}

export interface DefenderSimulator extends Simulator {
  tokens: Array<{ token: string; revoked: boolean }>;
  machines: SimMachine[];
  actions: Array<Record<string, unknown>>;
  targets: string[];
  expiresIn: number;
  revokeAll(): void;
}

function mdeError(code: string, message: string) {
  return { error: { code, message, target: '6a2b4a8c-0d4f-4d7e-9c3e-sim000000001' } };
}

/** Just enough OData: `field eq 'v'` and `field in ('a','b')` joined by AND. */
function matches(filter: string | null, entity: Record<string, unknown>): boolean {
  if (filter === null) return true;
  return filter.split(' AND ').every((clause) => {
    const eq = /^(\w+) eq '([^']*)'$/.exec(clause);
    if (eq) return String(entity[eq[1] ?? '']) === eq[2];
    const inList = /^(\w+) in \((.*)\)$/.exec(clause);
    if (inList) {
      const values = (inList[2] ?? '').split(',').map((v) => v.replace(/^'|'$/g, ''));
      return values.includes(String(entity[inList[1] ?? '']));
    }
    return false;
  });
}

function page(query: URLSearchParams, items: Array<Record<string, unknown>>, context: string) {
  const filtered = items.filter((item) => matches(query.get('$filter'), item));
  const skip = Number(query.get('$skip') ?? 0);
  const top = Number(query.get('$top') ?? 10000);
  return {
    '@odata.context': context,
    ...(query.get('$count') === 'true' ? { '@odata.count': filtered.length } : {}),
    value: filtered.slice(skip, skip + top),
  };
}

export async function startDefenderSimulator(app: DefenderApp): Promise<DefenderSimulator> {
  const tokens: Array<{ token: string; revoked: boolean }> = [];
  const targets: string[] = [];
  const machines: SimMachine[] = [
    {
      id: '1e5bc9d7e413ddd7902c2932e418702b84d0cc07',
      computerDnsName: 'mde-host-1.contoso.local',
      osPlatform: 'Windows11',
      healthStatus: 'Active',
      busy: false,
    },
    {
      id: '7d1f7b3c0b6c4c1b8f4d6d9d2e3a4b5c6d7e8f90',
      computerDnsName: 'mde-host-2.contoso.local',
      osPlatform: 'Linux',
      healthStatus: 'Inactive',
      busy: false,
    },
  ];
  const actions: Array<Record<string, unknown>> = [];
  let base = '';
  let issued = 0;
  let self: DefenderSimulator | undefined;

  const machineView = (m: SimMachine) => ({
    id: m.id,
    computerDnsName: m.computerDnsName,
    osPlatform: m.osPlatform,
    healthStatus: m.healthStatus,
    lastIpAddress: '10.0.0.4',
  });

  const token = (req: RecordedRequest, res: ServerResponse, tenant: string) => {
    if (tenant !== app.tenantId) {
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
        error_codes: [90002],
      });
    }
    const form = new URLSearchParams(req.text);
    if (
      !String(req.headers['content-type']).startsWith('application/x-www-form-urlencoded') ||
      form.get('grant_type') !== 'client_credentials' ||
      form.get('scope') !== app.scope
    ) {
      return sendJson(res, 400, {
        error: 'invalid_request',
        error_description: 'AADSTS900144: The request body must contain a valid grant.',
        error_codes: [900144],
      });
    }
    if (form.get('client_id') !== app.clientId || form.get('client_secret') !== app.clientSecret) {
      return sendJson(res, 401, {
        error: 'invalid_client',
        error_description: 'AADSTS7000215: Invalid client secret provided.',
        error_codes: [7000215],
      });
    }
    issued += 1;
    const value = `mde-token-${issued}`;
    tokens.push({ token: value, revoked: false });
    const expiresIn = self?.expiresIn ?? 3599;
    return sendJson(res, 200, {
      token_type: 'Bearer',
      expires_in: expiresIn,
      ext_expires_in: expiresIn,
      access_token: value,
    });
  };

  const newAction = (machine: SimMachine, type: string, comment: unknown) => {
    const action = {
      id: `b6a2c6a1-0000-4000-8000-${String(actions.length + 1).padStart(12, '0')}`,
      type,
      requestor: app.clientId,
      requestorComment: comment,
      status: 'Pending',
      machineId: machine.id,
      computerDnsName: machine.computerDnsName,
      creationDateTimeUtc: '2025-01-20T10:00:00.0000000Z',
      lastUpdateDateTimeUtc: '2025-01-20T10:00:00.0000000Z',
    };
    actions.push(action);
    return action;
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    targets.push(rawTarget(res));
    const tokenPath = /^\/([^/]+)\/oauth2\/v2\.0\/token$/.exec(req.path);
    if (req.method === 'POST' && tokenPath) return token(req, res, tokenPath[1] ?? '');
    if (req.path.startsWith('/blobs/live-response/')) {
      if (req.query.get('sig') !== BLOB_SIGNATURE) {
        return sendJson(res, 403, mdeError('AuthenticationFailed', 'Signature did not match'));
      }
      return sendBytes(res, RESULT_BYTES, 'application/octet-stream', 'result.json');
    }
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!tokens.some((t) => t.token === bearer && !t.revoked)) {
      return sendJson(res, 401, mdeError('Unauthorized', 'Authorization token is invalid'));
    }
    const script = endpointScript(res, (_status, text) =>
      mdeError(text.replace(/ /g, ''), `simulated ${text}`),
    );
    if (answerMagic(requestMagic(req), res, script)) return;
    const route = `${req.method} ${req.path}`;
    const body = (req.json ?? {}) as Record<string, unknown>;
    if (route === 'GET /api/machines') {
      return sendJson(
        res,
        200,
        page(req.query, machines.map(machineView), `${base}/api/$metadata#Machines`),
      );
    }
    const machineRoute = /^(GET|POST) \/api\/machines\/([^/]+)(?:\/(\w+))?$/.exec(route);
    if (machineRoute) {
      const [, method, id, verb] = machineRoute;
      const machine = machines.find((m) => m.id === id);
      if (machine === undefined) {
        return sendJson(res, 404, mdeError('ResourceNotFound', `Machine ${id} was not found`));
      }
      if (method === 'GET' && verb === undefined) {
        return sendJson(res, 200, {
          '@odata.context': `${base}/api/$metadata#Machines/$entity`,
          ...machineView(machine),
        });
      }
      const type = { isolate: 'Isolate', unisolate: 'Unisolate', runliveresponse: 'LiveResponse' }[
        verb ?? ''
      ];
      if (method === 'POST' && type !== undefined) {
        if (machine.busy) {
          return sendJson(
            res,
            400,
            mdeError('ActiveRequestAlreadyExists', 'Action is already in progress'),
          );
        }
        machine.busy = true;
        return sendJson(res, 201, {
          '@odata.context': `${base}/api/$metadata#MachineActions/$entity`,
          ...newAction(machine, type, body.Comment),
        });
      }
    }
    if (route === 'GET /api/machineactions') {
      return sendJson(res, 200, page(req.query, actions, `${base}/api/$metadata#MachineActions`));
    }
    const cancel = /^POST \/api\/machineactions\/([^/]+)\/cancel$/.exec(route);
    if (cancel) {
      const action = actions.find((a) => a.id === cancel[1]);
      if (action === undefined) {
        return sendJson(
          res,
          404,
          mdeError('ResourceNotFound', `Action ${cancel[1]} was not found`),
        );
      }
      action.status = 'Cancelled';
      action.cancellationComment = body.Comment;
      for (const m of machines) if (m.id === action.machineId) m.busy = false;
      return sendJson(res, 200, {
        '@odata.context': `${base}/api/$metadata#MachineActions/$entity`,
        ...action,
      });
    }
    const link =
      /^GET \/api\/machineactions\/([^/]+)\/GetLiveResponseResultDownloadLink\(index=0\)$/.exec(
        route,
      );
    if (link) {
      return sendJson(res, 200, {
        '@odata.context': `${base}/api/$metadata#Edm.String`,
        value:
          link[1] === 'no-result'
            ? null
            : `${base}/blobs/live-response/${link[1]}/result.json?sv=2022-11-02&sig=${BLOB_SIGNATURE}`,
      });
    }
    if (route === 'GET /api/libraryfiles') {
      return sendJson(res, 200, {
        '@odata.context': `${base}/api/$metadata#LibraryFiles`,
        value: [
          {
            fileName: 'collect.ps1',
            sha256: 'a3b1c7d9e5f2a3b1c7d9e5f2a3b1c7d9e5f2a3b1c7d9e5f2a3b1c7d9e5f2a3b1',
            description: 'Collects triage data',
            creationTime: '2024-11-05T09:00:00.000Z',
            lastUpdatedTime: '2024-11-05T09:00:00.000Z',
            createdBy: 'secops@contoso.com',
            hasParameters: true,
            parametersDescription: '-Days <n>',
          },
        ],
      });
    }
    return sendJson(res, 404, mdeError('ResourceNotFound', `No route ${route}`));
  };

  const sim = await startSimulator(handle);
  base = sim.url;
  self = Object.assign(sim, {
    tokens,
    machines,
    actions,
    targets,
    expiresIn: 3599,
    revokeAll() {
      for (const t of tokens) t.revoked = true;
    },
  });
  return self;
}
