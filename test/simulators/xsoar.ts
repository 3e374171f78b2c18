import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, caseSystemScript, magicIn } from './magic.js';

/**
 * Cortex XSOAR REST API, as far as the .xsoar connector uses it: `POST /playbook/search` and
 * `POST /incident`. XSOAR 6 (on premises) serves them at the root and wants the API key alone in
 * `Authorization`; XSOAR 8 (cloud) serves them under `/xsoar/public/v1` and also wants the key id
 * in `x-xdr-auth-id`. An incident naming an unknown playbook is refused as XSOAR does. Errors are
 * XSOAR's `{id, status, title, detail, error, encrypted, multires}` bodies. Scripted failures:
 * see caseSystemScript in magic.ts.
 */

export const CLOUD_PREFIX = '/xsoar/public/v1';
export const XSOAR_CREATED = '2024-04-21T11:47:08.107Z';

export interface XsoarOptions {
  apiKey: string;
  cloudApiKey: string;
  cloudApiKeyId: string;
}

export interface XsoarSimulator extends Simulator {
  incidents: Array<Record<string, unknown>>;
}

export const XSOAR_PLAYBOOKS = [
  {
    id: '8db0105c-f674-4d83-8095-f95a9f61e77a',
    version: 4,
    name: 'playbook0',
    nameRaw: 'playbook0',
    startTaskId: '0',
    commands: ['setIncident'],
    brands: ['Builtin'],
    quiet: true,
  },
  {
    id: 'a3a5a3e0-1b1c-4f59-9d8b-2a1f0cbb2f11',
    version: 1,
    name: 'Phishing Investigation',
    nameRaw: 'Phishing Investigation',
    startTaskId: '0',
    commands: ['setIncident', 'closeInvestigation'],
    brands: ['Builtin'],
    quiet: false,
  },
];

export const XSOAR_PLAYBOOKS_RESPONSE = {
  playbooks: XSOAR_PLAYBOOKS,
  tags: ['Phishing', 'Malware'],
  total: XSOAR_PLAYBOOKS.length,
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  429: 'Too many requests',
  500: 'Internal server error',
};

function xsoarError(status: number, detail: string, id = 'error') {
  return {
    id,
    status,
    title: TITLES[status] ?? 'Error',
    detail,
    error: '',
    encrypted: false,
    multires: null,
  };
}

export async function startXsoarSimulator(options: XsoarOptions): Promise<XsoarSimulator> {
  const incidents: Array<Record<string, unknown>> = [];
  let nextId = 178791;

  const handle = (req: RecordedRequest, res: ServerResponse): void => {
    const cloud = req.path.startsWith(`${CLOUD_PREFIX}/`);
    const path = cloud ? req.path.slice(CLOUD_PREFIX.length) : req.path;
    const authorized = cloud
      ? req.headers.authorization === options.cloudApiKey &&
        req.headers['x-xdr-auth-id'] === options.cloudApiKeyId
      : req.headers.authorization === options.apiKey;
    if (!authorized) {
      sendJson(res, 401, xsoarError(401, 'Authorization required', 'unauthorized'));
      return;
    }
    const script = caseSystemScript(res, (s) => xsoarError(s, TITLES[s] ?? 'Error'));
    if (answerMagic(magicIn(req.text), res, script)) return;

    if (req.method === 'POST' && path === '/playbook/search') {
      sendJson(res, 200, XSOAR_PLAYBOOKS_RESPONSE);
      return;
    }
    if (req.method === 'POST' && path === '/incident') {
      const body = (req.json ?? {}) as Record<string, unknown>;
      if (typeof body.name !== 'string' || body.name === '') {
        sendJson(res, 400, xsoarError(400, 'Incident name is required', 'incCreateErr'));
        return;
      }
      const playbookId = body.playbookId;
      if (
        playbookId !== null &&
        playbookId !== undefined &&
        !XSOAR_PLAYBOOKS.some((p) => p.id === playbookId)
      ) {
        sendJson(
          res,
          400,
          xsoarError(
            400,
            `Failed creating incident: playbook ${String(playbookId)} not found`,
            'incCreateErr',
          ),
        );
        return;
      }
      const incident = {
        id: String(nextId++),
        version: 1,
        type: typeof body.type === 'string' ? body.type : 'Unclassified',
        name: body.name,
        rawName: body.name,
        status: body.createInvestigation === true ? 1 : 0,
        created: XSOAR_CREATED,
        occurred: XSOAR_CREATED,
        severity: body.severity ?? 0,
        playbookId: playbookId ?? '',
        details: typeof body.details === 'string' ? body.details : '',
        labels: Array.isArray(body.labels) ? body.labels : [],
        CustomFields: typeof body.CustomFields === 'object' ? body.CustomFields : {},
        sourceBrand: 'Manual',
      };
      incidents.push({ ...incident, received: body });
      sendJson(res, 201, incident);
      return;
    }
    sendJson(res, 404, xsoarError(404, `No route for ${req.method} ${req.path}`));
  };

  const simulator = await startSimulator(handle);
  return Object.assign(simulator, { incidents });
}
