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
 * SentinelOne's management console API (v2.1), as far as Kibana's connector uses it. Every
 * `/web/api/v2.1` call must carry the API token in the `APIToken` query parameter (else 401
 * with SentinelOne's error body). Script results are downloaded from pre-signed links outside
 * the API, which need no token but must carry their signature.
 *
 * Scripted failures: see endpointScript in magic.ts (e.g. a `computerName` of
 * `respond-with-429`). Also:
 * - task id `no-link`: fetch-files answers without a download link for it;
 * - task id `foreign-host`: the download link points at `files.s1-cdn.invalid`;
 * - task id `expired-link`: the download link answers 403.
 */

export const API = '/web/api/v2.1';
export const SCRIPT_RESULT_BYTES = Buffer.from('PK\u0003\u0004 simulated script output archive');
export const AGENT_FILE_BYTES = Buffer.from('PK\u0003\u0004 simulated agent file archive');
const SIGNATURE = 'sim-signature-1';

export interface SimAgent {
  id: string;
  uuid: string;
  computerName: string;
  networkStatus: 'connected' | 'disconnected';
  osType: string;
  isActive: boolean;
}

export interface SentinelOneSimulator extends Simulator {
  token: string;
  agents: SimAgent[];
  /** Each request's target as sent (path and raw query), in order. */
  targets: string[];
}

function s1Error(status: number, title: string, detail: string | null = null) {
  return { errors: [{ code: status * 10000 + 10, detail, title }] };
}

function agentView(agent: SimAgent) {
  return {
    id: agent.id,
    uuid: agent.uuid,
    computerName: agent.computerName,
    networkStatus: agent.networkStatus,
    osType: agent.osType,
    isActive: agent.isActive,
    accountId: '1392053568574369781',
    siteName: 'Default site',
    agentVersion: '23.4.2.14',
  };
}

export async function startSentinelOneSimulator(token: string): Promise<SentinelOneSimulator> {
  const agents: SimAgent[] = [
    {
      id: '1913920934584665209',
      uuid: '0f2d4b4c-3b93-4f3c-8c1a-0c8f6c5e2a11',
      computerName: 'host-connected',
      networkStatus: 'connected',
      osType: 'linux',
      isActive: true,
    },
    {
      id: '1913920934584665210',
      uuid: '5d8b1f0e-8a7e-4d61-9f0b-7e4e2b9c3d22',
      computerName: 'host-isolated',
      networkStatus: 'disconnected',
      osType: 'windows',
      isActive: true,
    },
  ];
  let base = '';
  const targets: string[] = [];

  const findAgents = (query: URLSearchParams) =>
    agents.filter((a) => {
      const ids = query.get('ids');
      const uuids = query.get('uuids');
      const name = query.get('computerName');
      const contains = query.get('computerName__contains');
      return (
        (ids === null || ids.split(',').includes(a.id)) &&
        (uuids === null || uuids.split(',').includes(a.uuid)) &&
        (query.get('uuid') === null || query.get('uuid') === a.uuid) &&
        (name === null || name === a.computerName) &&
        (contains === null || a.computerName.includes(contains))
      );
    });

  const setNetwork = (body: unknown, status: SimAgent['networkStatus']) => {
    const ids = String((body as { filter?: { ids?: unknown } }).filter?.ids ?? '').split(',');
    const hit = agents.filter((a) => ids.includes(a.id));
    for (const agent of hit) agent.networkStatus = status;
    return { data: { affected: hit.length } };
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    targets.push(rawTarget(res));
    if (req.path.startsWith('/downloads/script-results/')) {
      if (req.query.get('signature') !== SIGNATURE) {
        return sendJson(res, 403, s1Error(403, 'Forbidden', 'Signature mismatch'));
      }
      if (req.path.includes('expired-link')) {
        return sendJson(res, 403, s1Error(403, 'Forbidden', 'Link expired'));
      }
      return sendBytes(res, SCRIPT_RESULT_BYTES, 'application/zip', 'results.zip');
    }
    if (!req.path.startsWith(API)) {
      return sendJson(res, 404, s1Error(404, 'Not Found', `No route ${req.path}`));
    }
    if (req.query.get('APIToken') !== token) {
      return sendJson(res, 401, s1Error(401, 'Authentication Failed'));
    }
    const script = endpointScript(res, (status, text) =>
      s1Error(status, text, 'Simulated failure'),
    );
    if (answerMagic(requestMagic(req), res, script)) {
      return;
    }
    const route = `${req.method} ${req.path.slice(API.length)}`;
    const body = req.json as Record<string, unknown> | undefined;
    if (route === 'GET /agents') {
      const data = findAgents(req.query).map(agentView);
      return sendJson(res, 200, {
        pagination: { totalItems: data.length, nextCursor: null },
        errors: null,
        data,
      });
    }
    if (route === 'POST /agents/actions/disconnect') {
      return sendJson(res, 200, setNetwork(body, 'disconnected'));
    }
    if (route === 'POST /agents/actions/connect') {
      return sendJson(res, 200, setNetwork(body, 'connected'));
    }
    if (route === 'GET /remote-scripts') {
      return sendJson(res, 200, {
        pagination: { totalItems: 1, nextCursor: null },
        errors: null,
        data: [
          {
            id: '1466645476786791838',
            scriptName: 'Collect Logs',
            scriptType: 'dataCollection',
            osTypes: ['linux'],
            inputRequired: false,
          },
        ],
      });
    }
    if (route === 'POST /remote-scripts/execute') {
      return sendJson(res, 200, {
        data: {
          pendingExecutionId: null,
          affected: 1,
          parentTaskId: '1927371436540716288',
          pending: false,
        },
      });
    }
    if (route === 'GET /remote-scripts/status') {
      const parent = req.query.get('parent_task_id');
      return sendJson(res, 200, {
        pagination: { totalItems: 1, nextCursor: null },
        errors: null,
        data: [
          {
            id: '1927371436557493505',
            parentTaskId: parent,
            status: 'completed',
            detailedStatus: 'Completed',
            agentId: agents[0]?.id,
          },
        ],
      });
    }
    if (route === 'POST /remote-scripts/fetch-files') {
      const taskIds = ((body?.data as { taskIds?: string[] } | undefined)?.taskIds ?? []).filter(
        (id) => id !== 'no-link',
      );
      return sendJson(res, 200, {
        data: {
          download_links: taskIds.map((taskId) => ({
            taskId,
            fileName: `${taskId}.zip`,
            downloadUrl:
              taskId === 'foreign-host'
                ? `http://files.s1-cdn.invalid/downloads/script-results/${taskId}.zip?signature=${SIGNATURE}`
                : `${base}/downloads/script-results/${taskId}.zip?signature=${SIGNATURE}`,
          })),
        },
        errors: [],
      });
    }
    const fetchFiles = /^POST \/agents\/([^/]+)\/actions\/fetch-files$/.exec(route);
    if (fetchFiles) return sendJson(res, 200, { data: { success: true } });
    const upload = /^GET \/agents\/([^/]+)\/uploads\/([^/]+)$/.exec(route);
    if (upload) return sendBytes(res, AGENT_FILE_BYTES, 'application/zip', 'upload.zip');
    if (route === 'GET /activities') {
      return sendJson(res, 200, {
        pagination: { totalItems: 1, nextCursor: null },
        errors: null,
        data: [
          {
            id: '1927371436700099841',
            activityType: 81,
            agentId: req.query.get('agentIds') ?? agents[0]?.id,
            primaryDescription: 'The management user started fetching files',
            createdAt: '2025-01-20T10:00:00.000Z',
          },
        ],
      });
    }
    return sendJson(res, 404, s1Error(404, 'Not Found', `No route ${route}`));
  };

  const sim = await startSimulator(handle);
  base = sim.url;
  return Object.assign(sim, { token, agents, targets });
}
