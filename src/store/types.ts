import type { ChangeFeed } from './changes.js';

/**
 * The storage contract. Every engine (SQLite embedded, PostgreSQL shared) implements it with the
 * same behaviour; the shared contract suite in test/store runs against each.
 */

export interface StoredConnector {
  id: string;
  spaceId: string;
  typeId: string;
  name: string;
  config: Record<string, unknown>;
  /** Encrypted secrets blob (see crypto.ts); null when the connector has none stored. */
  secrets: string | null;
  isMissingSecrets: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ConnectorPatch {
  name: string;
  config: Record<string, unknown>;
  secrets: string | null;
}

/** A space document, in the Spaces API's own (camelCase) shape. */
export interface Space {
  id: string;
  name: string;
  description?: string;
  color?: string;
  initials?: string;
  imageUrl?: string;
  disabledFeatures: string[];
  solution?: string;
  _reserved?: boolean;
}

export interface StoredApiKey {
  id: string;
  name: string;
  /** Slow hash of the key's secret part. */
  hash: string;
  username: string;
  /** The realm the owner authenticated with: `reserved` (elastic) or `native`. */
  realm: string;
  /** Elasticsearch role descriptors by name; empty: the owner's privileges apply unchanged. */
  roleDescriptors: Record<string, unknown>;
  /**
   * The owner's role descriptors when the key was made (Elasticsearch's `limited_by`); null for
   * keys made before it was recorded, which are then limited by the owner's current roles.
   */
  limitedBy: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  /** Epoch milliseconds. */
  createdAt: number;
  expiration: number | null;
  invalidated: boolean;
  /** Epoch milliseconds; null while the key is valid. */
  invalidatedAt: number | null;
}

/** A user of the native realm. The password is kept only as a slow hash. */
export interface StoredUser {
  username: string;
  passwordHash: string;
  roles: string[];
  fullName: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
  enabled: boolean;
}

/** One entry of a role's Kibana privileges, in the roles API's own form. */
export interface KibanaPrivilegeEntry {
  base?: string[];
  feature?: Record<string, string[]>;
  spaces: string[];
}

/** A role as PUT /api/security/role/{name} stores it. */
export interface StoredRole {
  name: string;
  description?: string;
  metadata: Record<string, unknown>;
  /** cluster, indices, run_as, remote_indices, remote_cluster: kept as given. */
  elasticsearch: Record<string, unknown>;
  kibana: KibanaPrivilegeEntry[];
}

/** One event-log document (ECS), as Kibana's event log stores it. */
export type EventDoc = Record<string, unknown> & { '@timestamp': string };

/**
 * One event-log record. `doc` is any JSON value the event log chooses to keep (a run is kept
 * compact and read back as Kibana's documents); `ts` is its time, for retention.
 */
export interface StoredEvent {
  ts: string;
  spaceId: string;
  savedObjectId: string;
  action: string;
  doc: unknown;
}

export interface EventQuery {
  savedObjectId: string;
  spaceId: string;
  /** Rows to skip, in the sort order. */
  offset: number;
  limit: number;
  sortOrder: 'asc' | 'desc';
}

export interface EventPage {
  total: number;
  /** The stored `doc` values. */
  data: unknown[];
}

/** Where one document landed in the embedded index. */
export interface IndexItemResult {
  id: string;
  version: number;
  seqNo: number;
}

export interface IndexHit {
  id: string;
  source: Record<string, unknown>;
}

export class StoreConflictError extends Error {
  constructor(message = 'conflict') {
    super(message);
    this.name = 'StoreConflictError';
  }
}

export interface ConnectorRepository {
  /** Throws StoreConflictError when the id is taken in any space. */
  create(connector: StoredConnector): Promise<void>;
  get(spaceId: string, id: string): Promise<StoredConnector | undefined>;
  list(spaceId: string): Promise<StoredConnector[]>;
  update(spaceId: string, id: string, patch: ConnectorPatch): Promise<StoredConnector | undefined>;
  delete(spaceId: string, id: string): Promise<boolean>;
  /** Every connector of every space, ordered by id: the page after `afterId`. */
  page(afterId: string | undefined, limit: number): Promise<StoredConnector[]>;
  /**
   * Replace a connector's secrets blob only if it still holds `expected` (so a concurrent update
   * is never overwritten); false when it does not.
   */
  replaceSecrets(spaceId: string, id: string, expected: string, secrets: string): Promise<boolean>;
}

export interface SpaceRepository {
  list(): Promise<Space[]>;
  get(id: string): Promise<Space | undefined>;
  count(): Promise<number>;
  /** Throws StoreConflictError when the id is taken. */
  create(space: Space): Promise<void>;
  update(space: Space): Promise<boolean>;
  /** Deletes the space and every connector in it. */
  delete(id: string): Promise<boolean>;
}

export interface ApiKeyRepository {
  create(key: StoredApiKey): Promise<void>;
  get(id: string): Promise<StoredApiKey | undefined>;
  /** Every key, oldest first. */
  list(): Promise<StoredApiKey[]>;
  /** Marks the keys invalidated; returns the ids that were valid until now. */
  invalidate(ids: readonly string[]): Promise<string[]>;
}

export interface UserRepository {
  get(username: string): Promise<StoredUser | undefined>;
  /** Ordered by username. */
  list(): Promise<StoredUser[]>;
  /** Create, or replace the user of that name. */
  put(user: StoredUser): Promise<void>;
  setPassword(username: string, passwordHash: string): Promise<boolean>;
  delete(username: string): Promise<boolean>;
}

export interface RoleRepository {
  get(name: string): Promise<StoredRole | undefined>;
  /** Ordered by name. */
  list(): Promise<StoredRole[]>;
  /** Create, or replace the role of that name. */
  put(role: StoredRole): Promise<void>;
  delete(name: string): Promise<boolean>;
}

export interface EventRepository {
  append(events: readonly StoredEvent[]): Promise<void>;
  find(query: EventQuery): Promise<EventPage>;
  /**
   * Delete up to `limit` records whose `@timestamp` is before `timestamp` (ISO 8601), oldest
   * first (the stores keep a flush's records of one object together, and go by the oldest
   * record of each such chunk); returns how many went. Bounded, so a sweep never holds the
   * store for long.
   */
  deleteBefore(timestamp: string, limit: number): Promise<number>;
}

export interface IndexRepository {
  /** Store each document under a generated id, in order, in one transaction. */
  bulkCreate(
    index: string,
    docs: readonly Record<string, unknown>[],
    newId: () => string,
  ): Promise<IndexItemResult[]>;
  exists(index: string): Promise<boolean>;
  search(index: string, from: number, size: number): Promise<{ total: number; hits: IndexHit[] }>;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  readonly connectors: ConnectorRepository;
  readonly spaces: SpaceRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly users: UserRepository;
  readonly roles: RoleRepository;
  readonly events: EventRepository;
  readonly indices: IndexRepository;
  /** Writes that caches must forget, from this instance and (shared engines) the others. */
  readonly changes: ChangeFeed;
  /**
   * After a bulk rewrite (key rotation): make it durable and leave no superseded copy of a
   * rewritten row in the store's files (SQLite: WAL checkpoint with secure_delete on).
   */
  checkpoint(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_SPACE: Space = {
  id: 'default',
  name: 'Default',
  description: 'This is your default space!',
  color: '#00bfb3',
  disabledFeatures: [],
  _reserved: true,
};
