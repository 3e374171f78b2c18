import type { Readable } from 'node:stream';
import type { TSchema } from '@sinclair/typebox';
import type { OutboundStream } from '../../http/client.js';
import { formatFailure, validate } from '../../schemas/validate.js';
import type { ConnectorEnv, ErrorSource, ExecuteContext } from '../types.js';
import {
  AXIOS_ACCEPT,
  assertUrl,
  ensureUrlAllowed,
  isEmptyValue,
  mergeHeaders,
  normalizeUrl,
  retryAtRetryAfter,
  URL_NOT_ALLOWED,
  USER_ERROR_STATUSES,
  type VendorRequest,
  VendorRequestError,
  type VendorResponse,
  vendorRequest,
  vendorStream,
} from './vendor-request.js';

/**
 * The request helper of Kibana's sub-action connectors (SubActionConnector.request), on top of
 * the axios-like vendorRequest: the URL must be http(s) with a host and allowed, it is normalised,
 * the body is JSON (`{}` when empty), the answer may be checked against a response schema, and a
 * failed call is thrown as a VendorRequestError reading `Status code: <n>. Message: <the type's
 * own words>`, which the framework reports with Kibana's generic message.
 */

/** Kibana's getResponseErrorMessage: how a type words a failed call. */
export type ResponseErrorMessage = (error: VendorRequestError) => string;

/**
 * How a family of types calls and reports a failed call. Kibana's own framework retries every
 * thrown failure and blames the user for its user-error statuses (KIBANA_STYLE); types written
 * to this server's retry rule (429 and 5xx only, at the vendor's Retry-After) or to another
 * Kibana type's sources say so here, and their tests pin it.
 */
export interface RequestStyle {
  /**
   * 'always': true, as Kibana's executor; 'retryAfter': true, or the moment a 429 or 5xx names;
   * 'vendor': the vendor's answer decides (429 and 5xx, at Retry-After; no other 4xx).
   */
  retry: 'always' | 'retryAfter' | 'vendor';
  /** 'userStatuses': USER_ERROR_STATUSES are the user's; 'rateLimit': only 429; 'framework': none. */
  errorSource: 'userStatuses' | 'rateLimit' | 'framework';
  /** Headers every call carries unless it gives its own. */
  headers?: Readonly<Record<string, string>>;
}

/** Kibana's own (.opsgenie, .tines, .d3security). */
export const KIBANA_STYLE: RequestStyle = { retry: 'always', errorSource: 'userStatuses' };

/**
 * The generative-AI types (.gen-ai, .bedrock, .gemini): as Kibana, but a 429 or 5xx whose
 * Retry-After names a moment is retried then.
 */
export const AI_STYLE: RequestStyle = { retry: 'retryAfter', errorSource: 'userStatuses' };

/**
 * The case types on the sub-action framework (.resilient, .thehive, .xsoar): the vendor's answer
 * decides the retry, and only a vendor's rate limiting is the user's fault.
 */
export const CASE_STYLE: RequestStyle = { retry: 'vendor', errorSource: 'rateLimit' };

/**
 * The endpoint-security types (.sentinelone, .crowdstrike, .microsoft_defender_endpoint): the
 * vendor's answer decides the retry, no failure is blamed on the user, and every call carries
 * axios's Accept header as Kibana's do (their tests check it; other types' tests pin its absence).
 */
export const ENDPOINT_STYLE: RequestStyle = {
  retry: 'vendor',
  errorSource: 'framework',
  headers: { Accept: AXIOS_ACCEPT },
};

export interface SubActionRequest extends VendorRequest {
  /** The answer's shape; a 2xx answer of another shape fails as Kibana's validation does. */
  responseSchema?: TSchema;
}

type RequestContext = Pick<ExecuteContext, 'http' | 'env'>;

function prepare(env: ConnectorEnv, req: SubActionRequest, style: RequestStyle): VendorRequest {
  assertUrl(req.url);
  ensureUrlAllowed(env, req.url, URL_NOT_ALLOWED.configuring);
  const { responseSchema: _schema, ...call } = req;
  return {
    ...call,
    url: normalizeUrl(req.url),
    headers: mergeHeaders(style.headers, { 'Content-Type': 'application/json' }, req.headers),
    data: isEmptyValue(req.data) ? {} : req.data,
  };
}

function errorSourceOf(status: number | undefined, style: RequestStyle): ErrorSource {
  if (status === undefined) return 'framework';
  switch (style.errorSource) {
    case 'userStatuses':
      return USER_ERROR_STATUSES.has(status) ? 'user' : 'framework';
    case 'rateLimit':
      return status === 429 ? 'user' : 'framework';
    case 'framework':
      return 'framework';
  }
}

function retryOf(error: VendorRequestError, style: RequestStyle): boolean | Date {
  switch (style.retry) {
    case 'always':
      return true;
    case 'retryAfter':
      return retryAtRetryAfter(error);
    case 'vendor':
      return error.retry ?? true;
  }
}

function reported(err: unknown, describe: ResponseErrorMessage, style: RequestStyle): unknown {
  if (!(err instanceof VendorRequestError)) return err;
  return err.reworded(`Status code: ${err.status}. Message: ${describe(err)}`, {
    errorSource: errorSourceOf(err.status, style),
    retry: retryOf(err, style),
  });
}

/** The answer checked against a response schema, as Kibana's sub-action framework checks it. */
function checkResponse(schema: TSchema, data: unknown): void {
  const checked = validate(schema, data);
  if (!checked.ok) throw new Error(`Response validation failed (Error: ${formatFailure(checked)})`);
}

/** One sub-action call whose whole answer is read. */
export async function subActionRequest(
  ctx: RequestContext,
  req: SubActionRequest,
  describe: ResponseErrorMessage,
  style: RequestStyle = KIBANA_STYLE,
): Promise<VendorResponse> {
  let response: VendorResponse;
  try {
    response = await vendorRequest(ctx.http, prepare(ctx.env, req, style));
  } catch (err) {
    throw reported(err, describe, style);
  }
  if (req.responseSchema !== undefined) checkResponse(req.responseSchema, response.data);
  return response;
}

/** One sub-action call whose answer is handed on as a stream (downloads, server-sent events). */
export async function subActionStream(
  ctx: RequestContext,
  req: SubActionRequest,
  describe: ResponseErrorMessage,
  style: RequestStyle = KIBANA_STYLE,
): Promise<OutboundStream> {
  try {
    return await vendorStream(
      ctx.http,
      prepare(ctx.env, req, style),
      ctx.env.settings['xpack.actions.maxResponseContentLength'],
    );
  } catch (err) {
    throw reported(err, describe, style);
  }
}

/** A streamed answer as a sub-action's data: the vendor's bytes, typed as the vendor typed them. */
export function streamData(
  res: OutboundStream,
  fallbackType = 'application/octet-stream',
): Readable & { contentType: string } {
  return Object.assign(res.body, { contentType: res.headers['content-type'] ?? fallbackType });
}

/** The config validator Kibana gives sub-action types for a URL field (urlAllowListValidator). */
export function urlAllowListValidator<K extends string>(key: K) {
  return (config: Readonly<Record<K, string>>, env: ConnectorEnv): void =>
    ensureUrlAllowed(env, config[key], URL_NOT_ALLOWED.validating);
}

/**
 * The AI connectors' config rule: `apiUrl` must be a URL on an allowed host, reported as
 * `Error configuring <label> action: Error: <reason>`.
 */
export function apiUrlRule(label: string) {
  return (config: { apiUrl: string }, env: ConnectorEnv): void => {
    try {
      assertUrl(config.apiUrl);
      ensureUrlAllowed(env, config.apiUrl, URL_NOT_ALLOWED.validating);
    } catch (err) {
      throw new Error(`Error configuring ${label} action: ${String(err)}`);
    }
  };
}
