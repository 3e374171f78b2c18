import { type HttpMethod, OutboundError, type OutboundRequest } from '../../http/client.js';
import { fail, isRetryableStatus, retryAfterDate } from '../result.js';
import type { ConnectorHttp, ConnectorResultError, ErrorSource } from '../types.js';

/**
 * Vendor calls as Kibana's incident connectors (Jira, ServiceNow) make them with axios: a non-2xx
 * answer or a failure to get one is an error whose message and code read like axios's, carrying
 * the vendor's answer; the connector wraps that message in its own context and throws. Kibana's
 * framework then reports every such error as `an error occurred while running the action`.
 */

export const RUN_FAILED = 'an error occurred while running the action';

export interface VendorResponse {
  status: number;
  headers: Record<string, string>;
  /** The body parsed as JSON, the text when it is not JSON, '' when empty (as axios reads it). */
  data: unknown;
  method: Lowercase<HttpMethod>;
  url: string;
}

export class VendorRequestError extends Error {
  /** axios's error code: ECONNABORTED (timeout), ECONNRESET, ERR_BAD_REQUEST (4xx), ... */
  code: string | undefined;
  response: VendorResponse | undefined;
  errorSource: ErrorSource | undefined;
  /** The answer was cut at xpack.actions.maxResponseContentLength. */
  readonly tooLarge: boolean;

  constructor(
    message: string,
    options: { code?: string; response?: VendorResponse; tooLarge?: boolean } = {},
  ) {
    super(message);
    this.name = 'VendorRequestError';
    this.code = options.code;
    this.response = options.response;
    this.errorSource = undefined;
    this.tooLarge = options.tooLarge === true;
  }
}

function axiosData(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** axios's code for a request that got no answer. */
function codeOf(err: OutboundError): string | undefined {
  switch (err.code) {
    case 'timeout':
      return 'ECONNABORTED';
    case 'too_large':
      return 'ERR_BAD_RESPONSE';
    case 'aborted':
      return 'ERR_CANCELED';
    case 'invalid_url':
      return 'ERR_INVALID_URL';
    case 'network': {
      if (err.message === 'socket hang up' || err.message.includes('ECONNRESET')) {
        return 'ECONNRESET';
      }
      return /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EPIPE)\b/.exec(err.message)?.[1];
    }
    default:
      return undefined;
  }
}

/**
 * One vendor call. Resolves with a 2xx answer (any answer with `anyStatus`); rejects with a
 * VendorRequestError for any other status (`Request failed with status code N`) or when no
 * answer could be read.
 */
export async function vendorRequest(
  http: ConnectorHttp,
  req: OutboundRequest,
  options: { anyStatus?: boolean } = {},
): Promise<VendorResponse> {
  const method = req.method ?? 'GET';
  let answer: Awaited<ReturnType<ConnectorHttp['request']>>;
  try {
    answer = await http.request({ maxRedirects: 5, ...req, method });
  } catch (err) {
    if (err instanceof OutboundError) {
      const code = codeOf(err);
      throw new VendorRequestError(err.message, {
        ...(code !== undefined ? { code } : {}),
        tooLarge: err.code === 'too_large',
      });
    }
    throw err;
  }
  const response: VendorResponse = {
    status: answer.status,
    headers: answer.headers,
    data: axiosData(answer.text()),
    method: method.toLowerCase() as Lowercase<HttpMethod>,
    url: req.url,
  };
  if (options.anyStatus === true || (answer.status >= 200 && answer.status < 300)) return response;
  throw new VendorRequestError(`Request failed with status code ${answer.status}`, {
    code: answer.status >= 500 ? 'ERR_BAD_RESPONSE' : 'ERR_BAD_REQUEST',
    response,
  });
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Kibana's check of an incident system's answer: JSON (unless 204), an object, and with the
 * fields the caller needs.
 */
export function throwIfResponseIsNotValid(res: VendorResponse, required: readonly string[] = []) {
  if (res.status === 204) return;
  const contentType = res.headers['content-type'] ?? 'undefined';
  if (!contentType.includes('application/json')) {
    throw new Error(
      `Unsupported content type: ${contentType} in ${res.method} ${res.url}. Supported content types: application/json`,
    );
  }
  const data = res.data;
  // axios hands back the text when JSON parsing fails; only that is refused.
  if (typeof data === 'string' && data !== '') throw new Error('Response is not a valid JSON');
  if (required.length === 0) return;
  const missing = new Error(
    `Response is missing at least one of the expected fields: ${required.join(',')}`,
  );
  if (!isPlainRecord(data)) throw missing;
  for (const key of required) if (data[key] === undefined) throw missing;
}

/**
 * The retry hint of a failed run: the vendor's Retry-After moment when it answered 429 or 5xx
 * with one, else true (Kibana retries every thrown failure).
 */
export function retryOf(err: unknown): boolean | Date {
  const e = err as { response?: VendorResponse; retryAt?: Date };
  if (e.retryAt instanceof Date) return e.retryAt;
  const res = e.response;
  if (res !== undefined && isRetryableStatus(res.status))
    return retryAfterDate(res.headers) ?? true;
  return true;
}

/** Kibana's result for an error its executor threw, with the vendor's Retry-After kept. */
export function thrownFailure(err: unknown): ConnectorResultError {
  const e = err as { message?: unknown; errorSource?: ErrorSource };
  return fail(RUN_FAILED, {
    serviceMessage: typeof e.message === 'string' ? e.message : String(err),
    retry: retryOf(err),
    errorSource: e.errorSource ?? 'framework',
  });
}

export function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}
