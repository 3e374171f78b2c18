import type { Static, TSchema } from '@sinclair/typebox';
import { formatFailure, validate } from '../../schemas/validate.js';
import type { ConnectorEnv, ConnectorHttp } from '../types.js';
import {
  basicAuthorization,
  isEmptyValue,
  type LowerMethod,
  VendorRequestError,
  type VendorResponse,
  vendorRequest,
} from './axios_like.js';

/**
 * The request helper of Kibana's sub-action framework (SubActionConnector.request): the URL must
 * be http(s) with a host and allowed, it is normalised (one trailing slash dropped, doubled
 * slashes collapsed), the body is JSON (`{}` when empty), the answer is checked against the
 * sub-action's response schema, and a vendor failure's message becomes
 * `Status code: <n>. Message: <the type's own wording>`.
 */

export interface SubActionCall<S extends TSchema> {
  url: string;
  method?: LowerMethod;
  data?: unknown;
  headers?: Record<string, string | null | undefined>;
  auth?: { username: string; password: string };
  responseSchema: S;
  timeoutMs?: number;
}

/** How a type words a failed vendor call (Kibana's getResponseErrorMessage). */
export type ResponseErrorMessage = (error: VendorRequestError) => string;

/** A failed sub-action call: Kibana's message, the retry decision and where the fault lies. */
export class SubActionRequestError extends Error {
  readonly retry: boolean | Date;
  readonly errorSource: 'user' | 'framework';
  readonly response: VendorResponse | undefined;
  constructor(
    message: string,
    options: {
      retry?: boolean | Date;
      errorSource?: 'user' | 'framework';
      response?: VendorResponse;
    },
  ) {
    super(message);
    this.name = 'SubActionRequestError';
    this.retry = options.retry ?? true;
    this.errorSource = options.errorSource ?? 'framework';
    this.response = options.response;
  }
}

const VALID_PROTOCOLS = new Set(['http:', 'https:']);

function assertUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new SubActionRequestError(`URL Error: ${(err as Error).message}`, {});
  }
  if (parsed.hostname === '')
    throw new SubActionRequestError('URL Error: URL must contain hostname', {});
  if (!VALID_PROTOCOLS.has(parsed.protocol)) {
    throw new SubActionRequestError('URL Error: Invalid protocol', {});
  }
}

export function normalizeUrl(url: string): string {
  const withoutTrailingSlash = url.endsWith('/') ? url.slice(0, -1) : url;
  return withoutTrailingSlash.replace(/([^:]\/)\/+/g, '$1');
}

export async function subActionRequest<S extends TSchema>(
  ctx: { http: ConnectorHttp; env: ConnectorEnv },
  call: SubActionCall<S>,
  describe: ResponseErrorMessage,
): Promise<{ data: Static<S>; response: VendorResponse }> {
  assertUrl(call.url);
  try {
    ctx.env.allowedHosts.ensureUriAllowed(call.url);
  } catch (err) {
    throw new SubActionRequestError(
      `error configuring connector action: ${(err as Error).message}`,
      {},
    );
  }
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  for (const [name, value] of Object.entries(call.headers ?? {})) {
    // axios leaves out headers whose value is null or undefined.
    if (value !== null && value !== undefined) headers[name] = value;
  }
  if (call.auth !== undefined) {
    headers.Authorization = basicAuthorization(call.auth.username, call.auth.password);
  }
  let response: VendorResponse;
  try {
    response = await vendorRequest(ctx.http, {
      url: normalizeUrl(call.url),
      method: call.method ?? 'get',
      headers,
      data: isEmptyValue(call.data) ? {} : call.data,
      ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}),
    });
  } catch (err) {
    if (!(err instanceof VendorRequestError)) throw err;
    const status = err.response?.status;
    throw new SubActionRequestError(
      `Status code: ${status === undefined ? 'undefined' : status}. Message: ${describe(err)}`,
      {
        retry: err.retry,
        // Kibana marks a vendor's rate limiting as the user's fault.
        errorSource: status === 429 ? 'user' : 'framework',
        ...(err.response !== undefined ? { response: err.response } : {}),
      },
    );
  }
  const checked = validate<Static<S>>(call.responseSchema, response.data);
  if (!checked.ok) {
    throw new SubActionRequestError(
      `Response validation failed (Error: ${formatFailure(checked)})`,
      {},
    );
  }
  return { data: checked.value, response };
}

/** A plain object of the given type, as a vendor body parsed by axios may be. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
