/** Kibana-style durations ("60s", "5m", "500ms", "1d") and byte sizes ("1mb", "512kb"). */

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** Milliseconds, or undefined when the text is not a duration. A bare number is milliseconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?$/i.exec(value.trim());
  if (!match) return undefined;
  const unit = (match[2] ?? 'ms').toLowerCase();
  const factor = DURATION_UNITS[unit];
  return factor === undefined ? undefined : Math.round(Number(match[1]) * factor);
}

const BYTE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1024,
  mb: 1024 ** 2,
  gb: 1024 ** 3,
  tb: 1024 ** 4,
};

/** Bytes, or undefined when the text is not a byte size. A bare number is bytes. */
export function parseByteSize(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|tb)?$/i.exec(value.trim());
  if (!match) return undefined;
  const factor = BYTE_UNITS[(match[2] ?? 'b').toLowerCase()];
  return factor === undefined ? undefined : Math.floor(Number(match[1]) * factor);
}
