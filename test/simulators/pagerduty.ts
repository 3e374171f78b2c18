import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, type MagicScript, magicWord } from './magic.js';

/**
 * PagerDuty's Events API v2 (`POST /v2/enqueue`): 202 `{status, message, dedup_key}` for an
 * event with a routing key (header `X-Routing-Key` or body `routing_key`), 400 `invalid event`
 * otherwise. Scripted by the event's `payload.summary` (or `dedup_key` when there is no payload):
 * `respond-with-<status>`, `respond-with-429-retry-after-<s>`, `respond-with-timeout`,
 * `respond-with-reset`, `respond-with-large`.
 */

function invalidEvent(res: ServerResponse, error: string): void {
  sendJson(res, 400, {
    status: 'invalid event',
    message: 'Event object is invalid',
    errors: [error],
  });
}

export async function startPagerDutySimulator(): Promise<Simulator> {
  const handle = (req: RecordedRequest, res: ServerResponse) => {
    if (req.path !== '/v2/enqueue') return sendJson(res, 404, { status: 'not found' });
    if (req.method !== 'POST') return sendJson(res, 405, { status: 'method not allowed' });
    const event = req.json as
      | { routing_key?: string; dedup_key?: string; payload?: { summary?: string } }
      | undefined;
    if (event === undefined) return invalidEvent(res, 'Event object is not valid JSON');
    const routingKey = req.headers['x-routing-key'] ?? event.routing_key;
    if (typeof routingKey !== 'string' || routingKey === '') {
      return invalidEvent(res, "'routing_key' is missing or blank");
    }
    const script: MagicScript = {
      fail: (status, headers) => {
        if (headers['retry-after']) return sendJson(res, status, { status: 'throttled' }, headers);
        if (status === 200) {
          return sendJson(res, 200, { status: 'success', message: 'Event processed' });
        }
        sendJson(res, status, { status: 'error', message: `simulated ${status}` });
      },
      late: () => sendJson(res, 202, { status: 'success' }),
    };
    if (answerMagic(magicWord(event.payload?.summary ?? event.dedup_key), res, script)) return;
    sendJson(res, 202, {
      status: 'success',
      message: 'Event processed',
      dedup_key: event.dedup_key ?? randomBytes(16).toString('hex'),
    });
  };
  return startSimulator(handle);
}
