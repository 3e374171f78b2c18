import { type ServerResponse, STATUS_CODES } from 'node:http';
import {
  answerLater,
  type RecordedRequest,
  resetConnection,
  sendJson,
  sendLarge,
  sendText,
} from './base.js';

/**
 * The failure scripts shared by the endpoint-security simulators (SentinelOne, CrowdStrike,
 * Defender for Endpoint), in the style of Kibana's own simulators: a request whose query or body
 * carries `respond-with-<what>` is answered that way instead of normally.
 *
 * - `respond-with-<status>` (400, 401, 403, 404, 429, 500, 502, 503): the vendor's error body;
 * - `respond-with-429-retry-after`: 429 with `Retry-After: 30`;
 * - `respond-with-html-502`: a proxy's HTML 502 page;
 * - `respond-with-timeout`: the answer comes after 2 s;
 * - `respond-with-reset`: the connection is dropped;
 * - `respond-with-large`: a 200 body of 8 KiB.
 */

export const RETRY_AFTER_SECONDS = 30;
const SLOW_MS = 2000;
const LARGE_BYTES = 8 * 1024;

const MAGIC = /respond-with-([a-z0-9-]+)/;

/** The magic word in a request's query or body, if any. */
export function findMagic(req: RecordedRequest): string | undefined {
  const where = [...req.query.values(), req.path, req.text].join(' ');
  return MAGIC.exec(where)?.[1];
}

export type ErrorBody = (status: number, statusText: string) => unknown;

/** Answers as the magic word says; false when there is none (or an unknown one). */
export function answerMagic(req: RecordedRequest, res: ServerResponse, errorBody: ErrorBody) {
  const magic = findMagic(req);
  if (magic === undefined) return false;
  if (magic === 'timeout') {
    answerLater(res, SLOW_MS, () => sendJson(res, 200, {}));
    return true;
  }
  if (magic === 'reset') {
    resetConnection(res);
    return true;
  }
  if (magic === 'large') {
    sendLarge(res, LARGE_BYTES);
    return true;
  }
  if (magic === 'html-502') {
    sendText(res, 502, '<html><body><h1>502 Bad Gateway</h1></body></html>', {
      'content-type': 'text/html',
    });
    return true;
  }
  if (magic === '429-retry-after') {
    sendJson(res, 429, errorBody(429, STATUS_CODES[429] ?? ''), {
      'retry-after': String(RETRY_AFTER_SECONDS),
    });
    return true;
  }
  const status = Number(magic);
  if (Number.isInteger(status) && status >= 400 && status < 600) {
    sendJson(res, status, errorBody(status, STATUS_CODES[status] ?? ''));
    return true;
  }
  return false;
}

export function sendBytes(
  res: ServerResponse,
  body: Buffer,
  contentType: string,
  fileName: string,
): void {
  res.writeHead(200, {
    'content-type': contentType,
    'content-length': body.length,
    'content-disposition': `attachment; filename="${fileName}"`,
  });
  res.end(body);
}

/** The request line's target as the client sent it (path and raw query, before any decoding). */
export function rawTarget(res: ServerResponse): string {
  return res.req.url ?? '';
}
