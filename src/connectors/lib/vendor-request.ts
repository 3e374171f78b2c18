import type { Readable } from 'node:stream';
import {
  type HttpMethod,
  OutboundError,
  type OutboundErrorCode,
  type OutboundRequest,
  type OutboundResponse,
  type OutboundStream,
  type TlsOptions,
} from '../../http/client.js';
import { isRetryableStatus, retryAfterDate, retryFor } from '../result.js';
import {
  type ConnectorEnv,
  ConnectorError,
  type ConnectorHttp,
  type ErrorSource,
} from '../types.js';

/**
 * Vendor calls as Kibana's connectors make them with axios, through `ctx.http`: the body is
 * encoded as axios encodes it, the answer is parsed as axios parses it, and a call that fails (a
 * status outside 2xx, or no answer at all) rejects with one VendorRequestError that reads like an
 * axios error and carries the vendor's answer. It is a ConnectorError, so when a type lets it go
 * the framework (run.ts) reports it with Kibana's generic message, its errorSource and its retry.
 */

/** axios's default Accept header, which Kibana's axios-based requests carry. */
export const AXIOS_ACCEPT = 'application/json, text/plain, */*';

/** Vendor answers that are the user's to fix (Kibana's httpResponseUserErrorCodes). */
export const USER_ERROR_STATUSES: ReadonlySet<number> = new Set([
  401, 402, 403, 407, 409, 412, 413, 417, 422, 423, 429, 451,
]);

/** How Kibana prefixes an allowed-hosts refusal: in a config validator, and when a call is made. */
export const URL_NOT_ALLOWED = {
  validating: 'error validating url: ',
  configuring: 'error configuring connector action: ',
} as const;

export type RequestMethod = HttpMethod | Lowercase<HttpMethod>;

export interface VendorRequest {
  url: string;
  /** Either case, as axios takes it; GET when absent. */
  method?: RequestMethod;
  /** Names compared without regard to case; null and undefined values are left out, as axios does. */
  headers?: Readonly<Record<string, string | null | undefined>>;
  /** axios `params`: added to the URL, null and undefined left out. */
  params?: Readonly<Record<string, unknown>>;
  /** axios `paramsSerializer`, for vendors that read their query another way. */
  paramsSerializer?: (params: Readonly<Record<string, unknown>>) => string;
  /**
   * Text is sent as it is; anything else as JSON (Content-Type defaulting to JSON), or as a form
   * when the Content-Type says so. Nothing, null or '' sends no body.
   */
  data?: unknown;
  /** Basic credentials, as axios `auth`. */
  auth?: { username: string; password: string };
  timeoutMs?: number;
  tls?: TlsOptions;
  maxRedirects?: number;
}

export interface VendorResponse {
  status: number;
  statusText: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The body parsed as JSON, the text when it is not JSON, '' when empty (as axios reads it). */
  data: unknown;
  /** As axios keeps them in the error's config: the lower-case method and the URL called. */
  method: Lowercase<HttpMethod>;
  url: string;
}

export interface VendorFailureDetails {
  /** axios's error code: ECONNABORTED (timeout), ECONNRESET, ERR_BAD_REQUEST (4xx), ... */
  code?: string | undefined;
  /** The vendor's answer, when there was one. */
  response?: VendorResponse | undefined;
  /** Why no answer was read (timeout, network, too_large, ...), when none was. */
  transport?: OutboundErrorCode | undefined;
  errorSource?: ErrorSource;
  /** The vendor's own decision when absent: see vendorRetry. */
  retry?: boolean | Date;
}

/**
 * The retry decision a vendor's answer carries: 429 and 5xx are worth retrying (at the
 * Retry-After moment when given), other statuses are not; a call that got no answer is.
 */
function vendorRetry(response: VendorResponse | undefined): boolean | Date {
  return response === undefined ? true : retryFor(response.status, response.headers);
}

/** A vendor call that failed: its axios-like message and code, and the vendor's answer. */
export class VendorRequestError extends ConnectorError {
  readonly code: string | undefined;
  readonly response: VendorResponse | undefined;
  readonly transport: OutboundErrorCode | undefined;

  constructor(message: string, details: VendorFailureDetails = {}) {
    super(message, details.errorSource ?? 'framework', {
      retry: details.retry ?? vendorRetry(details.response),
    });
    this.name = 'VendorRequestError';
    this.code = details.code;
    this.response = details.response;
    this.transport = details.transport;
  }

  /** The vendor's status, undefined when no answer was read. */
  get status(): number | undefined {
    return this.response?.status;
  }

  /** The answer was cut at xpack.actions.maxResponseContentLength. */
  get tooLarge(): boolean {
    return this.transport === 'too_large';
  }

  /**
   * The same failure under another message (Kibana rewrites an axios error's message as it
   * climbs), keeping its answer and code; where the fault lies and the retry stay unless given.
   */
  reworded(
    message: string,
    changes: { errorSource?: ErrorSource; retry?: boolean | Date } = {},
  ): VendorRequestError {
    return new VendorRequestError(message, {
      code: this.code,
      response: this.response,
      transport: this.transport,
      errorSource: changes.errorSource ?? this.errorSource,
      retry: changes.retry ?? this.retry ?? true,
    });
  }
}

/**
 * The retry decision an error carries (a vendor answer's, kept through a type's wrapping), or
 * true, Kibana's default for anything thrown.
 */
export function retryOf(err: unknown): boolean | Date {
  const retry = (err as { retry?: unknown } | null | undefined)?.retry;
  return typeof retry === 'boolean' || retry instanceof Date ? retry : true;
}

/**
 * Kibana's executor retries every failure it catches; this server keeps the moment a vendor's
 * Retry-After names on a 429 or 5xx (also when an earlier wrapping already read it).
 */
export function retryAtRetryAfter(err: unknown): boolean | Date {
  const e = err as { response?: VendorResponse; retry?: unknown } | null | undefined;
  const response = e?.response;
  if (response !== undefined && isRetryableStatus(response.status)) {
    return retryAfterDate(response.headers) ?? true;
  }
  return e?.retry instanceof Date ? e.retry : true;
}

/** Kibana's assertURL: a parsable http(s) URL with a hostname. */
export function assertUrl(url: string, prefix = 'URL Error: '): void {
  let reason: string | undefined;
  try {
    const parsed = new URL(url);
    if (!parsed.hostname) reason = 'URL must contain hostname';
    else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      reason = 'Invalid protocol';
    }
  } catch (err) {
    reason = (err as Error).message;
  }
  if (reason !== undefined) throw new Error(`${prefix}${reason}`);
}

/** Kibana's normalizeURL: one trailing slash dropped, repeated slashes (not after a scheme) collapsed. */
export function normalizeUrl(url: string): string {
  return withoutTrailingSlash(url).replace(/([^:]\/)\/+/g, '$1');
}

export function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** xpack.actions.allowedHosts for a URL, the refusal worded after the given prefix. */
export function ensureUrlAllowed(env: ConnectorEnv, url: string, prefix: string): void {
  try {
    env.allowedHosts.ensureUriAllowed(url);
  } catch (err) {
    throw new Error(`${prefix}${(err as Error).message}`);
  }
}

function axiosEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/%3A/gi, ':')
    .replace(/%24/g, '$')
    .replace(/%2C/gi, ',')
    .replace(/%20/g, '+')
    .replace(/%5B/gi, '[')
    .replace(/%5D/gi, ']');
}

function scalarText(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/**
 * axios's default query serialisation: null and undefined dropped, arrays as `key[]=v` pairs,
 * and `: $ , [ ]` and spaces (as `+`) left readable.
 */
export function axiosQuery(params: Readonly<Record<string, unknown>>): string {
  const pairs: string[] = [];
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) {
        if (item === undefined || item === null) continue;
        pairs.push(`${axiosEncode(`${key}[]`)}=${axiosEncode(scalarText(item))}`);
      }
      continue;
    }
    pairs.push(`${axiosEncode(key)}=${axiosEncode(scalarText(value))}`);
  }
  return pairs.join('&');
}

/** The URL with a serialised query added as axios adds it: any fragment dropped, `?` or `&`. */
function withQuery(url: string, query: string): string {
  if (query === '') return url;
  const base = url.split('#')[0] ?? url;
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

/**
 * Headers merged without regard to case: a later value wins under the first spelling; null and
 * undefined values are left out.
 */
export function mergeHeaders(
  ...sets: ReadonlyArray<Readonly<Record<string, string | null | undefined>> | null | undefined>
): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const set of sets) {
    for (const [name, value] of Object.entries(set ?? {})) {
      if (value === undefined || value === null) continue;
      const lower = name.toLowerCase();
      const existing = names.get(lower);
      if (existing === undefined) names.set(lower, name);
      out[existing ?? name] = value;
    }
  }
  return out;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

/** lodash's isEmpty, as Kibana applies it to request and response bodies. */
export function isEmptyValue(data: unknown): boolean {
  if (data === null || data === undefined) return true;
  if (typeof data === 'string' || Array.isArray(data)) return data.length === 0;
  if (typeof data === 'object') return Object.keys(data).length === 0;
  // lodash isEmpty: numbers and booleans count as empty.
  return true;
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as axios hands it over: parsed JSON when it parses, else the text ('' when empty). */
export function parseData(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** `Basic base64(user:password)`, as Kibana's getBasicAuthHeader builds it. */
export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Kibana's `[Action][<connector name>]: <message>`. */
export function actionErrorMessage(connectorName: string, message: string): string {
  return `[Action][${connectorName}]: ${message}`;
}

/**
 * Kibana's throwIfResponseIsNotValid: a 204 is always fine; otherwise the answer must say it is
 * JSON, be an object (axios hands back the text when JSON parsing fails), and hold each required
 * key (null counts, undefined does not).
 */
export function throwIfResponseIsNotValid(
  response: VendorResponse,
  required: readonly string[] = [],
): void {
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
  if (!isPlainRecord(data)) throw missing;
  for (const key of required) if (data[key] === undefined) throw missing;
}

function encodeBody(data: unknown, headers: Record<string, string>): string | undefined {
  if (data === undefined || data === null || data === '') return undefined;
  if (typeof data === 'string') return data;
  const contentType = headerValue(headers, 'content-type');
  if (contentType?.includes('application/x-www-form-urlencoded') && typeof data === 'object') {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      if (value !== undefined && value !== null) form.append(key, scalarText(value));
    }
    return form.toString();
  }
  if (contentType === undefined) headers['Content-Type'] = 'application/json';
  return JSON.stringify(data);
}

function outbound(req: VendorRequest): OutboundRequest {
  const headers = mergeHeaders(req.headers);
  const body = encodeBody(req.data, headers);
  const query = req.params === undefined ? '' : (req.paramsSerializer ?? axiosQuery)(req.params);
  return {
    url: withQuery(req.url, query),
    method: (req.method?.toUpperCase() ?? 'GET') as HttpMethod,
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(req.auth !== undefined ? { auth: req.auth } : {}),
    ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
    ...(req.tls !== undefined ? { tls: req.tls } : {}),
    ...(req.maxRedirects !== undefined ? { maxRedirects: req.maxRedirects } : {}),
  };
}

/** The Node or OpenSSL code of what broke the connection (undici's own codes say less). */
function systemCode(err: OutboundError): string | undefined {
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 3 && typeof cause === 'object' && cause !== null; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('UND_ERR')) return code;
    cause = (cause as { cause?: unknown }).cause;
  }
  return /\b(E[A-Z]{3,})\b/.exec(err.message)?.[1];
}

/** axios's code for a request that got no answer (ECONNABORTED for a timeout, ...). */
export function axiosCode(err: OutboundError): string | undefined {
  switch (err.code) {
    case 'timeout':
      return 'ECONNABORTED';
    case 'too_large':
      return 'ERR_BAD_RESPONSE';
    case 'aborted':
      return 'ERR_CANCELED';
    case 'invalid_url':
      return 'ERR_INVALID_URL';
    case 'network':
      return err.message === 'socket hang up' ? 'ECONNRESET' : systemCode(err);
    default:
      return undefined;
  }
}

function noAnswer(err: unknown): unknown {
  if (!(err instanceof OutboundError)) return err;
  return new VendorRequestError(err.message, { code: axiosCode(err), transport: err.code });
}

function answered(
  req: VendorRequest,
  answer: { status: number; statusText: string; headers: Record<string, string> },
  text: string,
): VendorResponse {
  return {
    status: answer.status,
    statusText: answer.statusText,
    headers: answer.headers,
    data: parseData(text),
    method: (req.method ?? 'GET').toLowerCase() as Lowercase<HttpMethod>,
    url: req.url,
  };
}

function statusFailure(response: VendorResponse): VendorRequestError {
  return new VendorRequestError(`Request failed with status code ${response.status}`, {
    code: response.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST',
    response,
  });
}

const isSuccess = (status: number) => status >= 200 && status < 300;

export interface VendorRequestOptions {
  /** axios `validateStatus`: which statuses resolve (2xx unless given). */
  validateStatus?: (status: number) => boolean;
}

/** One vendor call whose whole answer is read; rejects with a VendorRequestError on failure. */
export async function vendorRequest(
  http: ConnectorHttp,
  req: VendorRequest,
  options: VendorRequestOptions = {},
): Promise<VendorResponse> {
  let answer: OutboundResponse;
  try {
    answer = await http.request(outbound(req));
  } catch (err) {
    throw noAnswer(err);
  }
  const response = answered(req, answer, answer.text());
  if (!(options.validateStatus ?? isSuccess)(response.status)) throw statusFailure(response);
  return response;
}

async function readUpTo(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      chunks.push(buffer);
      size += buffer.length;
      if (size >= max) break;
    }
  } catch {
    // The error body is a nice-to-have; the status alone still tells what failed.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

/**
 * One vendor call whose answer is handed back as a stream (downloads, server-sent events). A
 * failed answer is read, up to `maxErrorBytes`, to describe the failure.
 */
export async function vendorStream(
  http: ConnectorHttp,
  req: VendorRequest,
  maxErrorBytes: number,
): Promise<OutboundStream> {
  let answer: OutboundStream;
  try {
    answer = await http.stream(outbound(req));
  } catch (err) {
    throw noAnswer(err);
  }
  if (!isSuccess(answer.status)) {
    throw statusFailure(answered(req, answer, await readUpTo(answer.body, maxErrorBytes)));
  }
  return answer;
}
