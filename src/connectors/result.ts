import type { Readable } from 'node:stream';
import type { ConnectorResult, ConnectorResultError } from './types.js';

/**
 * Building results, and the one place that decides retry for vendor answers: 429 and 5xx are
 * worth retrying (at the Retry-After moment when the vendor gives one); other statuses are not.
 */

export function ok(data?: unknown): ConnectorResult {
  return data === undefined ? { status: 'ok' } : { status: 'ok', data };
}

/**
 * A successful run whose data is a stream (see streamData in lib/sub-action-request.ts):
 * `_execute` answers 200 with the stream's bytes as they arrive instead of the JSON envelope.
 */
export function isStreamData(data: unknown): data is Readable & { contentType?: string } {
  return (
    typeof data === 'object' &&
    data !== null &&
    typeof (data as Readable).pipe === 'function' &&
    typeof (data as Readable).on === 'function'
  );
}

export function fail(
  message: string,
  options: Omit<ConnectorResultError, 'status' | 'message'> = {},
): ConnectorResultError {
  const result: ConnectorResultError = { status: 'error', message };
  if (options.serviceMessage !== undefined) result.serviceMessage = options.serviceMessage;
  if (options.retry !== undefined) result.retry = options.retry;
  if (options.data !== undefined) result.data = options.data;
  if (options.errorSource !== undefined) result.errorSource = options.errorSource;
  return result;
}

/**
 * The moment named by a Retry-After header: delay-seconds (as Kibana reads it) or an HTTP date.
 * Undefined when absent or unreadable.
 */
export function retryAfterDate(
  headers: Record<string, string>,
  now = Date.now(),
): Date | undefined {
  const value = headers['retry-after'];
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return new Date(now + Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : new Date(at);
}

/**
 * Retry-After as Kibana's Slack, Teams and Torq types read it: the header's leading integer
 * (parseInt), in seconds. Unlike retryAfterDate, an HTTP date (or anything without a leading
 * number) gives nothing, so those types answer "retry later" instead of a date.
 */
export function retryAfterSeconds(headers: Record<string, string>): number | undefined {
  const value = headers['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number.parseInt(value, 10);
  return Number.isNaN(seconds) ? undefined : seconds;
}

/** The moment `seconds` from now, and its ISO text for the message. */
export function retryAt(seconds: number, now = Date.now()): { date: Date; iso: string } {
  const date = new Date(now + seconds * 1000);
  return { date, iso: date.toISOString() };
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** The retry hint for a vendor answer: a date, true for 429/5xx, false otherwise. */
export function retryFor(status: number, headers: Record<string, string>): boolean | Date {
  if (!isRetryableStatus(status)) return false;
  return retryAfterDate(headers) ?? true;
}
