import { hostname } from 'node:os';
import { Type } from '@sinclair/typebox';
import { ipFamily, isCidr } from '../http/allowed-hosts.js';
import { DEFAULT_EGRESS_DENY } from '../http/egress.js';
import { AnyRecord, StrictObject } from '../schemas/common.js';
import { formatFailure, typeName, validate } from '../schemas/validate.js';
import { parseByteSize, parseDuration } from './units.js';

/**
 * Every setting the server reads, under Kibana's names. A setting is one entry of SPEC: how to
 * parse it, its default, and a line of help for the README. The typed `Settings` object is
 * derived from this table, so adding a setting is one entry here.
 */

export class SettingError extends Error {
  constructor(key: string, reason: string) {
    super(`[${key}]: ${reason}`);
    this.name = 'SettingError';
  }
}

interface Spec<T> {
  parse(raw: unknown, key: string): T;
  fallback: () => T;
  help: string;
  /** Lists may be given in environment variables as comma-separated text. */
  list?: boolean;
  /** Text settings keep an environment value as written, even when it looks like a number. */
  text?: boolean;
}

const expected = (type: string, raw: unknown) =>
  `expected value of type [${type}] but got [${typeName(raw)}]`;

function str(fallback: string, help: string): Spec<string> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'string') throw new SettingError(key, expected('string', raw));
      return raw;
    },
    fallback: () => fallback,
    help,
    text: true,
  };
}

function optStr(help: string, check?: (v: string) => string | undefined): Spec<string | undefined> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'string') throw new SettingError(key, expected('string', raw));
      const reason = check?.(raw);
      if (reason) throw new SettingError(key, reason);
      return raw;
    },
    fallback: () => undefined,
    help,
    text: true,
  };
}

function bool(fallback: boolean, help: string): Spec<boolean> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'boolean') throw new SettingError(key, expected('boolean', raw));
      return raw;
    },
    fallback: () => fallback,
    help,
  };
}

function int(fallback: number, min: number, max: number, help: string): Spec<number> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'number' || !Number.isInteger(raw)) {
        throw new SettingError(key, expected('number', raw));
      }
      if (raw < min || raw > max) {
        throw new SettingError(key, `value must be between [${min}] and [${max}], got [${raw}]`);
      }
      return raw;
    },
    fallback: () => fallback,
    help,
  };
}

function duration(fallback: string, help: string): Spec<number> {
  return {
    parse(raw, key) {
      const ms = parseDuration(raw);
      if (ms === undefined) {
        throw new SettingError(
          key,
          `expected a duration such as "60s" or "5m", got [${String(raw)}]`,
        );
      }
      return ms;
    },
    fallback: () => parseDuration(fallback) as number,
    help,
  };
}

function bytes(fallback: string, help: string): Spec<number> {
  return {
    parse(raw, key) {
      const n = parseByteSize(raw);
      if (n === undefined) {
        throw new SettingError(
          key,
          `expected a byte size such as "1mb" or 1048576, got [${String(raw)}]`,
        );
      }
      return n;
    },
    fallback: () => parseByteSize(fallback) as number,
    help,
  };
}

function strList(fallback: string[] | undefined, help: string): Spec<string[]>;
function strList(fallback: undefined, help: string): Spec<string[] | undefined>;
function strList(fallback: string[] | undefined, help: string): Spec<string[] | undefined> {
  return {
    parse(raw, key) {
      if (!Array.isArray(raw)) throw new SettingError(key, expected('Array', raw));
      for (const [i, item] of raw.entries()) {
        if (typeof item !== 'string')
          throw new SettingError(`${key}.${i}`, expected('string', item));
      }
      return raw as string[];
    },
    fallback: () => (fallback === undefined ? undefined : [...fallback]),
    help,
    list: true,
  };
}

function fraction(fallback: number, help: string): Spec<number> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'number' || !(raw > 0 && raw <= 1)) {
        throw new SettingError(
          key,
          `expected a number above 0 and at most 1, got [${String(raw)}]`,
        );
      }
      return raw;
    },
    fallback: () => fallback,
    help,
  };
}

function optOneOf<const T extends readonly string[]>(
  values: T,
  help: string,
): Spec<T[number] | undefined> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'string' || !values.includes(raw)) {
        throw new SettingError(
          key,
          `expected one of [${values.join(', ')}] but got [${String(raw)}]`,
        );
      }
      return raw as T[number];
    },
    fallback: () => undefined,
    help,
  };
}

function cidrs(fallback: readonly string[], help: string): Spec<string[]> {
  const list = strList([...fallback], help);
  return {
    ...list,
    parse(raw, key) {
      const entries = list.parse(raw, key);
      for (const [i, entry] of entries.entries()) {
        if (!isCidr(entry) && ipFamily(entry) === undefined) {
          throw new SettingError(
            `${key}.${i}`,
            `expected an IP address or CIDR range, got [${entry}]`,
          );
        }
      }
      return entries;
    },
  } as Spec<string[]>;
}

/** A list of encryption keys, each 32 characters or more. */
function keyList(help: string): Spec<string[]> {
  const list = strList([], help);
  return {
    ...list,
    parse(raw, key) {
      const keys = list.parse(raw, key);
      for (const [i, k] of keys.entries()) {
        if (k.length < 32) {
          throw new SettingError(
            `${key}.${i}`,
            `value has length [${k.length}] but it must have a minimum length of [32].`,
          );
        }
      }
      return keys;
    },
  };
}

function oneOf<const T extends readonly string[]>(
  values: T,
  fallback: T[number],
  help: string,
): Spec<T[number]> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'string' || !values.includes(raw)) {
        throw new SettingError(
          key,
          `expected one of [${values.join(', ')}] but got [${String(raw)}]`,
        );
      }
      return raw as T[number];
    },
    fallback: () => fallback,
    help,
  };
}

function urlCheck(v: string): string | undefined {
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:'
      ? undefined
      : `expected an http(s) URL, got [${v}]`;
  } catch {
    return `expected a URL, got [${v}]`;
  }
}

function urlMap(help: string): Spec<Record<string, string>> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new SettingError(key, expected('object', raw));
      }
      const out: Record<string, string> = {};
      for (const [type, url] of Object.entries(raw)) {
        if (typeof url !== 'string')
          throw new SettingError(`${key}.${type}`, expected('string', url));
        const reason = urlCheck(url);
        if (reason) throw new SettingError(`${key}.${type}`, reason);
        out[type] = url;
      }
      return out;
    },
    fallback: () => ({}),
    help,
  };
}

export const PreconfiguredEntry = StrictObject({
  name: Type.String({ minLength: 1 }),
  actionTypeId: Type.String({ minLength: 1 }),
  config: AnyRecord({ default: {} }),
  secrets: AnyRecord({ default: {} }),
  exposeConfig: Type.Boolean({ default: false }),
});

export interface PreconfiguredConnector {
  id: string;
  name: string;
  actionTypeId: string;
  config: Record<string, unknown>;
  secrets: Record<string, unknown>;
  exposeConfig: boolean;
}

const INVALID_PRECONFIGURED_IDS = new Set(['', '__proto__', 'constructor']);

function preconfigured(help: string): Spec<PreconfiguredConnector[]> {
  return {
    parse(raw, key) {
      if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
        throw new SettingError(key, expected('object', raw));
      }
      const out: PreconfiguredConnector[] = [];
      for (const [id, entry] of Object.entries(raw)) {
        if (INVALID_PRECONFIGURED_IDS.has(id)) {
          throw new SettingError(key, `invalid preconfigured action id "${id}"`);
        }
        const result = validate<Omit<PreconfiguredConnector, 'id'>>(PreconfiguredEntry, entry);
        if (!result.ok) throw new Error(formatFailure(result, `${key}.${id}`));
        out.push({ id, ...result.value });
      }
      return out;
    },
    fallback: () => [],
    help,
  };
}

export const SPEC = {
  'server.port': int(5601, 0, 65535, 'Port to listen on; 0 picks a free one.'),
  'server.host': str('localhost', 'Address to bind.'),
  'server.name': str(hostname(), 'Name shown in /api/status and the kbn-name header.'),
  'server.maxPayload': bytes('1048576', 'Largest request body accepted, in bytes.'),
  'server.publicBaseUrl': optStr('Public URL of this server, used in email footers.', urlCheck),
  'server.shutdownTimeout': duration('30s', 'How long in-flight requests may run after SIGTERM.'),
  'server.xsrf.disableProtection': bool(false, 'Accept unsafe methods without kbn-xsrf.'),
  'server.xsrf.allowlist': strList([], 'Paths exempt from the kbn-xsrf check.'),
  'path.data': str(
    './data',
    'Folder for the embedded database, the server uuid and generated keys.',
  ),
  'logging.root.level': oneOf(
    ['all', 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'off'] as const,
    'info',
    'Log level.',
  ),
  'status.allowAnonymous': bool(
    false,
    'Full /api/status without credentials (else a redacted one).',
  ),
  'xpack.encryptedSavedObjects.encryptionKey': optStr(
    'Key (32+ characters) for connector secrets; generated under path.data when unset.',
    (v) =>
      v.length >= 32
        ? undefined
        : `value has length [${v.length}] but it must have a minimum length of [32].`,
  ),
  'xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys': keyList(
    'Former encryption keys: secrets sealed with them still open, and _rotate_key re-seals them.',
  ),
  'xpack.security.audit.enabled': bool(false, 'Write the audit log (ECS JSON events).'),
  'xpack.security.audit.appender.type': optOneOf(
    ['file', 'console'] as const,
    'Where the audit log goes; default a file audit.log under path.data.',
  ),
  'xpack.security.audit.appender.fileName': optStr('Audit log file, for appender type file.'),
  'xpack.security.audit.appender.layout.type': oneOf(
    ['json'] as const,
    'json',
    'Audit log layout: one ECS JSON document per line.',
  ),
  'server.rateLimiter.enabled': bool(false, 'Limit requests per credential (429 over the limit).'),
  'server.rateLimiter.max': int(
    1000,
    1,
    1_000_000,
    'Requests each credential may make per time window.',
  ),
  'server.rateLimiter.timeWindow': duration('1m', 'The rate limiter time window.'),
  'xpack.actions.allowedHosts': strList(['*'], 'Hostnames connectors may call; "*" allows all.'),
  'xpack.actions.enabledActionTypes': strList(
    ['*'],
    'Connector types that may be used; "*" enables all.',
  ),
  'xpack.actions.preconfigured': preconfigured(
    'Connectors defined in settings, visible in every space.',
  ),
  'xpack.actions.egress.deny': cidrs(
    DEFAULT_EGRESS_DENY,
    'Addresses connectors may never reach (CIDR), even when allowedHosts is "*".',
  ),
  'xpack.actions.maxResponseContentLength': bytes('1mb', 'Largest vendor response body read.'),
  'xpack.actions.responseTimeout': duration('60s', 'Timeout of each vendor request.'),
  'xpack.actions.ssl.verificationMode': oneOf(
    ['none', 'certificate', 'full'] as const,
    'full',
    'TLS verification of vendor servers.',
  ),
  'xpack.actions.webhook.ssl.pfx.enabled': bool(
    true,
    'Whether webhook connectors may authenticate with a PFX certificate.',
  ),
  'xpack.actions.email.domain_allowlist': strList(undefined, 'Email recipient domains allowed.'),
  'xpack.actions.enableFooterInEmail': bool(true, 'Append the footer to emails.'),
  'xpack.actions.microsoftGraphApiUrl': str(
    'https://graph.microsoft.com/v1.0',
    'Microsoft Graph base URL.',
  ),
  'xpack.actions.microsoftGraphApiScope': str(
    'https://graph.microsoft.com/.default',
    'OAuth scope for Microsoft Graph.',
  ),
  'xpack.actions.microsoftExchangeUrl': str(
    'https://login.microsoftonline.com',
    'Microsoft identity platform URL.',
  ),
  'xpack.spaces.maxSpaces': int(1000, 1, 100_000, 'Most spaces that may exist.'),
  'elasticsearch.hosts': strList(
    undefined,
    'Cluster the .index connector writes to; unset: embedded index.',
  ),
  'elasticsearch.username': optStr('Elasticsearch user.'),
  'elasticsearch.password': optStr('Elasticsearch password.'),
  'elasticsearch.apiKey': optStr('Elasticsearch API key (encoded).'),
  'elasticsearch.requestTimeout': duration('30s', 'Elasticsearch request timeout.'),
  'elasticsearch.ssl.verificationMode': oneOf(
    ['none', 'certificate', 'full'] as const,
    'full',
    'TLS verification of Elasticsearch.',
  ),
  'connectors.email.testMessageForApiRuns': bool(
    true,
    "As Kibana: an email run through _execute sends Kibana's test message; false sends the given subject and message.",
  ),
  'connectors.baseUrls': urlMap(
    'Vendor base URL per connector type id, for URLs Kibana hard-codes.',
  ),
  'docs.enabled': bool(false, 'Serve the OpenAPI document and Swagger UI at /api/docs.'),
  'metrics.enabled': bool(true, 'Serve Prometheus metrics at /metrics.'),
  'metrics.allowAnonymous': bool(false, '/metrics without credentials.'),
  'loadShedding.enabled': bool(true, 'Answer 503 with Retry-After while the server is overloaded.'),
  'loadShedding.maxEventLoopDelay': duration(
    '1s',
    'Event-loop delay above which requests are shed.',
  ),
  'loadShedding.maxHeapUsedRatio': fraction(
    0.9,
    'Share of the V8 heap limit above which requests are shed.',
  ),
  'loadShedding.retryAfter': duration('10s', 'Retry-After sent with a shed request.'),
  'store.engine': oneOf(['sqlite', 'postgres'] as const, 'sqlite', 'Where connectors are stored.'),
  'store.postgres.url': optStr('PostgreSQL connection URL (or DATABASE_URL).'),
  'store.postgres.pool.max': int(
    10,
    1,
    1000,
    'Most PostgreSQL connections each instance opens (one more listens for changes).',
  ),
  'store.postgres.statementTimeout': duration(
    '30s',
    'Longest a PostgreSQL statement, or an idle transaction, may run before it is cancelled.',
  ),
  'store.postgres.connectionTimeout': duration(
    '10s',
    'How long to wait to connect to PostgreSQL, or for a free pooled connection.',
  ),
  'xpack.eventLog.retention': duration(
    '90d',
    'How long event-log records (connector runs) are kept; older ones are deleted hourly.',
  ),
} satisfies Record<string, Spec<unknown>>;

export type SettingKey = keyof typeof SPEC;
export type Settings = { readonly [K in SettingKey]: ReturnType<(typeof SPEC)[K]['parse']> };

export function defaultSettings(): Settings {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(SPEC)) out[key] = spec.fallback();
  return out as Settings;
}

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SPEC, key);
}

export function specOf(key: SettingKey): Spec<unknown> {
  return SPEC[key] as Spec<unknown>;
}
