import { typeName } from '../../schemas/validate.js';
import { isPlainRecord } from './vendor-request.js';

/**
 * The free-form field records of incident connectors (Jira `otherFields`, ServiceNow
 * `additional_fields`): an object or its JSON text (config-schema records accept both), whose keys
 * must not name a known incident property and are capped in number.
 */

/** The record, or the reason it is not one. */
export function parseRecord(value: unknown): Record<string, unknown> | string {
  let record = value;
  if (typeof value === 'string') {
    try {
      record = JSON.parse(value) as unknown;
    } catch (err) {
      return (err as Error).message;
    }
  }
  if (!isPlainRecord(record))
    return `expected value of type [object] but got [${typeName(record)}]`;
  return record;
}

/** The validated value as an object (its JSON text parsed), or null. */
export function asRecord(
  value: Record<string, unknown> | string | null,
): Record<string, unknown> | null {
  if (value === null) return null;
  const record = parseRecord(value);
  return typeof record === 'string' ? null : record;
}

export function extraFieldsRule(field: string, reserved: readonly string[], max: number) {
  return (value: unknown): string | undefined => {
    if (value === null) return undefined;
    const record = parseRecord(value);
    if (typeof record === 'string') return record;
    const keys = Object.keys(record);
    const clash = keys.find((key) => reserved.includes(key));
    if (clash !== undefined) {
      return `The following properties cannot be defined inside ${field}: ${clash}.`;
    }
    if (keys.length > max) {
      return `A maximum of ${max} ${max === 1 ? 'field' : 'fields'} in ${field} can be defined at a time.`;
    }
    return undefined;
  };
}
