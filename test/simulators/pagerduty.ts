import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  answerLater,
  type RecordedRequest,
  resetConnection,
  type Simulator,
  sendJson,
  sendLarge,
  startSimulator,
} from './base.js';

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
    const magic = event.payload?.summary ?? event.dedup_key ?? '';
    let match = /^respond-with-429-retry-after-(\d+)$/.exec(magic);
    if (match) {
      return sendJson(res, 429, { status: 'throttled' }, { 'retry-after': match[1] ?? '' });
    }
    match = /^respond-with-(\d{3})$/.exec(magic);
    if (match) {
      const status = Number(match[1]);
      if (status === 200)
        return sendJson(res, 200, { status: 'success', message: 'Event processed' });
      return sendJson(res, status, { status: 'error', message: `simulated ${status}` });
    }
    switch (magic) {
      case 'respond-with-timeout':
        return answerLater(res, 2000, () => sendJson(res, 202, { status: 'success' }));
      case 'respond-with-reset':
        return resetConnection(res);
      case 'respond-with-large':
        return sendLarge(res, 64 * 1024);
    }
    sendJson(res, 202, {
      status: 'success',
      message: 'Event processed',
      dedup_key: event.dedup_key ?? randomBytes(16).toString('hex'),
    });
  };
  return startSimulator(handle);
}
