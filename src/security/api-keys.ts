import { randomBytes } from 'node:crypto';
import { parseDuration } from '../config/units.js';
import { badRequest } from '../errors.js';
import type { ApiKeyRepository, KibanaPrivilegeEntry, StoredApiKey } from '../store/types.js';
import type { Authenticator } from './authenticator.js';
import { ensureSecurityAction, esError, illegalArgument } from './es-errors.js';
import { hashSecret } from './passwords.js';
import type { Principal } from './principal.js';
import { kibanaToApplications } from './privileges.js';
import type { Roles } from './roles.js';

/**
 * API keys as Elasticsearch mints them for Kibana's `POST /internal/security/api_key`: an id, a
 * secret shown once, and `encoded` = base64(id:secret) for `Authorization: ApiKey <encoded>`.
 * Only a slow hash of the secret is stored. A key is limited by its own role descriptors (given
 * in Elasticsearch's form, or in Kibana's `kibana_role_descriptors` form) and by its owner's
 * roles at the time it was made. Listing, querying and invalidating follow Kibana's routes.
 */

export interface KibanaRoleDescriptor {
  elasticsearch: Record<string, unknown>;
  kibana: KibanaPrivilegeEntry[];
}

export interface CreateApiKeyInput {
  name: string;
  expiration?: string;
  roleDescriptors?: Record<string, unknown>;
  kibanaRoleDescriptors?: Record<string, KibanaRoleDescriptor>;
  metadata?: Record<string, unknown>;
}

export interface CreatedApiKey {
  id: string;
  name: string;
  expiration?: number;
  api_key: string;
  encoded: string;
}

/** A key as Elasticsearch's get and query API key APIs show it. */
export interface ApiKeyView {
  id: string;
  name: string;
  type: 'rest';
  creation: number;
  expiration?: number;
  invalidated: boolean;
  invalidation?: number;
  username: string;
  realm: string;
  metadata: Record<string, unknown>;
  role_descriptors: Record<string, unknown>;
  _sort?: Array<string | number | null>;
}

export interface QueryInput {
  query?: Record<string, unknown>;
  size?: number;
  sort?: { field: string; direction: 'asc' | 'desc' };
  filters?: {
    usernames?: string[];
    type?: 'rest' | 'cross_cluster' | 'managed';
    expired?: boolean;
  };
  searchAfter?: Array<string | number | null>;
}

/** Elasticsearch's default page size for the query API key API. */
const DEFAULT_QUERY_SIZE = 10;
/** Kibana's tie-breakers after the requested sort field. */
const SORT_TIEBREAKERS = ['name', 'creation'] as const;
const ROLE_DESCRIPTOR_FIELDS = new Set([
  'cluster',
  'indices',
  'applications',
  'run_as',
  'metadata',
  'transient_metadata',
  'remote_indices',
  'remote_cluster',
  'description',
  'restriction',
  'global',
]);

function parseException(reason: string) {
  return esError(400, 'parse_exception', reason);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** The checks Elasticsearch's role descriptor parser makes that matter here. */
function checkRoleDescriptor(name: string, descriptor: unknown): void {
  if (!isObject(descriptor)) {
    throw parseException(`failed to parse role [${name}]. expected an object`);
  }
  for (const field of Object.keys(descriptor)) {
    if (!ROLE_DESCRIPTOR_FIELDS.has(field)) {
      throw parseException(`failed to parse role [${name}]. unexpected field [${field}]`);
    }
  }
  for (const field of ['cluster', 'run_as'] as const) {
    if (descriptor[field] !== undefined && !isStringArray(descriptor[field])) {
      throw parseException(
        `failed to parse role [${name}]. [${field}] must be an array of strings`,
      );
    }
  }
  const applications = descriptor.applications;
  if (applications === undefined) return;
  const valid =
    Array.isArray(applications) &&
    applications.every(
      (a) =>
        isObject(a) &&
        typeof a.application === 'string' &&
        isStringArray(a.privileges) &&
        isStringArray(a.resources),
    );
  if (!valid) {
    throw parseException(
      `failed to parse application privileges for role [${name}]: each entry needs [application], [privileges] and [resources]`,
    );
  }
}

function fieldValue(key: StoredApiKey, field: string): unknown {
  switch (field) {
    case 'id':
    case 'name':
    case 'username':
    case 'realm':
      return key[field];
    case 'type':
      return 'rest';
    case 'creation':
      return key.createdAt;
    case 'expiration':
      return key.expiration ?? undefined;
    case 'invalidated':
      return key.invalidated;
    default:
      if (field.startsWith('metadata.')) {
        let value: unknown = key.metadata;
        for (const part of field.slice('metadata.'.length).split('.')) {
          value = isObject(value) && Object.hasOwn(value, part) ? value[part] : undefined;
        }
        return value;
      }
      return undefined;
  }
}

class UnsupportedQuery extends Error {
  override readonly name = 'ResponseError';
}

function clauseField(clause: unknown): [string, unknown] {
  if (!isObject(clause)) throw new UnsupportedQuery('[x_content_parse_exception] malformed query');
  const entries = Object.entries(clause);
  const first = entries[0];
  if (entries.length !== 1 || first === undefined) {
    throw new UnsupportedQuery('[x_content_parse_exception] query malformed, expected one field');
  }
  return first;
}

function scalar(spec: unknown, key: string): unknown {
  return isObject(spec) && Object.hasOwn(spec, key) ? spec[key] : spec;
}

function globMatches(pattern: string, value: string): boolean {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's').test(value);
}

function asTime(value: unknown, now: number): number | undefined {
  if (value === 'now') return now;
  return typeof value === 'number' ? value : undefined;
}

/** The subset of Elasticsearch's query DSL the query API key API accepts, evaluated on one key. */
function matchesQuery(key: StoredApiKey, query: unknown, now: number): boolean {
  const [kind, spec] = clauseField(query);
  switch (kind) {
    case 'match_all':
      return true;
    case 'bool': {
      if (!isObject(spec))
        throw new UnsupportedQuery('[x_content_parse_exception] [bool] malformed');
      const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
      const must = [...list(spec.must), ...list(spec.filter)];
      const should = list(spec.should);
      const mustNot = list(spec.must_not);
      if (!must.every((q) => matchesQuery(key, q, now))) return false;
      if (mustNot.some((q) => matchesQuery(key, q, now))) return false;
      const minimum =
        typeof spec.minimum_should_match === 'number'
          ? spec.minimum_should_match
          : must.length === 0 && should.length > 0
            ? 1
            : 0;
      return should.filter((q) => matchesQuery(key, q, now)).length >= minimum;
    }
    case 'term':
    case 'match': {
      const [field, value] = clauseField(spec);
      const wanted = scalar(value, kind === 'term' ? 'value' : 'query');
      return fieldValue(key, field) === wanted;
    }
    case 'terms': {
      const [field, values] = clauseField(spec);
      return Array.isArray(values) && values.includes(fieldValue(key, field));
    }
    case 'prefix': {
      const [field, value] = clauseField(spec);
      const actual = fieldValue(key, field);
      const wanted = scalar(value, 'value');
      return typeof actual === 'string' && typeof wanted === 'string' && actual.startsWith(wanted);
    }
    case 'wildcard': {
      const [field, value] = clauseField(spec);
      const actual = fieldValue(key, field);
      const wanted = scalar(value, 'value');
      return (
        typeof actual === 'string' && typeof wanted === 'string' && globMatches(wanted, actual)
      );
    }
    case 'exists': {
      const field = isObject(spec) ? spec.field : undefined;
      return typeof field === 'string' && fieldValue(key, field) !== undefined;
    }
    case 'range': {
      const [field, bounds] = clauseField(spec);
      const actual = fieldValue(key, field);
      if (typeof actual !== 'number' || !isObject(bounds)) return false;
      const check = (op: string, test: (a: number, b: number) => boolean) => {
        if (bounds[op] === undefined) return true;
        const bound = asTime(bounds[op], now);
        return bound !== undefined && test(actual, bound);
      };
      return (
        check('gt', (a, b) => a > b) &&
        check('gte', (a, b) => a >= b) &&
        check('lt', (a, b) => a < b) &&
        check('lte', (a, b) => a <= b)
      );
    }
    default:
      throw new UnsupportedQuery(`[parsing_exception] unknown query [${kind}]`);
  }
}

function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1;
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

export class ApiKeyService {
  constructor(
    private readonly repo: ApiKeyRepository,
    private readonly roles: Roles,
    private readonly authenticator: Authenticator,
  ) {}

  view(key: StoredApiKey): ApiKeyView {
    return {
      id: key.id,
      name: key.name,
      type: 'rest',
      creation: key.createdAt,
      ...(key.expiration !== null ? { expiration: key.expiration } : {}),
      invalidated: key.invalidated,
      ...(key.invalidatedAt !== null ? { invalidation: key.invalidatedAt } : {}),
      username: key.username,
      realm: key.realm,
      metadata: key.metadata,
      role_descriptors: key.roleDescriptors,
    };
  }

  async create(principal: Principal, input: CreateApiKeyInput): Promise<CreatedApiKey> {
    ensureSecurityAction(principal, 'createApiKey');
    let expiration: number | undefined;
    if (input.expiration !== undefined) {
      const ms = parseDuration(input.expiration);
      if (ms === undefined || !/[a-z]$/i.test(input.expiration.trim())) {
        throw badRequest(
          `failed to parse setting [expiration] with value [${input.expiration}] as a time value: unit is missing or unrecognized`,
        );
      }
      expiration = Date.now() + ms;
    }
    const roleDescriptors: Record<string, unknown> = {};
    for (const [name, descriptor] of Object.entries(input.roleDescriptors ?? {})) {
      checkRoleDescriptor(name, descriptor);
      roleDescriptors[name] = descriptor;
    }
    for (const [name, descriptor] of Object.entries(input.kibanaRoleDescriptors ?? {})) {
      const es = descriptor.elasticsearch;
      roleDescriptors[name] = {
        cluster: es.cluster ?? [],
        indices: es.indices ?? [],
        run_as: es.run_as ?? [],
        ...(es.remote_indices !== undefined ? { remote_indices: es.remote_indices } : {}),
        ...(es.remote_cluster !== undefined ? { remote_cluster: es.remote_cluster } : {}),
        applications: kibanaToApplications(descriptor.kibana),
      };
    }
    const limitedBy = await this.limitedByOf(principal, roleDescriptors);
    const id = randomBytes(15).toString('base64url');
    const secret = randomBytes(16).toString('base64url');
    await this.repo.create({
      id,
      name: input.name,
      hash: await hashSecret(secret),
      username: principal.username,
      realm: principal.realm,
      roleDescriptors,
      limitedBy,
      metadata: input.metadata ?? {},
      createdAt: Date.now(),
      expiration: expiration ?? null,
      invalidated: false,
      invalidatedAt: null,
    });
    return {
      id,
      name: input.name,
      ...(expiration !== undefined ? { expiration } : {}),
      api_key: secret,
      encoded: Buffer.from(`${id}:${secret}`).toString('base64'),
    };
  }

  /**
   * The owner's role descriptors the key is limited by. A key made with another key may not
   * grant anything: Elasticsearch requires an explicit, empty descriptor.
   */
  private async limitedByOf(
    principal: Principal,
    roleDescriptors: Record<string, unknown>,
  ): Promise<Record<string, unknown> | null> {
    if (principal.apiKey === undefined) return this.roles.descriptors(principal.roles);
    const descriptors = Object.values(roleDescriptors);
    const empty =
      descriptors.length > 0 &&
      descriptors.every((d) => isObject(d) && Object.values(d).every((v) => isEmpty(v)));
    if (!empty) {
      throw illegalArgument(
        'creating derived api keys requires an explicit role descriptor that is empty (has no privileges)',
      );
    }
    const parent = await this.repo.get(principal.apiKey.id);
    return parent?.limitedBy ?? null;
  }

  /** The keys a caller may see: every key with manage_api_key or read_security, else its own. */
  private async visible(principal: Principal): Promise<StoredApiKey[]> {
    const all = await this.repo.list();
    if (
      principal.privileges.cluster('manage_api_key') ||
      principal.privileges.cluster('read_security')
    ) {
      return all;
    }
    return all.filter((k) => k.username === principal.username && k.realm === principal.realm);
  }

  /** Kibana's older `GET /internal/security/api_key?isAdmin=`: the valid keys. */
  async list(principal: Principal, isAdmin: boolean): Promise<ApiKeyView[]> {
    ensureSecurityAction(principal, 'getApiKeys', isAdmin ? 'manage_api_key' : undefined);
    const keys = await this.repo.list();
    return keys
      .filter((k) => !k.invalidated)
      .filter((k) => isAdmin || (k.username === principal.username && k.realm === principal.realm))
      .map((k) => this.view(k));
  }

  async hasActive(principal: Principal): Promise<boolean> {
    const now = Date.now();
    return (await this.repo.list()).some(
      (k) =>
        k.username === principal.username &&
        k.realm === principal.realm &&
        !k.invalidated &&
        (k.expiration === null || k.expiration > now),
    );
  }

  /** Kibana's `POST /internal/security/api_key/_query`. */
  async query(principal: Principal, input: QueryInput) {
    ensureSecurityAction(principal, 'queryApiKeys');
    const now = Date.now();
    const visible = await this.visible(principal);
    const valid = visible.filter((k) => !k.invalidated);
    const managed = (k: StoredApiKey) =>
      k.metadata.managed === true || k.name.startsWith('Alerting: ');

    let page: Record<string, unknown>;
    try {
      let matched = valid.filter(
        (k) => input.query === undefined || matchesQuery(k, input.query, now),
      );
      const filters = input.filters;
      if (filters?.type === 'managed') matched = matched.filter(managed);
      else if (filters?.type === 'cross_cluster') matched = [];
      else if (filters?.type === 'rest') matched = matched.filter((k) => !managed(k));
      if (filters?.expired === false) {
        matched = matched.filter((k) => k.expiration === null || k.expiration > now);
      } else if (filters?.expired === true) {
        matched = matched.filter((k) => k.expiration !== null && k.expiration <= now);
      }
      if (filters?.usernames !== undefined && filters.usernames.length > 0) {
        const names = new Set(filters.usernames);
        matched = matched.filter((k) => names.has(k.username));
      }
      const sortFields = input.sort
        ? [input.sort.field, ...SORT_TIEBREAKERS.filter((f) => f !== input.sort?.field)]
        : undefined;
      const directions = sortFields?.map((_f, i) =>
        i === 0 ? (input.sort?.direction ?? 'asc') : 'asc',
      );
      const sortValues = (k: StoredApiKey) =>
        (sortFields ?? []).map((f) => {
          const v = fieldValue(k, f);
          return typeof v === 'string' || typeof v === 'number' ? v : null;
        });
      const compare = (a: readonly unknown[], b: readonly unknown[]) => {
        for (const [i, dir] of (directions ?? []).entries()) {
          const c = compareValues(a[i], b[i]);
          if (c !== 0) return dir === 'desc' ? -c : c;
        }
        return 0;
      };
      if (sortFields !== undefined) {
        matched.sort((a, b) => compare(sortValues(a), sortValues(b)));
      }
      let rest = matched;
      if (input.searchAfter !== undefined && sortFields !== undefined) {
        const after = input.searchAfter;
        rest = matched.filter((k) => compare(sortValues(k), after) > 0);
      }
      const size = input.size ?? DEFAULT_QUERY_SIZE;
      const keys = rest.slice(0, Math.max(0, size)).map((k) => ({
        ...this.view(k),
        ...(sortFields !== undefined ? { _sort: sortValues(k) } : {}),
      }));
      const last = keys.at(-1);
      page = {
        apiKeys: keys.map((k) => (k.name === '' ? { ...k, name: k.id } : k)),
        total: matched.length,
        count: keys.length,
        ...(last?._sort !== undefined ? { searchAfter: last._sort } : {}),
      };
    } catch (err) {
      if (!(err instanceof UnsupportedQuery)) throw err;
      page = { queryError: { name: err.name, message: err.message } };
    }

    const usernames = [...new Set(valid.map((k) => k.username))];
    const expired = valid.filter((k) => k.expiration !== null && k.expiration <= now).length;
    const aggregations: Record<string, unknown> = {
      ...(usernames.length > 0
        ? { usernames: { buckets: usernames.map((key) => ({ key })) } }
        : {}),
      ...(valid.length > 0 ? { types: { buckets: [{ key: 'rest' }] } } : {}),
      expired: { doc_count: expired },
      managed: {
        buckets: {
          metadataBased: { doc_count: valid.filter((k) => k.metadata.managed === true).length },
          namePrefixBased: {
            doc_count: valid.filter((k) => k.name.startsWith('Alerting: ')).length,
          },
        },
      },
    };
    return {
      aggregationTotal: valid.length,
      aggregations,
      canManageCrossClusterApiKeys: false,
      canManageApiKeys: principal.privileges.cluster('manage_api_key'),
      canManageOwnApiKeys: principal.privileges.cluster('manage_own_api_key'),
      ...page,
    };
  }

  /**
   * Kibana's `POST /internal/security/api_key/invalidate`. As Elasticsearch does, an id that is
   * unknown (or, without isAdmin, not the caller's own) invalidates nothing and is no error.
   */
  async invalidate(
    principal: Principal,
    keys: readonly { id: string; name: string }[],
    isAdmin: boolean,
  ) {
    const itemsInvalidated: { id: string; name: string }[] = [];
    const errors: { id: string; name: string; error: Record<string, unknown> }[] = [];
    for (const key of keys) {
      try {
        ensureSecurityAction(
          principal,
          'invalidateApiKeys',
          isAdmin ? 'manage_api_key' : undefined,
        );
        const stored = await this.repo.get(key.id);
        const owned =
          stored !== undefined &&
          stored.username === principal.username &&
          stored.realm === principal.realm;
        if (stored !== undefined && (isAdmin || owned)) await this.repo.invalidate([key.id]);
        this.authenticator.forgetApiKey(key.id);
        itemsInvalidated.push(key);
      } catch (err) {
        const e = err as { statusCode?: number; message: string };
        errors.push({ ...key, error: { statusCode: e.statusCode ?? 500, message: e.message } });
      }
    }
    return { itemsInvalidated, errors };
  }
}

function isEmpty(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (isObject(value)) return Object.keys(value).length === 0;
  return value === undefined || value === null;
}
