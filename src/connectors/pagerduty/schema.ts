import { Type } from '@sinclair/typebox';
import { Nullable, StrictObject, StringEnum } from '../../schemas/common.js';
import { typeName, withCheck } from '../../schemas/validate.js';

/** Events API v2 limits: https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ */
export const DEDUP_KEY_MAX_LENGTH = 255;
export const SUMMARY_MAX_LENGTH = 1024;

export const EVENT_ACTIONS = ['trigger', 'resolve', 'acknowledge'] as const;
export type EventAction = (typeof EVENT_ACTIONS)[number];
const NEEDS_DEDUP_KEY: ReadonlySet<string> = new Set(['resolve', 'acknowledge']);

export const ConfigSchema = StrictObject({
  apiUrl: Nullable(Type.String(), { default: null }),
});

export const SecretsSchema = StrictObject({
  routingKey: Type.String(),
});

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A record, or JSON text of one (Kibana coerces the text). */
const CustomDetailsSchema = withCheck(Type.Unknown(), (value) => {
  if (isPlainObject(value)) return undefined;
  if (typeof value === 'string') {
    try {
      if (isPlainObject(JSON.parse(value))) return undefined;
    } catch {
      // reported below
    }
    return 'could not parse record value from json input';
  }
  return `expected value of type [object] but got [${typeName(value)}]`;
});

export function customDetailsOf(value: unknown): Record<string, unknown> | undefined {
  if (typeof value === 'string') return JSON.parse(value) as Record<string, unknown>;
  return isPlainObject(value) ? value : undefined;
}

/**
 * Kibana's timestamp rule: blank means none; digits only mean epoch milliseconds; anything else
 * is a date text. Returns the moment, or undefined when there is no timestamp.
 */
export function convertTimestamp(timestamp: string | undefined): number | string | undefined {
  const trimmed = timestamp?.trim();
  if (!trimmed) return undefined;
  const n = Number.parseInt(trimmed, 10);
  return !Number.isNaN(n) && JSON.stringify(n) === trimmed ? n : trimmed;
}

/** The date a converted timestamp names, read as moment.js reads it; NaN when unreadable. */
export function timestampMillis(converted: number | string): number {
  if (typeof converted === 'number') return converted;
  const dateOnly = /^(\d{4})-(\d{2})-(\d{2})$/.exec(converted);
  if (dateOnly) {
    // moment reads a bare date as local midnight, not UTC.
    const [, y, m, d] = dateOnly.map(Number) as [number, number, number, number];
    const local = new Date(y, m - 1, d);
    return local.getMonth() === m - 1 ? local.getTime() : Number.NaN;
  }
  return Date.parse(converted);
}

export const ParamsSchema = withCheck(
  StrictObject({
    eventAction: Type.Optional(StringEnum(EVENT_ACTIONS)),
    dedupKey: Type.Optional(Type.String({ maxLength: DEDUP_KEY_MAX_LENGTH })),
    summary: Type.Optional(Type.String({ maxLength: SUMMARY_MAX_LENGTH })),
    source: Type.Optional(Type.String()),
    severity: Type.Optional(StringEnum(['critical', 'error', 'warning', 'info'])),
    timestamp: Type.Optional(Type.String()),
    component: Type.Optional(Type.String()),
    group: Type.Optional(Type.String()),
    class: Type.Optional(Type.String()),
    links: Type.Optional(Type.Array(StrictObject({ href: Type.String(), text: Type.String() }))),
    customDetails: Type.Optional(CustomDetailsSchema),
  }),
  (value) => {
    const { timestamp, eventAction, dedupKey } = value as {
      timestamp?: string;
      eventAction?: string;
      dedupKey?: string;
    };
    const converted = convertTimestamp(timestamp);
    if (converted !== undefined && Number.isNaN(timestampMillis(converted))) {
      return `error parsing timestamp "${timestamp}"`;
    }
    if (eventAction && NEEDS_DEDUP_KEY.has(eventAction) && !dedupKey) {
      return `DedupKey is required when eventAction is "${eventAction}"`;
    }
    return undefined;
  },
);
