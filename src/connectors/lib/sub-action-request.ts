import type { TSchema } from '@sinclair/typebox';
import { type HttpMethod, OutboundError } from '../../http/client.js';
import { formatFailure, validate } from '../../schemas/validate.js';
import { ConnectorError, type ErrorSource, type ExecuteContext } from '../types.js';

/**
 * The request helper of Kibana's sub-action connectors (SubActionConnector.request): the URL is
 * checked and normalised, JSON is sent, the answer is checked against a response schema, and a
 * failure is thrown as `Status code: <n>. Message: <vendor-specific text>`, which the framework
 * turns into its generic error result.
 */

/** What a vendor-specific error text may use; `message` reads as axios words it. */
export interface VendorFailure {
  status?: number;
  statusText?: string;
  /** The answer, parsed as JSON when it is JSON. */
  body?: unknown;
  message: string;
}

export interface SubActionRequest {
  url: string;
  method?: HttpMethod;
  data?: unknown;
  headers?: Record<string, string>;
  /** Query parameters, added after the URL is normalised (axios `params`). */
  query?: Record<string, string | number>;
  responseSchema: TSchema;
  errorMessage(failure: VendorFailure): string;
}

export interface SubActionResponse<T> {
  status: number;
  data: T;
}

/** Vendor answers that are the user's to fix (Kibana's httpResponseUserErrorCodes). */
export const USER_ERROR_STATUSES: ReadonlySet<number> = new Set([
  401, 402, 403, 407, 409, 412, 413, 417, 422, 423, 429, 451,
]);

export function assertUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new Error(`URL Error: ${(err as Error).message}`);
  }
  if (!parsed.hostname) throw new Error('URL Error: URL must contain hostname');
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error('URL Error: Invalid protocol');
  }
}

/** One trailing slash dropped, repeated slashes (not after a colon) collapsed. */
export function normalizeUrl(url: string): string {
  const trimmed = url.endsWith('/') ? url.slice(0, -1) : url;
  return trimmed.replace(/([^:]\/)\/+/g, '$1');
}

/** axios' parameter encoding: a few characters stay readable. */
function encodeParam(value: string): string {
  return encodeURIComponent(value)
    .replace(/%3A/gi, ':')
    .replace(/%24/g, '$')
    .replace(/%2C/gi, ',')
    .replace(/%20/g, '+')
    .replace(/%5B/gi, '[')
    .replace(/%5D/gi, ']');
}

export function withQuery(url: string, query: Record<string, string | number>): string {
  const pairs = Object.entries(query).map(
    ([k, v]) => `${encodeParam(k)}=${encodeParam(String(v))}`,
  );
  if (pairs.length === 0) return url;
  const base = url.split('#')[0] ?? url;
  return `${base}${base.includes('?') ? '&' : '?'}${pairs.join('&')}`;
}

/** lodash's isEmpty, as Kibana applies it to request data. */
function isEmpty(value: unknown): boolean {
  if (value == null) return true;
  if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return true;
}

/** Where the allowed-hosts check of a sub-action request names its failure. */
export const ALLOWED_HOSTS_PREFIX = 'error configuring connector action: ';

/** The config validator Kibana gives sub-action types for a URL field. */
export function urlAllowListValidator<K extends string>(key: K) {
  return (config: Record<K, unknown>, env: ExecuteContext['env']): void => {
    const url = config[key];
    try {
      env.allowedHosts.ensureUriAllowed(typeof url === 'string' ? url : '');
    } catch (err) {
      throw new Error(`error validating url: ${(err as Error).message}`);
    }
  };
}

export async function subActionRequest<T = unknown>(
  ctx: Pick<ExecuteContext, 'http' | 'env'>,
  req: SubActionRequest,
): Promise<SubActionResponse<T>> {
  assertUrl(req.url);
  try {
    ctx.env.allowedHosts.ensureUriAllowed(req.url);
  } catch (err) {
    throw new Error(ALLOWED_HOSTS_PREFIX + (err as Error).message);
  }
  const url = withQuery(normalizeUrl(req.url), req.query ?? {});
  const data = isEmpty(req.data) ? {} : req.data;
  let res: Awaited<ReturnType<ExecuteContext['http']['request']>>;
  try {
    res = await ctx.http.request({
      url,
      method: req.method ?? 'GET',
      headers: { 'Content-Type': 'application/json', ...req.headers },
      body: typeof data === 'string' ? data : JSON.stringify(data),
    });
  } catch (err) {
    if (!(err instanceof OutboundError)) throw err;
    // axios has no status to show when no answer came.
    throw new ConnectorError(
      `Status code: undefined. Message: ${req.errorMessage({ message: err.message })}`,
      'framework',
    );
  }
  const body: unknown = res.json() ?? res.text();
  if (res.status < 200 || res.status >= 300) {
    const source: ErrorSource = USER_ERROR_STATUSES.has(res.status) ? 'user' : 'framework';
    const text = req.errorMessage({
      status: res.status,
      statusText: res.statusText,
      body,
      message: `Request failed with status code ${res.status}`,
    });
    throw new ConnectorError(`Status code: ${res.status}. Message: ${text}`, source);
  }
  const checked = validate(req.responseSchema, body);
  if (!checked.ok) {
    throw new Error(`Response validation failed (Error: ${formatFailure(checked)})`);
  }
  return { status: res.status, data: body as T };
}
