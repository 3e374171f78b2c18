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
 * Magic inputs, as Kibana's simulators script failures: a request carrying
 * `respond-with-<word>` is answered the way the word says instead of normally. One grammar for
 * every simulator; each says where it looks for the word and how its vendor fails:
 * - `timeout`: the answer comes only after `slowMs` (2 s);
 * - `reset`: the connection is dropped without an answer;
 * - `large`: a 200 body of `largeBytes` (64 KiB);
 * - `<status>`: that status, answered as the vendor answers it (`fail`);
 *   `<status>-retry-after` adds `Retry-After: 30`, `<status>-retry-after-<s>` `Retry-After: <s>`;
 *   where the vendor sends Retry-After with every 429, `429-no-retry-after` leaves it out;
 * - `text-<status>`: that status with a text/plain body;
 * - `html-<status>`: that status with a proxy's HTML page;
 * - any word of the vendor's own (`words`).
 */

export const RETRY_AFTER_SECONDS = 30;
const SLOW_ANSWER_MS = 2000;
const LARGE_BODY_BYTES = 64 * 1024;

const WORD = /respond-with-([a-z0-9-]+)/;
const STATUS_WORD = /^(text-|html-)?(\d{3})(-retry-after(?:-(\d+))?|-no-retry-after)?$/;

/** The word of the first `respond-with-<word>` in the texts. */
export function magicIn(...texts: ReadonlyArray<string | undefined>): string | undefined {
  return WORD.exec(texts.filter((text) => text !== undefined).join('\n'))?.[1];
}

/** The word when the whole text is `respond-with-<word>`. */
export function magicWord(text: string | undefined): string | undefined {
  return /^respond-with-([a-z0-9-]+)$/.exec(text ?? '')?.[1];
}

/** The word anywhere in a request: its path, query values or body, percent-decoded. */
export function requestMagic(req: RecordedRequest): string | undefined {
  const where = [req.path, [...req.query.values()].join('\n'), req.text].join('\n');
  try {
    return magicIn(decodeURIComponent(where));
  } catch {
    // not percent-encoded text: search it as it is
    return magicIn(where);
  }
}

/** A proxy's error page in front of the vendor (`<h1>502 Bad Gateway</h1>`). */
function sendProxyPage(
  res: ServerResponse,
  status: number,
  headers: Record<string, string> = {},
): void {
  sendText(
    res,
    status,
    `<html><body><h1>${status} ${STATUS_CODES[status] ?? ''}</h1></body></html>`,
    {
      'content-type': 'text/html',
      ...headers,
    },
  );
}

/** nginx's error page, as a reverse proxy in front of a self-hosted vendor answers. */
function sendNginxPage(res: ServerResponse, status: number): void {
  const title = `${status} ${status === 503 ? 'Service Temporarily Unavailable' : (STATUS_CODES[status] ?? '')}`;
  sendText(
    res,
    status,
    `<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>nginx</center></body></html>`,
    { 'content-type': 'text/html' },
  );
}

export interface MagicScript {
  /**
   * Answers a scripted status with the headers it must carry (Retry-After); false when the vendor
   * scripts no such status.
   */
  fail(status: number, headers: Record<string, string>, word: string): unknown;
  /** What a `timeout` finally answers: an empty JSON object unless given. */
  late?(): void;
  slowMs?: number;
  largeBytes?: number;
  /** The vendor sends `Retry-After: 30` with every 429. */
  retryAfterOn429?: boolean;
  /** The text/plain body of `text-<status>`. */
  text?: string;
  /** The vendor's own words. */
  words?: Readonly<Record<string, () => void>>;
}

/** Answers the magic word, if there is one the script knows; returns whether it answered. */
export function answerMagic(
  word: string | undefined,
  res: ServerResponse,
  script: MagicScript,
): boolean {
  if (word === undefined) return false;
  const own = script.words?.[word];
  if (own !== undefined) {
    own();
    return true;
  }
  switch (word) {
    case 'timeout':
      answerLater(
        res,
        script.slowMs ?? SLOW_ANSWER_MS,
        script.late ?? (() => sendJson(res, 200, {})),
      );
      return true;
    case 'reset':
      resetConnection(res);
      return true;
    case 'large':
      sendLarge(res, script.largeBytes ?? LARGE_BODY_BYTES);
      return true;
  }
  const match = STATUS_WORD.exec(word);
  if (match === null) return false;
  const [, kind, code, suffix, seconds] = match;
  const status = Number(code);
  const headers: Record<string, string> = {};
  if (suffix?.startsWith('-retry-after')) {
    headers['retry-after'] = seconds ?? String(RETRY_AFTER_SECONDS);
  } else if (suffix === undefined && status === 429 && script.retryAfterOn429 === true) {
    headers['retry-after'] = String(RETRY_AFTER_SECONDS);
  }
  if (kind === 'html-') {
    sendProxyPage(res, status, headers);
    return true;
  }
  if (kind === 'text-') {
    sendText(res, status, script.text ?? 'upstream failure', headers);
    return true;
  }
  return script.fail(status, headers, word) !== false;
}

/**
 * The incident systems (Jira, ServiceNow): the vendor's JSON error body, a proxy page for 502,
 * a 2 MB body for `large`, and `html`, an instance answering 200 with a page (hibernating).
 */
export function incidentSystemScript(
  res: ServerResponse,
  errorBody: (status: number) => unknown,
  answer: () => void,
): MagicScript {
  return {
    fail: (status, headers) =>
      status === 502
        ? sendProxyPage(res, status, headers)
        : sendJson(res, status, errorBody(status), headers),
    late: answer,
    largeBytes: 2 * 1024 * 1024,
    words: {
      html: () =>
        sendText(res, 200, '<html><body>Instance hibernating</body></html>', {
          'content-type': 'text/html;charset=UTF-8',
        }),
    },
  };
}

/**
 * The case-management systems (Resilient, Swimlane, TheHive, XSOAR, a webhook case system): the
 * vendor's JSON error body, nginx's pages for 502 and 503, a 5 s `timeout`, a 256 KiB `large`,
 * and `text`, a 200 with a text/plain body.
 */
export function caseSystemScript(
  res: ServerResponse,
  errorBody: (status: number) => unknown,
): MagicScript {
  return {
    fail: (status, headers) =>
      status === 502 || status === 503
        ? sendNginxPage(res, status)
        : sendJson(res, status, errorBody(status), headers),
    slowMs: 5000,
    largeBytes: 256 * 1024,
    words: { text: () => sendText(res, 200, 'OK') },
  };
}

/**
 * The endpoint-security consoles (SentinelOne, CrowdStrike, Defender for Endpoint): the vendor's
 * JSON error body for any status, and an 8 KiB `large`.
 */
export function endpointScript(
  res: ServerResponse,
  errorBody: (status: number, statusText: string) => unknown,
): MagicScript {
  return {
    fail: (status, headers) =>
      sendJson(res, status, errorBody(status, STATUS_CODES[status] ?? ''), headers),
    largeBytes: 8 * 1024,
  };
}
