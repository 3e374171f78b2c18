import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';

/**
 * Validation with Kibana's (@kbn/config-schema) messages.
 *
 * TypeBox schemas are walked in declaration order; the first failure wins and is reported as
 * `[<path>]: <reason>`, exactly as config-schema words it. The walk also applies schema defaults
 * and returns a fresh value, so a route handler or connector sees validated data only.
 * Objects are strict unless their schema says `additionalProperties: true` (or a schema):
 * unknown keys are refused, never stripped.
 */

/** A rule a schema cannot say (cross-field, allowed hosts, ...): returns a reason, or nothing. */
export type CustomCheck = (value: unknown) => CheckFailure | string | undefined;
export interface CheckFailure {
  path: ReadonlyArray<string | number>;
  message: string;
}

/** Attach a custom rule to a schema; it runs after the structural checks pass. */
export const CheckKey: unique symbol = Symbol.for('kcs.check');

export function withCheck<T extends TSchema>(schema: T, check: CustomCheck): T {
  return Object.assign(schema, { [CheckKey]: check });
}

type Path = Array<string | number>;

class Failure {
  readonly path: Path;

  constructor(
    /** Copied: the walk keeps one path array, and pushes and pops it as it goes. */
    path: Path,
    readonly reason: string,
    /** A union's failed branches, each with its full path. */
    readonly children?: readonly Failure[],
  ) {
    this.path = [...path];
  }
}

/** `walk` one level down at `key`: the shared path grows for the call and shrinks after it. */
function walkAt(
  schema: TSchema,
  value: unknown,
  path: Path,
  key: string | number,
  coerce: boolean,
): unknown {
  path.push(key);
  const out = walk(schema, value, path, coerce);
  path.pop();
  return out;
}

export interface FailureDetail {
  path: ReadonlyArray<string | number>;
  reason: string;
  children?: readonly FailureDetail[];
}

export type ValidationResult<T = unknown> =
  | { ok: true; value: T }
  | ({ ok: false } & FailureDetail);

export interface ValidateOptions {
  /** Query strings arrive as text: accept "true"/"false" and numbers written as text. */
  coerceScalars?: boolean;
}

export function validate<T = unknown>(
  schema: TSchema,
  value: unknown,
  options: ValidateOptions = {},
): ValidationResult<T> {
  try {
    const out = walk(schema, value, [], options.coerceScalars === true);
    return { ok: true, value: out as T };
  } catch (err) {
    if (err instanceof Failure) {
      return {
        ok: false,
        path: err.path,
        reason: err.reason,
        ...(err.children !== undefined ? { children: err.children } : {}),
      };
    }
    throw err;
  }
}

/**
 * `[a.b]: reason`, or just `reason` at the root; `prefix` gives `[request body.a.b]: reason`.
 * A union's failed branches follow on their own lines, each with its full path (prefixed too)
 * and indented one space per nesting level, as config-schema prints them.
 */
export function formatFailure(failure: FailureDetail, prefix?: string, level = 0): string {
  let reason = failure.reason;
  if (failure.children !== undefined && failure.children.length > 0) {
    const lines = failure.children.map(
      (child) => `${' '.repeat(level)}- ${formatFailure(child, prefix, level + 1)}`,
    );
    reason = `${reason}\n${lines.join('\n')}`;
  }
  const path = failure.path.join('.');
  if (prefix === undefined) return path === '' ? reason : `[${path}]: ${reason}`;
  return `[${path === '' ? prefix : `${prefix}.${path}`}]: ${reason}`;
}

/** config-schema's names for a value's type (type-detect). */
export function typeName(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'Array';
  if (value instanceof Date) return 'Date';
  if (typeof value === 'object') return 'Object';
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function expectedType(type: string, value: unknown): string {
  return `expected value of type [${type}] but got [${typeName(value)}]`;
}

/** A plain assignment, except for `__proto__`, which is kept as an own key as JSON.parse made it. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key !== '__proto__') {
    target[key] = value;
    return;
  }
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

const propertyEntries = new WeakMap<Record<string, TSchema>, Array<[string, TSchema]>>();

/** A schema's properties as entries, listed once per schema rather than on every value. */
function entriesOf(properties: Record<string, TSchema>): Array<[string, TSchema]> {
  let entries = propertyEntries.get(properties);
  if (entries === undefined) {
    entries = Object.entries(properties);
    propertyEntries.set(properties, entries);
  }
  return entries;
}

function runCheck(schema: TSchema, value: unknown, path: Path): void {
  const check = (schema as { [CheckKey]?: CustomCheck })[CheckKey];
  if (check === undefined) return;
  const failed = check(value);
  if (failed === undefined) return;
  if (typeof failed === 'string') throw new Failure(path, failed);
  throw new Failure([...path, ...failed.path], failed.message);
}

function walk(schema: TSchema, value: unknown, path: Path, coerce: boolean): unknown {
  const out = walkStructure(schema, value, path, coerce);
  runCheck(schema, out, path);
  return out;
}

function walkStructure(schema: TSchema, input: unknown, path: Path, coerce: boolean): unknown {
  let value = input;
  if (value === undefined && schema.default !== undefined) {
    // A fresh copy of an object default, so no value shares it; a primitive is its own copy.
    const fallback: unknown = schema.default;
    value =
      typeof fallback === 'object' && fallback !== null ? structuredClone(fallback) : fallback;
  }
  switch (schema[Kind]) {
    case 'Any':
    case 'Unknown':
      return value;
    case 'String':
      return checkString(schema, value, path);
    case 'Number':
    case 'Integer': {
      if (coerce && typeof value === 'string' && value.trim() !== '' && !Number.isNaN(+value)) {
        value = +value;
      }
      return checkNumber(schema, value, path);
    }
    case 'Boolean':
      if (coerce && (value === 'true' || value === 'false')) value = value === 'true';
      if (typeof value !== 'boolean') throw new Failure(path, expectedType('boolean', value));
      return value;
    case 'Null':
      if (value !== null) throw new Failure(path, 'expected value to equal [null]');
      return value;
    case 'Literal':
      if (value !== schema.const) {
        throw new Failure(path, `expected value to equal [${String(schema.const)}]`);
      }
      return value;
    case 'Union':
      return walkUnion(schema, value, path, coerce);
    case 'Array':
      return walkArray(schema, value, path, coerce);
    case 'Record':
      return walkRecord(schema, value, path, coerce);
    case 'Object':
      return walkObject(schema, value, path, coerce);
    default:
      throw new Error(`validate: unsupported schema kind ${String(schema[Kind])}`);
  }
}

function checkString(schema: TSchema, value: unknown, path: Path): string {
  if (typeof value !== 'string') throw new Failure(path, expectedType('string', value));
  const { minLength, maxLength, pattern } = schema as {
    minLength?: number;
    maxLength?: number;
    pattern?: string;
  };
  if (minLength !== undefined && value.length < minLength) {
    throw new Failure(
      path,
      `value has length [${value.length}] but it must have a minimum length of [${minLength}].`,
    );
  }
  if (maxLength !== undefined && value.length > maxLength) {
    throw new Failure(
      path,
      `value has length [${value.length}] but it must have a maximum length of [${maxLength}].`,
    );
  }
  if (pattern !== undefined && !compiled(pattern).test(value)) {
    throw new Failure(path, `value [${value}] does not match the pattern [${pattern}]`);
  }
  if (schema.format === 'uri' && !isUri(value)) {
    throw new Failure(path, 'value must be a valid URI (see RFC 3986).');
  }
  return value;
}

const patterns = new Map<string, RegExp>();

/** A schema's pattern, compiled once (schemas are few and fixed; values are many). */
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (re === undefined) {
    re = new RegExp(pattern);
    patterns.set(pattern, re);
  }
  return re;
}

function isUri(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function checkNumber(schema: TSchema, value: unknown, path: Path): number {
  if (typeof value !== 'number' || Number.isNaN(value)) {
    throw new Failure(path, expectedType('number', value));
  }
  if (schema[Kind] === 'Integer' && !Number.isInteger(value)) {
    throw new Failure(path, `expected value of type [integer] but got [${value}]`);
  }
  const { minimum, maximum } = schema as { minimum?: number; maximum?: number };
  if (minimum !== undefined && value < minimum) {
    throw new Failure(path, `Value must be equal to or greater than [${minimum}].`);
  }
  if (maximum !== undefined && value > maximum) {
    throw new Failure(path, `Value must be equal to or lower than [${maximum}].`);
  }
  return value;
}

/** For a union of literals (an enum), the set of its values: matched without trying each branch. */
const literalSets = new WeakMap<TSchema, ReadonlySet<unknown> | null>();

function literalSet(schema: TSchema, branches: TSchema[]): ReadonlySet<unknown> | null {
  let set = literalSets.get(schema);
  if (set === undefined) {
    const plain = branches.every(
      (b) => b[Kind] === 'Literal' && (b as { [CheckKey]?: unknown })[CheckKey] === undefined,
    );
    set = plain ? new Set(branches.map((b) => b.const)) : null;
    literalSets.set(schema, set);
  }
  return set;
}

/**
 * Whether a union branch can take the value at all, judged by its kind alone: a string is never a
 * number, null never an object. Conservative: true whenever the walk could succeed (an absent
 * value may take the branch's default; query text may become a number or a boolean).
 */
function mayTake(branch: TSchema, value: unknown, coerce: boolean): boolean {
  if (value === undefined) return true;
  switch (branch[Kind]) {
    case 'String':
      return typeof value === 'string';
    case 'Number':
    case 'Integer':
      return typeof value === 'number' || (coerce && typeof value === 'string');
    case 'Boolean':
      return typeof value === 'boolean' || (coerce && typeof value === 'string');
    case 'Null':
      return value === null;
    case 'Literal':
      return value === branch.const;
    case 'Array':
      return Array.isArray(value);
    case 'Object':
    case 'Record':
      return isPlainObject(value);
    default:
      return true;
  }
}

function walkUnion(schema: TSchema, value: unknown, path: Path, coerce: boolean): unknown {
  const branches = (schema.anyOf ?? []) as TSchema[];
  if (literalSet(schema, branches)?.has(value)) return value;
  const depth = path.length;
  // The branches the value's kind fits, in order: the first that takes it wins, as it would in
  // the full walk below, since every branch skipped here fails there. A nullable field left at
  // null settles without a failure thrown for its other branch.
  for (const branch of branches) {
    if (!mayTake(branch, value, coerce)) continue;
    try {
      return walk(branch, value, path, coerce);
    } catch (err) {
      if (!(err instanceof Failure)) throw err;
      path.length = depth;
    }
  }
  // Refused by every branch: each is walked for its reason, listed in order.
  const failures: Failure[] = [];
  for (const [index, branch] of branches.entries()) {
    try {
      return walk(branch, value, path, coerce);
    } catch (err) {
      if (!(err instanceof Failure)) throw err;
      // A failure deep in the branch left its levels on the shared path.
      path.length = depth;
      const inner = err.path.slice(depth);
      failures.push(new Failure([...path, index, ...inner], err.reason, err.children));
    }
  }
  throw new Failure(path, 'types that failed validation:', failures);
}

function walkArray(schema: TSchema, value: unknown, path: Path, coerce: boolean): unknown[] {
  if (!Array.isArray(value)) throw new Failure(path, expectedType('array', value));
  // Items first, then the size: config-schema (Joi) reports a bad item before a bad length.
  const items = schema.items as TSchema;
  const out = value.map((item, index) => walkAt(items, item, path, index, coerce));
  const { minItems, maxItems } = schema as { minItems?: number; maxItems?: number };
  if (minItems !== undefined && value.length < minItems) {
    throw new Failure(
      path,
      `array size is [${value.length}], but cannot be smaller than [${minItems}]`,
    );
  }
  if (maxItems !== undefined && value.length > maxItems) {
    throw new Failure(
      path,
      `array size is [${value.length}], but cannot be greater than [${maxItems}]`,
    );
  }
  return out;
}

function walkRecord(schema: TSchema, value: unknown, path: Path, coerce: boolean): unknown {
  if (!isPlainObject(value)) throw new Failure(path, expectedType('object', value));
  const patterns = Object.values(schema.patternProperties ?? {}) as TSchema[];
  const valueSchema = patterns[0];
  if (valueSchema === undefined || valueSchema[Kind] === 'Any' || valueSchema[Kind] === 'Unknown') {
    return value;
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    setOwn(out, key, walkAt(valueSchema, item, path, key, coerce));
  }
  return out;
}

function walkObject(
  schema: TSchema,
  value: unknown,
  path: Path,
  coerce: boolean,
): Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw new Failure(
      path,
      `expected a plain object value, but found [${typeName(value)}] instead.`,
    );
  }
  const properties = (schema.properties ?? {}) as Record<string, TSchema>;
  const out: Record<string, unknown> = {};
  for (const [key, propSchema] of entriesOf(properties)) {
    const item = Object.hasOwn(value, key) ? value[key] : undefined;
    if (
      item === undefined &&
      propSchema[OptionalKind] === 'Optional' &&
      propSchema.default === undefined
    ) {
      continue;
    }
    const checked = walkAt(propSchema, item, path, key, coerce);
    if (checked !== undefined) setOwn(out, key, checked);
  }
  const extra = schema.additionalProperties as boolean | TSchema | undefined;
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(properties, key)) continue;
    if (extra === true) {
      setOwn(out, key, value[key]);
    } else if (typeof extra === 'object') {
      setOwn(out, key, walkAt(extra, value[key], path, key, coerce));
    } else {
      throw new Failure([...path, key], 'definition for this key is missing');
    }
  }
  return out;
}
