import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, magicWord } from './magic.js';

/**
 * A Torq webhook integration, `POST /v1/webhooks/<id>`, authenticated by the `X-Torq-Token`
 * header Kibana sends. It answers 200 with the event id it started; an unknown webhook is 404,
 * a wrong or missing token 401, another method 405 (errors carry `{message}`).
 *
 * Magic `msg` field values in the posted JSON, as in Kibana's own simulator:
 * - `respond-with-<status>` (400, 404, 405, 429, 500, 502...): that status with `{message}`;
 *   429 carries `Retry-After: 30`, `respond-with-429-no-retry-after` none;
 * - `respond-with-timeout` (answers after 2 s), `respond-with-reset`, `respond-with-large` (256 KiB).
 */

export const TORQ_WEBHOOK_ID = '4f1c7e9a-2b3d-4c5e-8f6a-7b8c9d0e1f2a';

export interface TorqSimulator extends Simulator {
  token: string;
  /** The webhook URL on localhost, the one non-Torq host Kibana accepts. */
  webhookUrl: string;
  /** Bodies accepted, in order. */
  events: unknown[];
}

function magic(msg: string, res: ServerResponse): boolean {
  return answerMagic(magicWord(msg), res, {
    fail: (status, headers) => sendJson(res, status, { message: `simulated ${status}` }, headers),
    late: () => sendJson(res, 200, { event_id: 'late' }),
    largeBytes: 256 * 1024,
    retryAfterOn429: true,
  });
}

export async function startTorqSimulator(options: { token?: string } = {}): Promise<TorqSimulator> {
  const token = options.token ?? 'torq-simulated-token';
  const path = `/v1/webhooks/${TORQ_WEBHOOK_ID}`;
  const events: unknown[] = [];
  let counter = 0;

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    if (req.path !== path) return sendJson(res, 404, { message: 'webhook not found' });
    if (req.method !== 'POST') return sendJson(res, 405, { message: 'method not allowed' });
    if (req.headers['x-torq-token'] !== token) {
      return sendJson(res, 401, { message: 'invalid webhook secret' });
    }
    const body = req.json as { msg?: unknown } | undefined;
    if (typeof body?.msg === 'string' && magic(body.msg, res)) return;
    events.push(req.json);
    counter += 1;
    sendJson(res, 200, { event_id: `evt-${counter}` });
  };

  const sim = await startSimulator(handle);
  return Object.assign(sim, {
    token,
    webhookUrl: `http://localhost:${sim.port}${path}`,
    events,
  });
}
