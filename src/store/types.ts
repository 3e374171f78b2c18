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
  roleDescriptors: Record<string, unknown>;
  metadata: Record<string, unknown>;
  /** Epoch milliseconds. */
  createdAt: number;
  expiration: number | null;
  invalidated: boolean;
}

/** One event-log document (ECS), as Kibana's event log stores it. */
export type EventDoc = Record<string, unknown> & { '@timestamp': string };

export interface StoredEvent {
  spaceId: string;
  savedObjectId: string;
  action: string;
  doc: EventDoc;
}

export interface EventQuery {
  savedObjectId: string;
  spaceId: string;
  page: number;
  perPage: number;
  sortOrder: 'asc' | 'desc';
}

export interface EventPage {
  total: number;
  data: EventDoc[];
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
  list(): Promise<StoredApiKey[]>;
  invalidate(ids: readonly string[]): Promise<string[]>;
}

export interface EventRepository {
  append(events: readonly StoredEvent[]): Promise<void>;
  find(query: EventQuery): Promise<EventPage>;
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
  readonly events: EventRepository;
  readonly indices: IndexRepository;
  /** Writes that caches must forget, from this instance and (shared engines) the others. */
  readonly changes: ChangeFeed;
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
