import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, type MagicScript, magicWord } from './magic.js';

/**
 * Opsgenie's Alert API v2: `POST /v2/alerts` and `POST /v2/alerts/<alias>/close?identifierType=alias`,
 * authenticated by `Authorization: GenieKey <API_KEY>`; accepted requests get 202
 * `{result, took, requestId}`. Scripted by the alert `message` (create) or `note` (close):
 * `respond-with-<status>` (422 carries Opsgenie's `errors` object),
 * `respond-with-429-retry-after-<s>`, `respond-with-timeout`, `respond-with-reset`,
 * `respond-with-large`, `respond-with-text-<status>` (a non-JSON answer), `respond-with-odd-body`
 * (202 with a body that is not Opsgenie's shape).
 */

export const OPSGENIE_API_KEY = 'opsgenie-api-key-Xc5';
const TOOK = 0.107;

function answer(res: ServerResponse, status: number, body: Record<string, unknown>, headers = {}) {
  sendJson(res, status, { ...body, took: TOOK, requestId: randomUUID() }, headers);
}

export async function startOpsgenieSimulator(): Promise<Simulator> {
  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const close = /^\/v2\/alerts\/([^/]+)\/close$/.exec(req.path);
    if (req.method !== 'POST' || (req.path !== '/v2/alerts' && close === null)) {
      return answer(res, 404, { message: 'No handler found for the request' });
    }
    if (req.headers.authorization !== `GenieKey ${OPSGENIE_API_KEY}`) {
      return answer(res, 401, { message: 'Could not authenticate' });
    }
    const body = (req.json ?? {}) as { message?: string; note?: string };
    if (close === null && typeof body.message !== 'string') {
      return answer(res, 422, {
        message: 'Request body is not processable. Please check the errors.',
        errors: { message: 'Message can not be empty.' },
      });
    }
    const script: MagicScript = {
      fail: (status, headers) => {
        if (status === 422) {
          return answer(res, 422, {
            message: 'Request body is not processable. Please check the errors.',
            errors: { message: 'Message can not be empty.' },
          });
        }
        const message = headers['retry-after'] ? 'Too many requests' : `simulated ${status}`;
        answer(res, status, { message }, headers);
      },
      late: () => answer(res, 202, { result: 'late' }),
      words: { 'odd-body': () => sendJson(res, 202, { ok: true }) },
    };
    if (answerMagic(magicWord(close === null ? body.message : body.note), res, script)) return;
    answer(res, 202, { result: 'Request will be processed' });
  };
  return startSimulator(handle);
}
