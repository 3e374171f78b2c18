import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, magicWord } from './magic.js';

/**
 * An xMatters Flow Designer HTTP trigger,
 * `POST /api/integration/1/functions/<id>/triggers`, authenticated either by basic auth (a
 * user and password) or by the `apiKey` query value of its URL. It answers 202 with the request
 * id it started; a wrong or missing credential is 401, an unknown trigger 404 (errors as
 * `{code, reason, message}`).
 *
 * Magic `alertActionGroupName` values, as in Kibana's own simulator:
 * - `respond-with-<status>` (400, 401, 404, 429, 500, 502...): that status; 429 carries
 *   `Retry-After: 30`;
 * - `respond-with-timeout` (answers after 2 s), `respond-with-reset`, `respond-with-large` (256 KiB).
 */

export const XMATTERS_TRIGGER = '0d5c1e8b-7a6f-4e3d-9c2b-1a0f9e8d7c6b';

export interface XmattersSimulator extends Simulator {
  user: string;
  password: string;
  apiKey: string;
  /** The trigger URL for basic auth. */
  basicUrl: string;
  /** The trigger URL with its API key. */
  apiKeyUrl: string;
  /** Payloads accepted, in order. */
  payloads: unknown[];
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
};

function sendError(res: ServerResponse, status: number, message: string, headers = {}): void {
  sendJson(res, status, { code: status, reason: REASONS[status] ?? 'Error', message }, headers);
}

function magic(word: string, res: ServerResponse): boolean {
  return answerMagic(magicWord(word), res, {
    fail: (status, headers) => sendError(res, status, `simulated ${status}`, headers),
    late: () => sendJson(res, 202, { requestId: 'late' }),
    largeBytes: 256 * 1024,
    retryAfterOn429: true,
  });
}

export async function startXmattersSimulator(
  options: { user?: string; password?: string; apiKey?: string } = {},
): Promise<XmattersSimulator> {
  const user = options.user ?? 'xm-user';
  const password = options.password ?? 'xm-password';
  const apiKey = options.apiKey ?? 'xm-api-key';
  const path = `/api/integration/1/functions/${XMATTERS_TRIGGER}/triggers`;
  const payloads: unknown[] = [];
  let counter = 0;

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    if (req.path !== path) return sendError(res, 404, 'The requested trigger was not found.');
    const basic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const byKey = req.query.get('apiKey') === apiKey;
    if (!byKey && req.headers.authorization !== basic) {
      return sendError(res, 401, 'Could not authenticate the request.');
    }
    if (req.method !== 'POST') return sendError(res, 400, 'Only POST is supported.');
    const body = req.json as { alertActionGroupName?: unknown } | undefined;
    if (typeof body !== 'object' || body === null) {
      return sendError(res, 400, 'The request body is not valid JSON.');
    }
    if (typeof body.alertActionGroupName === 'string' && magic(body.alertActionGroupName, res)) {
      return;
    }
    payloads.push(body);
    counter += 1;
    sendJson(res, 202, {
      requestId: `c0ffee00-0000-4000-8000-${String(counter).padStart(12, '0')}`,
    });
  };

  const sim = await startSimulator(handle);
  return Object.assign(sim, {
    user,
    password,
    apiKey,
    basicUrl: `${sim.url}${path}`,
    apiKeyUrl: `${sim.url}${path}?apiKey=${apiKey}`,
    payloads,
  });
}
