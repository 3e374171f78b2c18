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
 * Magic inputs shared by the incident-system simulators, as Kibana's simulators script failures:
 * a value anywhere in the request (path, query or body) reading `respond-with-<what>` makes the
 * vendor fail that way.
 * - `respond-with-<status>` (400, 401, 404, 429, 500, 502, 503): that status with the vendor's
 *   error body (the vendor decides the body, see `VendorErrors`);
 * - `respond-with-429-retry-after`, `respond-with-503-retry-after`: the same with `Retry-After: 30`;
 * - `respond-with-timeout`: the answer comes after 2 s;
 * - `respond-with-reset`: the connection is dropped without an answer;
 * - `respond-with-large`: a 2 MB body;
 * - `respond-with-html`: 200 with an HTML page.
 */

export const RETRY_AFTER_SECONDS = 30;
const SLOW_ANSWER_MS = 2000;
const LARGE_BODY_BYTES = 2 * 1024 * 1024;

const MAGIC = /respond-with-([a-z0-9-]+)/;

export function magicOf(req: RecordedRequest): string | undefined {
  const where = [req.path, [...req.query.values()].join('\n'), req.text].join('\n');
  let text = where;
  try {
    text = decodeURIComponent(where);
  } catch {
    // not percent-encoded text: search it as it is
  }
  return MAGIC.exec(text)?.[1];
}

export interface VendorErrors {
  /** The vendor's body for an error status. */
  body(status: number): unknown;
}

/**
 * Answers the magic failure, if the request carries one; returns true when it did. `answer` is
 * what a normal answer would be, used by the slow variant.
 */
export function answerMagic(
  req: RecordedRequest,
  res: ServerResponse,
  errors: VendorErrors,
  answer: () => void,
): boolean {
  const magic = magicOf(req);
  if (magic === undefined) return false;
  if (magic === 'timeout') {
    answerLater(res, SLOW_ANSWER_MS, answer);
    return true;
  }
  if (magic === 'reset') {
    resetConnection(res);
    return true;
  }
  if (magic === 'large') {
    sendLarge(res, LARGE_BODY_BYTES);
    return true;
  }
  if (magic === 'html') {
    sendText(res, 200, '<html><body>Instance hibernating</body></html>', {
      'content-type': 'text/html;charset=UTF-8',
    });
    return true;
  }
  const status = /^(\d{3})(-retry-after)?$/.exec(magic);
  if (status === null) return false;
  const code = Number(status[1]);
  const headers: Record<string, string> =
    status[2] !== undefined ? { 'retry-after': String(RETRY_AFTER_SECONDS) } : {};
  if (code === 502) {
    sendText(res, 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', {
      'content-type': 'text/html',
      ...headers,
    });
    return true;
  }
  sendJson(res, code, errors.body(code), headers);
  return true;
}
