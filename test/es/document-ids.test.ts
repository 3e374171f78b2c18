import { describe, expect, it } from 'vitest';
import { newDocumentId } from '../../src/es/embedded.js';

/** The milliseconds an id carries in its first 6 bytes. */
const millisOf = (id: string) => Buffer.from(id, 'base64url').readUIntBE(0, 6);

describe('embedded index document ids', () => {
  it('are 20 base64url characters, unique across many', () => {
    const ids = Array.from({ length: 50_000 }, newDocumentId);
    for (const id of ids.slice(0, 100)) expect(id).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carry the time they were made, so ids made together sort together', () => {
    const before = Date.now();
    const ids = Array.from({ length: 1000 }, newDocumentId);
    const after = Date.now();
    const millis = ids.map(millisOf);
    for (const ms of millis) {
      expect(ms).toBeGreaterThanOrEqual(before);
      expect(ms).toBeLessThanOrEqual(after);
    }
    expect([...millis].sort((a, b) => a - b)).toEqual(millis);
    // Ids of the same millisecond share their first 8 characters.
    const sameMs = ids.filter((id) => millisOf(id) === millis[0]);
    expect(new Set(sameMs.map((id) => id.slice(0, 8))).size).toBe(1);
  });
});
