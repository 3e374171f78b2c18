import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  rawTarget,
  type Simulator,
  sendJson,
  startSimulator,
} from './base.js';
import { answerMagic, endpointScript, requestMagic } from './magic.js';

/**
 * CrowdStrike Falcon's API, as far as Kibana's connector uses it. `POST /oauth2/token` takes the
 * client id and secret as Basic credentials and issues a fresh bearer token each time, recording
 * which client it belongs to; every other route wants one of those tokens (else 401 with
 * CrowdStrike's error body). Real-time response keeps batch sessions.
 *
 * Scripted failures: see endpointScript in magic.ts (e.g. a device id `respond-with-429`).
 */

export const META = {
  query_time: 0.004,
  powered_by: 'crowdstrike-api-gateway',
  trace_id: 'sim-trace-0001',
};

export interface IssuedToken {
  token: string;
  clientId: string;
  revoked: boolean;
}

export interface CrowdStrikeSimulator extends Simulator {
  /** client id -> secret */
  clients: Map<string, string>;
  tokens: IssuedToken[];
  /** Seconds the next tokens are said to live. */
  expiresIn: number;
  /** batch id -> host ids */
  sessions: Map<string, string[]>;
  /** Which client each API request (not token request) was made by, in order. */
  callers: string[];
  /** Each request's target as sent (path and raw query), in order. */
  targets: string[];
  revokeAll(): void;
}

export const DEVICES: Record<string, { hostname: string; platform_name: string }> = {
  '5f4ed7ec017c4f6a8fb4e2d6d0ae7a71': { hostname: 'falcon-host-1', platform_name: 'Linux' },
  '0a1b2c3d4e5f60718293a4b5c6d7e8f9': { hostname: 'falcon-host-2', platform_name: 'Windows' },
};

function csError(status: number, message: string) {
  return { meta: META, errors: [{ code: status, message }] };
}

function idsOf(query: URLSearchParams): string[] {
  return query.getAll('ids').flatMap((v) => v.split(','));
}

export async function startCrowdStrikeSimulator(
  clients: Record<string, string>,
): Promise<CrowdStrikeSimulator> {
  const state = {
    clients: new Map(Object.entries(clients)),
    tokens: [] as IssuedToken[],
    expiresIn: 1799,
    sessions: new Map<string, string[]>(),
    callers: [] as string[],
    targets: [] as string[],
  };
  let issued = 0;
  // The returned simulator, whose expiresIn a test may change.
  let self: CrowdStrikeSimulator | undefined;

  const issueToken = (req: RecordedRequest, res: ServerResponse) => {
    const auth = req.headers.authorization ?? '';
    const [clientId, secret] = auth.startsWith('Basic ')
      ? Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')
      : [];
    if (clientId === undefined || state.clients.get(clientId) !== secret) {
      return sendJson(res, 403, csError(403, 'access denied, authorization failed'));
    }
    issued += 1;
    const token = `cs-token-${issued}-${clientId}`;
    state.tokens.push({ token, clientId, revoked: false });
    return sendJson(res, 201, {
      access_token: token,
      token_type: 'bearer',
      expires_in: self?.expiresIn ?? state.expiresIn,
    });
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    state.targets.push(rawTarget(res));
    if (req.method === 'POST' && req.path === '/oauth2/token') return issueToken(req, res);
    const bearer = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    const caller = state.tokens.find((t) => t.token === bearer && !t.revoked);
    if (caller === undefined) {
      return sendJson(res, 401, csError(401, 'access denied, invalid bearer token'));
    }
    state.callers.push(caller.clientId);
    const script = endpointScript(res, (status, text) => csError(status, `simulated ${text}`));
    if (answerMagic(requestMagic(req), res, script)) return;
    const route = `${req.method} ${req.path}`;
    const body = (req.json ?? {}) as Record<string, unknown>;
    if (route === 'GET /devices/entities/devices/v2') {
      const resources = idsOf(req.query)
        .filter((id) => DEVICES[id] !== undefined)
        .map((id) => ({ device_id: id, ...DEVICES[id], status: 'normal' }));
      return sendJson(res, 200, { meta: META, resources, errors: [] });
    }
    if (route === 'GET /devices/entities/online-state/v1') {
      const resources = idsOf(req.query).map((id) => ({
        id,
        state: DEVICES[id] ? 'online' : 'unknown',
        last_seen: '2025-01-20T10:00:00Z',
      }));
      return sendJson(res, 200, { meta: META, resources, errors: [] });
    }
    if (route === 'POST /devices/entities/devices-actions/v2') {
      const action = req.query.get('action_name');
      if (action !== 'contain' && action !== 'lift_containment') {
        return sendJson(res, 400, csError(400, `Invalid action name: ${action}`));
      }
      const ids = Array.isArray(body.ids) ? (body.ids as string[]) : [];
      return sendJson(res, 202, {
        meta: META,
        resources: ids.map((id) => ({ id, path: `/devices/entities/devices/v2?ids=${id}` })),
        errors: [],
      });
    }
    if (route === 'POST /real-time-response/combined/batch-init-session/v1') {
      const hosts = Array.isArray(body.host_ids) ? (body.host_ids as string[]) : [];
      const batchId = `batch-${state.sessions.size + 1}`;
      state.sessions.set(batchId, hosts);
      return sendJson(res, 201, {
        meta: META,
        batch_id: batchId,
        resources: Object.fromEntries(
          hosts.map((aid) => [
            aid,
            {
              session_id: `session-${aid}`,
              task_id: '',
              complete: true,
              stdout: 'C:\\',
              stderr: '',
              base_command: 'pwd',
              aid,
              errors: [],
              query_time: 0.5,
              offline_queued: false,
            },
          ]),
        ),
        errors: [],
      });
    }
    if (route === 'POST /real-time-response/combined/batch-refresh-session/v1') {
      const batchId = String(body.batch_id);
      if (!state.sessions.has(batchId)) {
        return sendJson(res, 404, csError(404, 'batch session not found'));
      }
      return sendJson(res, 201, { meta: META, batch_id: batchId, resources: {}, errors: [] });
    }
    const command =
      /^POST \/real-time-response\/combined\/(batch(?:-active-responder|-admin)?-command)\/v1$/.exec(
        route,
      );
    if (command) {
      const hosts = state.sessions.get(String(body.batch_id));
      if (hosts === undefined) return sendJson(res, 404, csError(404, 'batch session not found'));
      return sendJson(res, 201, {
        combined: {
          resources: Object.fromEntries(
            hosts.map((aid) => [
              aid,
              {
                session_id: `session-${aid}`,
                task_id: `task-${aid}`,
                complete: true,
                stdout: `ran on ${aid} via ${command[1]}`,
                stderr: '',
                base_command: String(body.base_command),
                aid,
                errors: [],
                query_time: 0.7,
                offline_queued: false,
              },
            ]),
          ),
        },
        meta: META,
        errors: [],
      });
    }
    if (route === 'GET /real-time-response/entities/scripts/v1') {
      return sendJson(res, 200, {
        meta: META,
        resources: [
          {
            id: 'script-1',
            name: 'collect-triage',
            platform: ['linux'],
            permission_type: 'public',
            file_type: 'script',
          },
        ],
        errors: [],
      });
    }
    return sendJson(res, 404, csError(404, `no route ${route}`));
  };

  const sim = await startSimulator(handle);
  self = Object.assign(sim, state, {
    revokeAll() {
      for (const t of state.tokens) t.revoked = true;
    },
  });
  return self;
}
