import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoOf } from '../src/time.js';

describe('ISO text of a time', () => {
  it('is what Date#toISOString writes, for any millisecond from 1970 to 9999', () => {
    const max = Date.parse('9999-12-31T23:59:59.999Z') - 2500;
    fc.assert(
      fc.property(fc.integer({ min: 0, max }), fc.integer({ min: 0, max: 2500 }), (ms, later) => {
        expect(isoOf(ms)).toBe(new Date(ms).toISOString());
        // The next time is usually in the same second or the one after.
        expect(isoOf(ms + later)).toBe(new Date(ms + later).toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it('drops a fraction of a millisecond as Date does', () => {
    expect(isoOf(1_700_000_000_123.9)).toBe('2023-11-14T22:13:20.123Z');
    expect(isoOf(999.5)).toBe('1970-01-01T00:00:00.999Z');
  });
});
