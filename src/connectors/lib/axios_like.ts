import { type HttpMethod, OutboundError, type TlsOptions } from '../../http/client.js';
import { retryFor } from '../result.js';
import type { ConnectorHttp } from '../types.js';

/**
 * Vendor calls with the semantics Kibana's case connectors were written against (axios): the body
 * is parsed as JSON whenever it is JSON, whatever its content type; any status outside 2xx is a
 * failure whose message is `Request failed with status code <n>` and which keeps the answer; a
 * request that got no answer fails with the transport's message and no answer. The failure also
 * carries the retry decision: 429 and 5xx (at the Retry-After moment when given), not other
 * statuses, and true when no answer could be read.
 */

export type LowerMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface VendorResponse {
  status: number;
  statusText: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** Parsed JSON, or the text as received ('' when empty). */
  data: unknown;
  /** As axios keeps them in `response.config`: the lower-case method and the URL called. */
  method: LowerMethod;
  url: string;
}

export class VendorRequestError extends Error {
  /** The vendor's answer, when there was one. */
  readonly response: VendorResponse | undefined;
  /** The transport failure (timeout, network, too_large, ...), when there was no answer. */
  readonly code: string | undefined;

  constructor(message: string, options: { response?: VendorResponse; code?: string } = {}) {
    super(message);
    this.name = 'VendorRequestError';
    this.response = options.response;
    this.code = options.code;
  }

  /** true/false, or the Retry-After moment. */
  get retry(): boolean | Date {
    return this.response === undefined
      ? true
      : retryFor(this.response.status, this.response.headers);
  }
}

/**
 * The retry decision an error carries (a vendor answer's, kept through Kibana's wrapping), or
 * true, Kibana's default for anything thrown.
 */
export function retryOf(err: unknown): boolean | Date {
  const retry = (err as { retry?: unknown } | null | undefined)?.retry;
  return typeof retry === 'boolean' || retry instanceof Date ? retry : true;
}

export interface VendorRequest {
  url: string;
  method: LowerMethod;
  headers: Record<string, string>;
  /** A string is sent as is; anything else as JSON; nothing (or '') sends no body. */
  data?: unknown;
  tls?: TlsOptions;
  timeoutMs?: number;
}

function parseData(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function vendorRequest(
  http: ConnectorHttp,
  req: VendorRequest,
): Promise<VendorResponse> {
  let body: string | undefined;
  if (typeof req.data === 'string') body = req.data === '' ? undefined : req.data;
  else if (req.data !== undefined && req.data !== null) body = JSON.stringify(req.data);
  let answer: Awaited<ReturnType<ConnectorHttp['request']>>;
  try {
    answer = await http.request({
      url: req.url,
      method: req.method.toUpperCase() as HttpMethod,
      headers: req.headers,
      ...(body !== undefined ? { body } : {}),
      ...(req.tls !== undefined ? { tls: req.tls } : {}),
      ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    });
  } catch (err) {
    if (err instanceof OutboundError) throw new VendorRequestError(err.message, { code: err.code });
    throw err;
  }
  const response: VendorResponse = {
    status: answer.status,
    statusText: answer.statusText,
    headers: answer.headers,
    data: parseData(answer.text()),
    method: req.method,
    url: req.url,
  };
  if (response.status < 200 || response.status >= 300) {
    throw new VendorRequestError(`Request failed with status code ${response.status}`, {
      response,
    });
  }
  return response;
}

/** `Basic base64(user:password)`, as Kibana's getBasicAuthHeader builds it. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Kibana's `[Action][<connector name>]: <message>`. */
export function actionErrorMessage(connectorName: string, message: string): string {
  return `[Action][${connectorName}]: ${message}`;
}

/** lodash's isEmpty, as Kibana applies it to request and response bodies. */
export function isEmptyValue(data: unknown): boolean {
  if (data === null || data === undefined) return true;
  if (typeof data === 'string' || Array.isArray(data)) return data.length === 0;
  if (typeof data === 'object') return Object.keys(data).length === 0;
  // lodash isEmpty: numbers and booleans count as empty.
  return true;
}

/**
 * Kibana's throwIfResponseIsNotValid: a 204 is always fine; otherwise the answer must say it is
 * JSON, be an object, and hold each required key (null counts, undefined does not).
 */
export function throwIfResponseIsNotValid(response: VendorResponse, required: string[] = []): void {
  if (response.status === 204) return;
  const contentType = response.headers['content-type'] ?? 'undefined';
  if (!contentType.includes('application/json')) {
    throw new Error(
      `Unsupported content type: ${contentType} in ${response.method} ${response.url}. Supported content types: application/json`,
    );
  }
  const data = response.data;
  if (!isEmptyValue(data) && (typeof data !== 'object' || data === null)) {
    throw new Error('Response is not a valid JSON');
  }
  if (required.length === 0) return;
  const missing = new Error(
    `Response is missing at least one of the expected fields: ${required.join(',')}`,
  );
  if (Array.isArray(data) || typeof data !== 'object' || data === null) throw missing;
  for (const key of required) {
    if ((data as Record<string, unknown>)[key] === undefined) throw missing;
  }
}
