const MILLIS = Array.from({ length: 1000 }, (_, n) => String(n).padStart(3, '0'));
let second = Number.NaN;
/** `YYYY-MM-DDTHH:MM:SS.` of `second`. */
let secondText = '';

/**
 * An epoch-milliseconds time (from 1970 to 9999) as ISO text, as Date#toISOString writes it. The
 * text up to the second is made once per second; times in the same second only add their
 * milliseconds. Log lines and event-log records are stamped with it.
 */
export function isoOf(time: number): string {
  const ms = Math.floor(time);
  const s = Math.floor(ms / 1000);
  if (s !== second) {
    second = s;
    secondText = new Date(s * 1000).toISOString().slice(0, 20);
  }
  return `${secondText}${MILLIS[ms - s * 1000]}Z`;
}
