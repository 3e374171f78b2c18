import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJson, decodeText, encodeJson, encodeText } from '../../src/store/pg-codec.js';

/** PostgreSQL prints a JSONB string's control characters as \u00XX escapes, lower case. */
function asPostgresPrints(jsonText: string): string {
  let out = '';
  for (const c of JSON.stringify(JSON.parse(jsonText))) {
    const code = c.charCodeAt(0);
    out += code > 0 && code < 0x20 ? `\\u${code.toString(16).padStart(4, '0')}` : c;
  }
  return out;
}

const bytes = (s: string) => Buffer.from(s, 'utf8');
const textParts = ['\u0000', '\u0001', '\u0002', 'a', '\\', 'u', '0', 'é', '😀'];
const strings = (parts: string[]) =>
  fc
    .array(fc.oneof(fc.constantFrom(...parts), fc.string()), { maxLength: 8 })
    .map((a) => a.join(''));
/** Text columns hold well-formed text; JSON documents may also carry lone surrogates. */
const text = strings(textParts);
const oddString = strings([...textParts, '\ud800', '\udfff']);

describe('PostgreSQL text and JSON codecs', () => {
  it('round-trips text without NUL in the stored form, keeping byte order', () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        const ea = encodeText(a);
        expect(ea.includes('\u0000')).toBe(false);
        expect(decodeText(ea)).toBe(a);
        expect(Math.sign(Buffer.compare(bytes(ea), bytes(encodeText(b))))).toBe(
          Math.sign(Buffer.compare(bytes(a), bytes(b))),
        );
      }),
      { seed: 20_260_101, numRuns: 2000 },
    );
  });

  it('round-trips any JSON value through what JSONB accepts and prints', () => {
    fc.assert(
      fc.property(
        fc.jsonValue().chain((v) => fc.tuple(fc.constant(v), oddString)),
        ([v, s]) => {
          const value = { [s]: [v, s, { s }] };
          const stored = encodeJson(value);
          expect(stored).not.toMatch(/\\u0000|\\ud[89a-f]/);
          expect(decodeJson(asPostgresPrints(stored))).toEqual(value);
        },
      ),
      { seed: 20_260_102, numRuns: 1000 },
    );
  });
});
