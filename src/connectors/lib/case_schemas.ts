import { type TNumber, type TString, type TUnion, Type } from '@sinclair/typebox';
import { AnyRecord, Nullable, StrictObject } from '../../schemas/common.js';
import { typeName, withCheck } from '../../schemas/validate.js';

/** Schema pieces and rules the case-management connectors share. */

/** A number, or a string holding one (Kibana coerces these params to numbers). */
export function CoercedNumber() {
  return withCheck(Type.Union([Type.Number(), Type.String()]), (value) =>
    typeof value === 'string' && (value.trim() === '' || Number.isNaN(Number(value)))
      ? `expected value of type [number] but got [string]`
      : undefined,
  );
}

/** The number a CoercedNumber holds. */
export function toNumber(value: number | string): number {
  return typeof value === 'number' ? value : Number(value);
}

function parseJsonObject(text: string): Record<string, unknown> | string {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
    return `expected a plain object value, but found [${typeName(parsed)}] instead.`;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * A free-form object, also accepted as JSON text of one (config-schema records accept both).
 * `rule` sees the object either way.
 */
export function JsonRecord(rule?: (record: Record<string, unknown>) => string | undefined) {
  return withCheck(Type.Union([AnyRecord(), Type.String()]), (value) => {
    const record = typeof value === 'string' ? parseJsonObject(value) : value;
    if (typeof record === 'string') return record;
    return rule?.(record as Record<string, unknown>);
  });
}

/** The object a JsonRecord holds. */
export function toRecord(value: Record<string, unknown> | string): Record<string, unknown> {
  if (typeof value !== 'string') return value;
  const parsed = parseJsonObject(value);
  return typeof parsed === 'string' ? {} : parsed;
}

/** `comments` of a pushToService call. */
export function PushComments() {
  return Nullable(Type.Array(StrictObject({ comment: Type.String(), commentId: Type.String() })), {
    default: null,
  });
}

/**
 * A comment id given as text or as a number. One schema rather than a union, so that a missing
 * id reads `expected value of type [string] but got [undefined]`, as for the other types.
 */
const LooseCommentId = withCheck(Type.Unknown(), (value) =>
  typeof value === 'string' || typeof value === 'number'
    ? undefined
    : `expected value of type [string] but got [${typeName(value)}]`,
) as unknown as TUnion<[TString, TNumber]>;

/** `comments` whose `commentId` may also be a number, as the Swimlane docs example sends it. */
export function PushCommentsWithNumericIds() {
  return Nullable(Type.Array(StrictObject({ comment: Type.String(), commentId: LooseCommentId })), {
    default: null,
  });
}

export interface PushComment {
  comment: string;
  commentId: string | number;
}

/** A string or null, null when absent. */
export const NullableString = () => Nullable(Type.String(), { default: null });

/** What a pushed case answers: the external incident and, when comments were sent, theirs. */
export interface PushResult {
  id: string;
  title: string;
  url: string;
  pushedDate: string;
  comments?: Array<{ commentId: string | number; pushedDate: string }>;
}
