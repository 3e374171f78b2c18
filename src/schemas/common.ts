import {
  type ObjectOptions,
  type TLiteral,
  type TProperties,
  type TSchema,
  Type,
} from '@sinclair/typebox';
import { type CheckFailure, withCheck } from './validate.js';

/** An object that refuses unknown keys, as config-schema objects do. */
export function StrictObject<T extends TProperties>(properties: T, options: ObjectOptions = {}) {
  return Type.Object(properties, { additionalProperties: false, ...options });
}

/** `T | null`, config-schema's `schema.nullable`. */
export function Nullable<T extends TSchema>(schema: T, options: { default?: null } = {}) {
  return Type.Union([schema, Type.Null()], options);
}

/** One of a fixed list of strings, reported as config-schema reports a oneOf of literals. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: { default?: T[number]; description?: string } = {},
) {
  return Type.Union(values.map((v) => Type.Literal(v)) as TLiteral<T[number]>[], options);
}

/** A free-form JSON object. */
export const AnyRecord = (options: ObjectOptions = {}) =>
  Type.Record(Type.String(), Type.Unknown(), options);

/**
 * Kibana's empty-string rule for connector bodies: any string, however deep inside objects and
 * arrays, that is empty or only whitespace is refused with `value '' is not valid`.
 */
export function findBlankString(
  value: unknown,
  path: Array<string | number> = [],
): CheckFailure | undefined {
  if (typeof value === 'string') {
    return value.trim() === '' ? { path, message: "value '' is not valid" } : undefined;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findBlankString(item, [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const found = findBlankString(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

export const NonBlankString = (options: { description?: string } = {}) =>
  withCheck(Type.String(options), (v) => findBlankString(v));

export const NonBlankRecord = (options: ObjectOptions = {}) =>
  withCheck(AnyRecord(options), (v) => findBlankString(v));
