import type { Readable } from 'node:stream';
import type { TSchema } from '@sinclair/typebox';
import {
  type HttpMethod,
  OutboundError,
  type OutboundRequest,
  type OutboundResponse,
  type OutboundStream,
  type TlsOptions,
} from '../../http/client.js';
import { formatFailure, validate } from '../../schemas/validate.js';
import { isRetryableStatus, okStream, retryAfterDate } from '../result.js';
import {
  type ConnectorEnv,
  ConnectorError,
  type ErrorSource,
  type ExecuteContext,
} from '../types.js';

/**
 * Vendor calls the way Kibana's sub-action connectors make them (`SubActionConnector.request`):
 * the URL is checked and normalised, the body defaults to `{}`, any non-2xx answer or missing
 * answer is thrown as `Status code: <n>. Message: <vendor rule>`, and the answer is checked
 * against the sub-action's response schema. The AI connectors (.gen-ai, .bedrock, .gemini) share
 * it.
 */

/** What a vendor's message rule sees of a failed call: the parts of Kibana's axios error it reads. */
export interface VendorFailure {
  /** Undefined when no answer was read (timeout, reset, too large...). */
  status?: number;
  statusText?: string;
  /** The answer parsed as JSON, else its text. */
  data?: unknown;
  /** axios's error code when there was no answer (ECONNABORTED, ECONNRESET, ...). */
  code?: string;
  message: string;
}

export type VendorMessageRule = (failure: VendorFailure) => string;

/** HTTP statuses Kibana counts as the user's fault rather than the framework's. */
export const USER_ERROR_STATUSES: ReadonlySet<number> = new Set([
  401, 402, 403, 407, 409, 412, 413, 417, 422, 423, 429, 451,
]);

/** A vendor failure, thrown so the framework reports it with Kibana's generic message. */
export class VendorError extends ConnectorError {
  readonly status: number | undefined;
  constructor(message: string, errorSource: ErrorSource, retry: boolean | Date, status?: number) {
    super(message, errorSource, { retry });
    this.name = 'VendorError';
    this.status = status;
  }
}

/** Kibana's `assertURL`: a parsable http(s) URL with a hostname. */
export function assertUrl(url: string): void {
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
  if (reason !== undefined) throw new Error(`URL Error: ${reason}`);
}

/**
 * The config rule of the AI connectors: `apiUrl` must be a URL on an allowed host, reported as
 * `Error configuring <label> action: Error: <reason>`.
 */
export function apiUrlRule(label: string) {
  return (config: { apiUrl: string }, env: ConnectorEnv): void => {
    try {
      assertUrl(config.apiUrl);
      try {
        env.allowedHosts.ensureUriAllowed(config.apiUrl);
      } catch (err) {
        throw new Error(`error validating url: ${(err as Error).message}`);
      }
    } catch (err) {
      throw new Error(`Error configuring ${label} action: ${String(err)}`);
    }
  };
}

/** A single trailing slash dropped and doubled slashes (not after the scheme) collapsed. */
export function normalizeUrl(url: string): string {
  const trimmed = url.endsWith('/') ? url.slice(0, -1) : url;
  return trimmed.replace(/([^:]\/)\/+/g, '$1');
}

/** Headers merged without regard to case: a later value wins, the first spelling stays. */
export function mergeHeaders(
  ...sets: ReadonlyArray<Readonly<Record<string, string | undefined>> | undefined>
): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const set of sets) {
    for (const [name, value] of Object.entries(set ?? {})) {
      if (value === undefined) continue;
      const lower = name.toLowerCase();
      const existing = names.get(lower);
      if (existing === undefined) names.set(lower, name);
      out[existing ?? name] = value;
    }
  }
  return out;
}

function isEmptyData(data: unknown): boolean {
  if (data === undefined || data === null) return true;
  if (typeof data === 'string') return data.length === 0;
  if (Array.isArray(data)) return data.length === 0;
  if (typeof data === 'object') return Object.keys(data).length === 0;
  // lodash's isEmpty: numbers and booleans are "empty".
  return true;
}

/** The body as Kibana sends it: text verbatim, anything else as JSON, nothing as `{}`. */
export function requestBody(data: unknown): string {
  if (isEmptyData(data)) return '{}';
  return typeof data === 'string' ? data : JSON.stringify(data);
}

/** The answer as axios hands it over: parsed JSON when it parses, else the text. */
export function parseAnswer(text: string): unknown {
  if (text === '') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface VendorCall {
  url: string;
  method?: HttpMethod;
  headers?: Record<string, string | undefined>;
  data?: unknown;
  timeoutMs?: number;
  tls?: TlsOptions;
}

type HttpContext = Pick<ExecuteContext, 'http' | 'env'>;

function prepare(env: ConnectorEnv, call: VendorCall): OutboundRequest {
  assertUrl(call.url);
  try {
    env.allowedHosts.ensureUriAllowed(call.url);
  } catch (err) {
    throw new Error(`error configuring connector action: ${(err as Error).message}`);
  }
  return {
    url: normalizeUrl(call.url),
    method: call.method ?? 'POST',
    headers: mergeHeaders({ 'Content-Type': 'application/json' }, call.headers),
    body: requestBody(call.data),
    ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}),
    ...(call.tls !== undefined ? { tls: call.tls } : {}),
  };
}

/** axios's code for a request that got no answer. */
function axiosCode(err: OutboundError): string | undefined {
  const cause = (err.cause as { code?: unknown } | undefined)?.code;
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
      if (cause === 'UND_ERR_SOCKET') return 'ECONNRESET';
      return typeof cause === 'string' ? cause : undefined;
    default:
      return undefined;
  }
}

function withoutAnswer(err: unknown, rule: VendorMessageRule): unknown {
  if (!(err instanceof OutboundError)) return err;
  const code = axiosCode(err);
  const message = rule({ message: err.message, ...(code !== undefined ? { code } : {}) });
  return new VendorError(`Status code: undefined. Message: ${message}`, 'framework', true);
}

function failedAnswer(
  status: number,
  statusText: string,
  headers: Record<string, string>,
  text: string,
  rule: VendorMessageRule,
): VendorError {
  const message = rule({
    status,
    statusText,
    data: parseAnswer(text),
    message: `Request failed with status code ${status}`,
  });
  // Kibana retries every thrown failure; a vendor's Retry-After says when.
  const retry = isRetryableStatus(status) ? (retryAfterDate(headers) ?? true) : true;
  return new VendorError(
    `Status code: ${status}. Message: ${message}`,
    USER_ERROR_STATUSES.has(status) ? 'user' : 'framework',
    retry,
    status,
  );
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

/** One vendor call whose whole answer is read; non-2xx answers are thrown. */
export async function vendorRequest(
  ctx: HttpContext,
  call: VendorCall,
  rule: VendorMessageRule,
): Promise<OutboundResponse> {
  const request = prepare(ctx.env, call);
  let response: OutboundResponse;
  try {
    response = await ctx.http.request(request);
  } catch (err) {
    throw withoutAnswer(err, rule);
  }
  if (!isSuccess(response.status)) {
    throw failedAnswer(
      response.status,
      response.statusText,
      response.headers,
      response.text(),
      rule,
    );
  }
  return response;
}

async function readCapped(body: Readable, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
      size += buffer.length;
      if (size > max) break;
      chunks.push(buffer);
    }
  } catch {
    // The error body is a nice-to-have; the status alone still tells what failed.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** One vendor call whose answer is handed back as a stream; non-2xx answers are read and thrown. */
export async function vendorStream(
  ctx: HttpContext,
  call: VendorCall,
  rule: VendorMessageRule,
): Promise<OutboundStream> {
  const request = prepare(ctx.env, call);
  let response: OutboundStream;
  try {
    response = await ctx.http.stream(request);
  } catch (err) {
    throw withoutAnswer(err, rule);
  }
  if (!isSuccess(response.status)) {
    const max = ctx.env.settings['xpack.actions.maxResponseContentLength'];
    const text = await readCapped(response.body, max);
    throw failedAnswer(response.status, response.statusText, response.headers, text, rule);
  }
  return response;
}

/** The answer checked against the sub-action's response schema, returned as the vendor sent it. */
export function checkedAnswer(schema: TSchema, response: OutboundResponse): unknown {
  const data = parseAnswer(response.text());
  const checked = validate(schema, data);
  if (!checked.ok) throw new Error(`Response validation failed (Error: ${formatFailure(checked)})`);
  return data;
}

/** A streaming sub-action's data: the vendor's bytes, passed on as they arrive. */
export function streamedAnswer(response: OutboundStream, fallbackType: string): unknown {
  const result = okStream(response.body, response.headers['content-type'] ?? fallbackType);
  return result.status === 'ok' ? result.data : undefined;
}
