import type { Readable } from 'node:stream';
import {
  type HttpMethod,
  OutboundError,
  type OutboundErrorCode,
  type OutboundResponse,
  type OutboundStream,
} from '../../http/client.js';
import { fail, retryFor } from '../result.js';
import { MESSAGES } from '../run.js';
import type { AnyConnectorType, ConnectorEnv, ConnectorHttp, ConnectorResult } from '../types.js';

/**
 * Vendor calls as Kibana's sub-action framework makes them (SubActionConnector.request): the URL
 * is checked and normalised, JSON is the default body, and a failed call becomes an error whose
 * message reads `Status code: <n>. Message: <the connector's own description>`. Shared by the
 * endpoint-security connectors (.sentinelone, .crowdstrike, .microsoft_defender_endpoint).
 */

/** axios's default Accept header, which every Kibana connector request carries. */
const DEFAULT_ACCEPT = 'application/json, text/plain, */*';
/** How much of a failed download's body is read to describe the failure. */
const ERROR_BODY_LIMIT = 64 * 1024;

export interface SubActionRequest {
  url: string;
  method?: HttpMethod;
  /** The query string, already serialised (without `?`). */
  query?: string;
  headers?: Record<string, string>;
  /** JSON by default; form-encoded when the Content-Type header says so. Empty means `{}`. */
  data?: unknown;
}

/** What is known about a call that did not succeed, for the connector to describe. */
export interface VendorFailure {
  /** Undefined when no answer could be read (timeout, reset, body too large, ...). */
  status: number | undefined;
  statusText: string;
  headers: Record<string, string>;
  /** The answer's body: parsed JSON, else its text; undefined without an answer. */
  body: unknown;
  /** Lower-case, as axios keeps it in the request config. */
  method: string;
  /** The URL called, without the query string. */
  url: string;
  /** axios's wording: `Request failed with status code 404`, `timeout of 300ms exceeded`, ... */
  message: string;
  code: OutboundErrorCode | undefined;
}

/** A vendor call that failed; the message is what the envelope shows as service_message. */
export class VendorRequestError extends Error {
  readonly failure: VendorFailure;
  constructor(message: string, failure: VendorFailure) {
    super(message);
    this.name = 'VendorRequestError';
    this.failure = failure;
  }
}

export type DescribeFailure = (failure: VendorFailure) => string;

/** Kibana's assertURL. */
export function assertUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new Error(`URL Error: ${(err as Error).message}`);
  }
  if (parsed.hostname === '') throw new Error('URL Error: URL must contain hostname');
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error('URL Error: Invalid protocol');
  }
}

/** The sub-action framework's run-time allowed-hosts check, with its prefix. */
export function ensureRequestAllowed(env: ConnectorEnv, url: string): void {
  try {
    env.allowedHosts.ensureUriAllowed(url);
  } catch (err) {
    throw new Error(`error configuring connector action: ${(err as Error).message}`);
  }
}

/** A single trailing slash dropped and repeated slashes (not those after a scheme) collapsed. */
export function normalizeUrl(url: string): string {
  const trimmed = url.endsWith('/') ? url.slice(0, -1) : url;
  return trimmed.replace(/([^:]\/)\/+/g, '$1');
}

/** The sub-action framework's config validator for a URL field (urlAllowListValidator). */
export function checkUrlAllowed(env: ConnectorEnv, url: string): void {
  try {
    env.allowedHosts.ensureUriAllowed(url);
  } catch (err) {
    throw new Error(`error validating url: ${(err as Error).message}`);
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
export function axiosQuery(params: Record<string, unknown>): string {
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

/** Case-insensitive merge: a later header replaces an earlier one of the same name. */
function mergeHeaders(...sets: Array<Record<string, string> | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const set of sets) {
    if (set === undefined) continue;
    for (const [name, value] of Object.entries(set)) {
      for (const existing of Object.keys(out)) {
        if (existing.toLowerCase() === name.toLowerCase()) delete out[existing];
      }
      out[name] = value;
    }
  }
  return out;
}

function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  return key === undefined ? undefined : headers[key];
}

function isEmpty(data: unknown): boolean {
  if (data === undefined || data === null) return true;
  if (Array.isArray(data) || typeof data === 'string') return data.length === 0;
  if (typeof data === 'object') return Object.keys(data).length === 0;
  return true;
}

function encodeBody(data: unknown, headers: Record<string, string>): string {
  const body = isEmpty(data) ? {} : data;
  const contentType = headerValue(headers, 'content-type') ?? '';
  if (contentType.includes('application/x-www-form-urlencoded') && typeof body === 'object') {
    const form = new URLSearchParams();
    for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
      if (value !== undefined && value !== null) form.append(key, scalarText(value));
    }
    return form.toString();
  }
  return JSON.stringify(body);
}

/** The body as axios hands it over: parsed JSON, else the text. */
export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

interface Prepared {
  url: string;
  fullUrl: string;
  method: HttpMethod;
  headers: Record<string, string>;
  body: string | undefined;
}

function prepare(env: ConnectorEnv, req: SubActionRequest): Prepared {
  assertUrl(req.url);
  ensureRequestAllowed(env, req.url);
  const url = normalizeUrl(req.url);
  const method = req.method ?? 'GET';
  const headers = mergeHeaders(
    { Accept: DEFAULT_ACCEPT, 'Content-Type': 'application/json' },
    req.headers,
  );
  const body = method === 'GET' || method === 'HEAD' ? undefined : encodeBody(req.data, headers);
  const fullUrl = req.query ? `${url}?${req.query}` : url;
  return { url, fullUrl, method, headers, body };
}

function noAnswer(prepared: Prepared, err: OutboundError): VendorFailure {
  return {
    status: undefined,
    statusText: '',
    headers: {},
    body: undefined,
    method: prepared.method.toLowerCase(),
    url: prepared.url,
    message: err.message,
    code: err.code,
  };
}

function statusFailure(
  prepared: Prepared,
  status: number,
  statusText: string,
  headers: Record<string, string>,
  body: unknown,
): VendorFailure {
  return {
    status,
    statusText,
    headers,
    body,
    method: prepared.method.toLowerCase(),
    url: prepared.url,
    message: `Request failed with status code ${status}`,
    code: undefined,
  };
}

function toError(failure: VendorFailure, describe: DescribeFailure): VendorRequestError {
  return new VendorRequestError(
    `Status code: ${failure.status}. Message: ${describe(failure)}`,
    failure,
  );
}

const isSuccess = (status: number) => status >= 200 && status < 300;

/** One vendor call whose answer is read whole; any non-2xx answer throws VendorRequestError. */
export async function subActionRequest(
  http: ConnectorHttp,
  env: ConnectorEnv,
  req: SubActionRequest,
  describe: DescribeFailure,
): Promise<OutboundResponse> {
  const prepared = prepare(env, req);
  let res: OutboundResponse;
  try {
    res = await http.request({
      url: prepared.fullUrl,
      method: prepared.method,
      headers: prepared.headers,
      ...(prepared.body !== undefined ? { body: prepared.body } : {}),
    });
  } catch (err) {
    if (err instanceof OutboundError) throw toError(noAnswer(prepared, err), describe);
    throw err;
  }
  if (!isSuccess(res.status)) {
    const failure = statusFailure(
      prepared,
      res.status,
      res.statusText,
      res.headers,
      parseBody(res.text()),
    );
    throw toError(failure, describe);
  }
  return res;
}

/** The answer's data as a sub-action returns it: parsed JSON, else the text. */
export function responseData(res: OutboundResponse): unknown {
  return parseBody(res.text());
}

async function readLimited(body: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    chunks.push(buffer);
    size += buffer.length;
    if (size >= ERROR_BODY_LIMIT) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, ERROR_BODY_LIMIT);
}

/** One vendor call whose answer is handed on as a stream (file downloads). */
export async function subActionStream(
  http: ConnectorHttp,
  env: ConnectorEnv,
  req: SubActionRequest,
  describe: DescribeFailure,
): Promise<OutboundStream> {
  const prepared = prepare(env, req);
  let res: OutboundStream;
  try {
    res = await http.stream({
      url: prepared.fullUrl,
      method: prepared.method,
      headers: prepared.headers,
      ...(prepared.body !== undefined ? { body: prepared.body } : {}),
    });
  } catch (err) {
    if (err instanceof OutboundError) throw toError(noAnswer(prepared, err), describe);
    throw err;
  }
  if (!isSuccess(res.status)) {
    let body: unknown;
    try {
      body = parseBody(await readLimited(res.body));
    } catch {
      body = undefined;
    }
    throw toError(statusFailure(prepared, res.status, res.statusText, res.headers, body), describe);
  }
  return res;
}

/**
 * The envelope for a failed vendor call: Kibana's generic run error with the connector's
 * description as service_message; retried at the vendor's Retry-After moment, or on 429, 5xx and
 * when no answer came, but not on other 4xx answers, which would fail the same way again.
 */
export function vendorFailureResult(err: VendorRequestError): ConnectorResult {
  const { status, headers } = err.failure;
  return fail(MESSAGES.thrown, {
    serviceMessage: err.message,
    retry: status === undefined ? true : retryFor(status, headers),
    errorSource: 'framework',
  });
}

/** A sub-action type whose failed vendor calls answer with vendorFailureResult. */
export function withVendorFailures(type: AnyConnectorType): AnyConnectorType {
  return {
    ...type,
    async execute(ctx) {
      try {
        return await type.execute(ctx);
      } catch (err) {
        if (err instanceof VendorRequestError) return vendorFailureResult(err);
        throw err;
      }
    },
  };
}

/** A download handed to _execute as a stream, typed as the vendor typed it. */
export function streamData(res: OutboundStream): Readable & { contentType: string } {
  return Object.assign(res.body, {
    contentType: res.headers['content-type'] ?? 'application/octet-stream',
  });
}
