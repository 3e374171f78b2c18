import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { Nullable, StrictObject } from '../../src/schemas/common.js';
import { formatFailure, validate } from '../../src/schemas/validate.js';

function message(schema: Parameters<typeof validate>[0], value: unknown, coerceScalars = false) {
  const result = validate(schema, value, { coerceScalars });
  return result.ok ? { value: result.value } : { message: formatFailure(result) };
}

describe('unions', () => {
  const Params = StrictObject({
    index: Nullable(Type.String({ pattern: '^[a-z]+$' }), { default: null }),
    size: Type.Union([Type.Integer(), Type.String()]),
    tags: Type.Optional(Type.Union([Type.Array(Type.String()), Type.String()])),
  });

  it('takes the first branch that fits, applying defaults', () => {
    expect(message(Params, { size: 3 })).toEqual({ value: { index: null, size: 3 } });
    expect(message(Params, { index: 'abc', size: 'x', tags: ['a'] })).toEqual({
      value: { index: 'abc', size: 'x', tags: ['a'] },
    });
    expect(message(Params, { size: 1, tags: 'a' })).toEqual({
      value: { index: null, size: 1, tags: 'a' },
    });
  });

  it('lists every branch, in order, when none takes the value', () => {
    expect(message(Params, { index: 5, size: 1 })).toEqual({
      message:
        '[index]: types that failed validation:\n' +
        '- [index.0]: expected value of type [string] but got [number]\n' +
        '- [index.1]: expected value to equal [null]',
    });
    expect(message(Params, { size: 1.5 })).toEqual({
      message:
        '[size]: types that failed validation:\n' +
        '- [size.0]: expected value of type [integer] but got [1.5]\n' +
        '- [size.1]: expected value of type [string] but got [number]',
    });
  });

  it("reports a fitting branch's own failure beside the others", () => {
    expect(message(Params, { index: 'ABC', size: 1 })).toEqual({
      message:
        '[index]: types that failed validation:\n' +
        '- [index.0]: value [ABC] does not match the pattern [^[a-z]+$]\n' +
        '- [index.1]: expected value to equal [null]',
    });
    expect(message(Params, { size: 1, tags: [1] })).toEqual({
      message:
        '[tags]: types that failed validation:\n' +
        '- [tags.0.0]: expected value of type [string] but got [number]\n' +
        '- [tags.1]: expected value of type [string] but got [Array]',
    });
  });

  it('lets query text reach number and boolean branches', () => {
    const Query = Type.Object({
      page: Type.Union([Type.Null(), Type.Integer()]),
      flag: Type.Union([Type.Null(), Type.Boolean()]),
    });
    expect(message(Query, { page: '2', flag: 'true' }, true)).toEqual({
      value: { page: 2, flag: true },
    });
    expect(message(Query, { page: '2', flag: 'true' })).toEqual({
      message:
        '[page]: types that failed validation:\n' +
        '- [page.0]: expected value to equal [null]\n' +
        '- [page.1]: expected value of type [number] but got [string]',
    });
  });

  it('checks a pattern on every value, the same each time', () => {
    const Name = Type.String({ pattern: '^a' });
    for (let i = 0; i < 3; i++) {
      expect(message(Name, 'ab')).toEqual({ value: 'ab' });
      expect(message(Name, 'ba')).toEqual({
        message: 'value [ba] does not match the pattern [^a]',
      });
    }
  });
});
