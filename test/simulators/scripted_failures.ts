import type { ServerResponse } from 'node:http';
import {
  answerLater,
  type RecordedRequest,
  resetConnection,
  sendJson,
  sendLarge,
  sendText,
} from './base.js';

/**
 * The magic inputs the case-management simulators share, as Kibana's simulators script failures:
 * a request whose body holds `respond-with-<what>` (in a title, name, summary...) is answered that
 * way instead of normally.
 *
 * - `respond-with-<status>` (400, 403, 404, 409, 422, 429, 500, 502, 503): that status, with the
 *   vendor's error body (502 and 503 come from a proxy in front of the vendor: HTML);
 * - `respond-with-429-retry-after`: 429 with `Retry-After: 30`;
 * - `respond-with-timeout`: the answer comes after 5 s;
 * - `respond-with-reset`: the connection is dropped without an answer;
 * - `respond-with-large`: a 256 KiB body;
 * - `respond-with-text`: 200 with a text/plain body.
 */

export const RETRY_AFTER_SECONDS = 30;
const SLOW_ANSWER_MS = 5000;
const LARGE_BODY_BYTES = 256 * 1024;

const MAGIC = /respond-with-([a-z0-9-]+)/;

export function magicOf(req: RecordedRequest): string | undefined {
  return MAGIC.exec(req.text)?.[1];
}

const PROXY_PAGE = (status: number, text: string) =>
  `<html><head><title>${status} ${text}</title></head><body><center><h1>${status} ${text}</h1></center><hr><center>nginx</center></body></html>`;

/**
 * Answers the scripted failure the request asks for, if any. `errorBody` gives the vendor's JSON
 * error body for a status. Returns whether it answered.
 */
export function answerScripted(
  req: RecordedRequest,
  res: ServerResponse,
  errorBody: (status: number) => unknown,
): boolean {
  const magic = magicOf(req);
  if (magic === undefined) return false;
  switch (magic) {
    case '429-retry-after':
      sendJson(res, 429, errorBody(429), { 'retry-after': String(RETRY_AFTER_SECONDS) });
      return true;
    case '502':
      sendText(res, 502, PROXY_PAGE(502, 'Bad Gateway'), { 'content-type': 'text/html' });
      return true;
    case '503':
      sendText(res, 503, PROXY_PAGE(503, 'Service Temporarily Unavailable'), {
        'content-type': 'text/html',
      });
      return true;
    case 'timeout':
      answerLater(res, SLOW_ANSWER_MS, () => sendJson(res, 200, {}));
      return true;
    case 'reset':
      resetConnection(res);
      return true;
    case 'large':
      sendLarge(res, LARGE_BODY_BYTES);
      return true;
    case 'text':
      sendText(res, 200, 'OK');
      return true;
    default: {
      const status = Number(magic);
      if (!Number.isInteger(status) || status < 400 || status > 599) return false;
      sendJson(res, status, errorBody(status));
      return true;
    }
  }
}

/** Basic credentials of a request, or undefined. */
export function basicCredentials(
  req: RecordedRequest,
): { username: string; password: string } | undefined {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
