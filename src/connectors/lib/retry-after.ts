/**
 * Retry-After as Kibana's Slack, Teams and Torq types read it: the leading integer of the header
 * (parseInt), in seconds. An HTTP date, or anything else without a leading number, gives nothing,
 * so those types then answer "retry later" instead of a date.
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
