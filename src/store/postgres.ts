import { randomUUID } from 'node:crypto';
import {
  Client,
  type ClientBase,
  type CustomTypesConfig,
  type Notification,
  Pool,
  type PoolClient,
  types,
} from 'pg';
import type { Logger } from 'pino';
import { ChangeFeed, type StoreChange } from './changes.js';
import { type ChunkRecord, chunksOf, pageOf, withoutOldest } from './event-chunks.mjs';
import {
  decodeJson,
  decodeNullableText,
  decodeText,
  encodeJson,
  encodeNullableText,
  encodeText,
} from './pg-codec.js';
import {
  type ApiKeyRepository,
  type ConnectorRepository,
  DEFAULT_SPACE,
  type EventPage,
  type EventQuery,
  type EventRepository,
  type IndexItemResult,
  type IndexRepository,
  type RoleRepository,
  type Space,
  type SpaceRepository,
  type Store,
  StoreConflictError,
  type StoredApiKey,
  type StoredConnector,
  type StoredRole,
  type StoredUser,
  type UserRepository,
} from './types.js';

/**
 * The shared store: one PostgreSQL database behind any number of instances.
 *
 * Same tables and the same answers as the SQLite engine (the contract suite runs on both):
 * text keys compare byte-wise (COLLATE "C", as SQLite's BINARY), lists come back in the order
 * SQLite gives (insertion order through an identity column, or the key), documents are JSONB.
 * A write commits before it is acknowledged (synchronous_commit, PostgreSQL's default).
 *
 * Caches on every instance stay right through the change feed: a write that caches must forget
 * is published on this instance's feed at once and NOTIFYed, in the same statement or
 * transaction, to the others, which publish it on theirs. A LISTEN connection that drops cannot
 * know what it missed, so every loss and every reconnection publishes `{kind: 'all'}`.
 */

export interface PostgresStoreOptions {
  url: string;
  /** Most connections the pool opens (the LISTEN connection comes on top). */
  poolSize: number;
  /** Server-side limit on one statement, and on a transaction left idle. */
  statementTimeoutMs: number;
  /** How long to wait to connect, or for a free pooled connection. */
  connectionTimeoutMs: number;
  logger?: Logger;
}

const CHANNEL = 'kcs_store_changes';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_NOTIFY_BYTES = 7900;
/** Every instance takes this advisory lock to migrate, so only one migrates at a time. */
const MIGRATION_LOCK = 7_358_162_051;
const APPLICATION_NAME = 'kibana-connectors-server';
const LISTEN_APPLICATION_NAME = 'kcs-listen';
/** A LISTEN connection that died silently (a network partition) is noticed within two beats. */
const LISTEN_HEARTBEAT_MS = 2_000;
const RECONNECT_MIN_MS = 50;
/** While the link is down, caches are told to forget at least this often. */
const RECONNECT_MAX_MS = 1_000;
const UNIQUE_VIOLATION = '23505';

const INT8_OID = 20;
const JSON_OID = 114;
const JSONB_OID = 3802;

/** bigint as a JS number (every value stored here is far below 2^53); JSON decoded losslessly. */
const TYPES: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID) return Number;
    if (oid === JSON_OID || oid === JSONB_OID) return decodeJson;
    return types.getTypeParser(oid, format as 'text');
  }) as CustomTypesConfig['getTypeParser'],
};

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE spaces (
     seq BIGINT GENERATED ALWAYS AS IDENTITY,
     id TEXT COLLATE "C" PRIMARY KEY,
     name TEXT NOT NULL,
     doc JSONB NOT NULL
   );
   CREATE TABLE connectors (
     seq BIGINT GENERATED ALWAYS AS IDENTITY,
     id TEXT COLLATE "C" PRIMARY KEY,
     space_id TEXT COLLATE "C" NOT NULL,
     type_id TEXT NOT NULL,
     name TEXT NOT NULL,
     config JSONB NOT NULL,
     secrets TEXT,
     is_missing_secrets BOOLEAN NOT NULL DEFAULT false,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX connectors_by_space ON connectors (space_id, seq);
   CREATE TABLE api_keys (
     id TEXT COLLATE "C" PRIMARY KEY,
     name TEXT NOT NULL,
     hash TEXT NOT NULL,
     username TEXT NOT NULL,
     realm TEXT NOT NULL,
     role_descriptors JSONB NOT NULL,
     limited_by JSONB,
     metadata JSONB NOT NULL,
     created_at BIGINT NOT NULL,
     expiration BIGINT,
     invalidated BOOLEAN NOT NULL DEFAULT false,
     invalidated_at BIGINT
   );
   CREATE INDEX api_keys_by_creation ON api_keys (created_at, id);
   CREATE TABLE users (
     username TEXT COLLATE "C" PRIMARY KEY,
     password_hash TEXT NOT NULL,
     roles JSONB NOT NULL,
     full_name TEXT,
     email TEXT,
     metadata JSONB NOT NULL,
     enabled BOOLEAN NOT NULL DEFAULT true
   );
   CREATE TABLE roles (
     name TEXT COLLATE "C" PRIMARY KEY,
     doc JSONB NOT NULL
   );
   CREATE TABLE event_log (
     seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     ts TIMESTAMPTZ NOT NULL,
     space_id TEXT COLLATE "C" NOT NULL,
     saved_object_id TEXT COLLATE "C" NOT NULL,
     action TEXT NOT NULL,
     doc JSONB NOT NULL
   );
   CREATE INDEX event_log_by_object ON event_log (saved_object_id, space_id, seq);
   CREATE INDEX event_log_by_ts ON event_log (ts);
   CREATE TABLE indices (
     name TEXT COLLATE "C" PRIMARY KEY,
     next_seq_no BIGINT NOT NULL
   );
   CREATE TABLE index_docs (
     index_name TEXT COLLATE "C" NOT NULL,
     id TEXT COLLATE "C" NOT NULL,
     seq_no BIGINT NOT NULL,
     version INTEGER NOT NULL,
     source JSONB NOT NULL,
     PRIMARY KEY (index_name, id)
   );
   CREATE INDEX index_docs_by_seq ON index_docs (index_name, seq_no);`,
  // The event log in chunks, as the embedded store keeps it (see pgEvents). A record of the
  // row-per-record layout becomes a chunk of one under its own seq, so the order holds; its
  // document keeps the JSON text PostgreSQL gave it, the codec's escapes included, which is the
  // text a chunk holds (encodeJson). Its time, at millisecond precision as written, becomes the
  // ISO 8601 text the server writes.
  `CREATE TABLE event_chunks (
     seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
     space_id TEXT COLLATE "C" NOT NULL,
     saved_object_id TEXT COLLATE "C" NOT NULL,
     first_ts TEXT COLLATE "C" NOT NULL,
     last_ts TEXT COLLATE "C" NOT NULL,
     n INTEGER NOT NULL,
     records TEXT NOT NULL
   );
   -- Chunks past about 2 kB are compressed; lz4 (PostgreSQL 14 and later, where built with it)
   -- takes a fraction of the CPU of the default pglz, which was a fifth of the database's work
   -- under a steady load of runs. Where it is missing, the default stays.
   DO $$ BEGIN
     EXECUTE 'ALTER TABLE event_chunks ALTER COLUMN records SET COMPRESSION lz4';
   EXCEPTION WHEN OTHERS THEN NULL;
   END $$;
   INSERT INTO event_chunks (seq, space_id, saved_object_id, first_ts, last_ts, n, records)
     SELECT seq, space_id, saved_object_id, iso, iso, 1,
            '[[' || to_json(iso)::text || ',' || doc::text || ']]'
     FROM (
       SELECT seq, space_id, saved_object_id, doc,
              to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso
       FROM event_log
     ) AS old;
   SELECT setval(pg_get_serial_sequence('event_chunks', 'seq'),
                 COALESCE((SELECT MAX(seq) FROM event_chunks), 0) + 1, false);
   DROP TABLE event_log;
   CREATE INDEX event_chunks_by_object ON event_chunks (saved_object_id, space_id, seq) INCLUDE (n);
   CREATE INDEX event_chunks_by_age ON event_chunks (first_ts);`,
];

const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === UNIQUE_VIOLATION;

async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const log = options.logger;
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize,
    connectionTimeoutMillis: options.connectionTimeoutMs,
    idleTimeoutMillis: 30_000,
    statement_timeout: options.statementTimeoutMs,
    idle_in_transaction_session_timeout: options.statementTimeoutMs,
    application_name: APPLICATION_NAME,
    keepAlive: true,
    types: TYPES,
  });
  // A pooled connection that fails while idle (server restart) is dropped by the pool; without
  // a listener the error would end the process.
  pool.on('error', (err) => log?.warn({ err }, 'an idle PostgreSQL connection failed'));

  const changes = new ChangeFeed();
  const instanceId = randomUUID();
  const link = new ChangeLink(options, instanceId, changes, log);
  try {
    await migrate(pool, log);
    await link.start();
  } catch (err) {
    await link.close();
    await pool.end();
    throw err;
  }

  /** The NOTIFY payload telling the other instances about a change made here. */
  const notice = (change: StoreChange): string => {
    const text = JSON.stringify({ o: instanceId, c: change });
    return Buffer.byteLength(text) < MAX_NOTIFY_BYTES
      ? text
      : JSON.stringify({ o: instanceId, c: { kind: 'all' } });
  };
  const notifier: Notifier = { channel: CHANNEL, notice, feed: changes };

  let closed = false;
  return {
    engine: 'postgres',
    connectors: pgConnectors(pool, notifier),
    spaces: pgSpaces(pool, notifier),
    apiKeys: pgApiKeys(pool, notifier),
    users: pgUsers(pool, notifier),
    roles: pgRoles(pool, notifier),
    events: pgEvents(pool),
    indices: pgIndices(pool),
    changes,
    /**
     * Nothing to do. A committed write is already durable (its WAL record was flushed at
     * COMMIT), and the superseded row versions a rewrite leaves behind are PostgreSQL's to
     * reclaim (autovacuum): a client cannot erase them short of VACUUM FULL, which locks the
     * table for every instance. They hold blobs sealed with the retired key, so retire it only
     * where its disclosure no longer matters, as with any backup of the database.
     */
    async checkpoint() {},
    async close() {
      if (closed) return;
      closed = true;
      await link.close();
      await pool.end();
    },
  };
}

async function migrate(pool: Pool, log: Logger | undefined): Promise<void> {
  await inTransaction(pool, async (client) => {
    // Instances starting together queue here; the lock goes with the transaction.
    await client.query('SET LOCAL statement_timeout = 0');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ v: number }>(
      'SELECT COALESCE(MAX(version), 0)::int AS v FROM schema_migrations',
    );
    const applied = rows[0]?.v ?? 0;
    if (applied > MIGRATIONS.length) {
      log?.warn(
        `the database schema is at version ${applied}, newer than this server's ${MIGRATIONS.length}: an instance of a newer version migrated it`,
      );
    }
    for (let version = applied + 1; version <= MIGRATIONS.length; version++) {
      await client.query(MIGRATIONS[version - 1] as string);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    }
    await client.query(
      'INSERT INTO spaces (id, name, doc) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING',
      [DEFAULT_SPACE.id, DEFAULT_SPACE.name, encodeJson(DEFAULT_SPACE)],
    );
  });
}

/**
 * The LISTEN side of the change feed: one connection outside the pool, kept open, reconnected
 * when it drops. A heartbeat finds a connection that died without a word (a network partition).
 */
class ChangeLink {
  private client: Client | undefined;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: PostgresStoreOptions,
    private readonly instanceId: string,
    private readonly feed: ChangeFeed,
    private readonly log: Logger | undefined,
  ) {}

  async start(): Promise<void> {
    await this.connect();
    this.heartbeat = setInterval(() => this.beat(), LISTEN_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const client = new Client({
      connectionString: this.options.url,
      connectionTimeoutMillis: this.options.connectionTimeoutMs,
      query_timeout: LISTEN_HEARTBEAT_MS,
      application_name: LISTEN_APPLICATION_NAME,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // Errors of a connection that is already being replaced are of no interest.
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client));
    client.on('notification', (message) => this.received(message));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
  }

  private beat(): void {
    const client = this.client;
    client?.query('SELECT 1').catch((err: Error) => this.lost(client, err));
  }

  private lost(client: ClientBase, err?: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    void (client as Client).end().catch(() => undefined);
    if (this.closed) return;
    this.log?.warn(
      { err },
      'lost the PostgreSQL LISTEN connection: caches forget everything until it is back',
    );
    this.feed.publish({ kind: 'all' });
    this.reconnect(0);
  }

  private reconnect(attempt: number): void {
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** attempt);
    this.retry = setTimeout(async () => {
      if (this.closed) return;
      try {
        await this.connect();
      } catch {
        // Still down: whatever was cached since the last attempt may be stale too.
        this.feed.publish({ kind: 'all' });
        this.reconnect(attempt + 1);
        return;
      }
      // Changes made while the link was down were never heard.
      this.feed.publish({ kind: 'all' });
      this.log?.info('PostgreSQL LISTEN connection restored');
    }, delay);
    this.retry.unref();
  }

  private received(message: Notification): void {
    if (message.channel !== CHANNEL || message.payload === undefined) return;
    let parsed: { o?: unknown; c?: unknown };
    try {
      parsed = JSON.parse(message.payload);
    } catch {
      return;
    }
    if (parsed.o === this.instanceId) return;
    const change = asChange(parsed.c);
    if (change !== undefined) this.feed.publish(change);
  }
}

function asChange(value: unknown): StoreChange | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const c = value as { kind?: unknown; id?: unknown; spaceId?: unknown };
  switch (c.kind) {
    case 'all':
      return { kind: 'all' };
    case 'connector':
      return typeof c.id === 'string' && typeof c.spaceId === 'string'
        ? { kind: 'connector', spaceId: c.spaceId, id: c.id }
        : undefined;
    case 'space':
    case 'apiKey':
    case 'user':
    case 'role':
      return typeof c.id === 'string' ? { kind: c.kind, id: c.id } : undefined;
    default:
      return undefined;
  }
}

interface Notifier {
  channel: string;
  notice(change: StoreChange): string;
  feed: ChangeFeed;
}

/**
 * Run a write and, when it touched a row, tell every instance in the same statement (NOTIFY)
 * and this one at once (the change feed).
 */
async function notifyingWrite(
  pool: Pool,
  notifier: Notifier,
  change: StoreChange,
  sql: string,
  values: unknown[],
): Promise<boolean> {
  const n = values.length;
  const { rowCount } = await pool.query(
    `WITH written AS (${sql} RETURNING 1) SELECT pg_notify($${n + 1}, $${n + 2}) FROM written`,
    [...values, notifier.channel, notifier.notice(change)],
  );
  const touched = (rowCount ?? 0) > 0;
  if (touched) notifier.feed.publish(change);
  return touched;
}

const CONNECTOR_COLUMNS =
  'id, space_id, type_id, name, config, secrets, is_missing_secrets, created_at, updated_at';

interface ConnectorRow {
  id: string;
  space_id: string;
  type_id: string;
  name: string;
  config: Record<string, unknown>;
  secrets: string | null;
  is_missing_secrets: boolean;
  created_at: string;
  updated_at: string;
}

function toConnector(row: ConnectorRow): StoredConnector {
  return {
    id: decodeText(row.id),
    spaceId: decodeText(row.space_id),
    typeId: decodeText(row.type_id),
    name: decodeText(row.name),
    config: row.config,
    secrets: decodeNullableText(row.secrets),
    isMissingSecrets: row.is_missing_secrets,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function pgConnectors(pool: Pool, notifier: Notifier): ConnectorRepository {
  const changed = (spaceId: string, id: string) => {
    const change: StoreChange = { kind: 'connector', spaceId, id };
    return { change, payload: notifier.notice(change) };
  };
  return {
    async create(c) {
      try {
        await pool.query(
          `INSERT INTO connectors (${CONNECTOR_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [
            encodeText(c.id),
            encodeText(c.spaceId),
            encodeText(c.typeId),
            encodeText(c.name),
            encodeJson(c.config),
            encodeNullableText(c.secrets),
            c.isMissingSecrets,
            c.createdAt,
            c.updatedAt,
          ],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError();
        throw err;
      }
    },
    async get(spaceId, id) {
      const { rows } = await pool.query<ConnectorRow>(
        `SELECT ${CONNECTOR_COLUMNS} FROM connectors WHERE id = $1 AND space_id = $2`,
        [encodeText(id), encodeText(spaceId)],
      );
      return rows[0] && toConnector(rows[0]);
    },
    async list(spaceId) {
      const { rows } = await pool.query<ConnectorRow>(
        `SELECT ${CONNECTOR_COLUMNS} FROM connectors WHERE space_id = $1 ORDER BY seq`,
        [encodeText(spaceId)],
      );
      return rows.map(toConnector);
    },
    async update(spaceId, id, patch) {
      const { change, payload } = changed(spaceId, id);
      const { rows } = await pool.query<ConnectorRow>(
        `WITH updated AS (
           UPDATE connectors SET name = $3, config = $4, secrets = $5, is_missing_secrets = false, updated_at = $6
           WHERE id = $1 AND space_id = $2
           RETURNING ${CONNECTOR_COLUMNS}
         )
         SELECT ${CONNECTOR_COLUMNS}, pg_notify($7, $8) AS notified FROM updated`,
        [
          encodeText(id),
          encodeText(spaceId),
          encodeText(patch.name),
          encodeJson(patch.config),
          encodeNullableText(patch.secrets),
          new Date().toISOString(),
          notifier.channel,
          payload,
        ],
      );
      if (rows[0] === undefined) return undefined;
      notifier.feed.publish(change);
      return toConnector(rows[0]);
    },
    async delete(spaceId, id) {
      const { change, payload } = changed(spaceId, id);
      const { rowCount } = await pool.query(
        `WITH deleted AS (DELETE FROM connectors WHERE id = $1 AND space_id = $2 RETURNING 1)
         SELECT pg_notify($3, $4) FROM deleted`,
        [encodeText(id), encodeText(spaceId), notifier.channel, payload],
      );
      const deleted = (rowCount ?? 0) > 0;
      if (deleted) notifier.feed.publish(change);
      return deleted;
    },
    async page(afterId, limit) {
      const { rows } =
        afterId === undefined
          ? await pool.query<ConnectorRow>(
              `SELECT ${CONNECTOR_COLUMNS} FROM connectors ORDER BY id LIMIT $1`,
              [limit],
            )
          : await pool.query<ConnectorRow>(
              `SELECT ${CONNECTOR_COLUMNS} FROM connectors WHERE id > $1 ORDER BY id LIMIT $2`,
              [encodeText(afterId), limit],
            );
      return rows.map(toConnector);
    },
    async replaceSecrets(spaceId, id, expected, secrets) {
      // One statement: the row is locked and `secrets = $4` checked again against the committed
      // row, so an update that won the race is never overwritten.
      const { rowCount } = await pool.query(
        'UPDATE connectors SET secrets = $1 WHERE id = $2 AND space_id = $3 AND secrets = $4',
        [encodeText(secrets), encodeText(id), encodeText(spaceId), encodeText(expected)],
      );
      return (rowCount ?? 0) > 0;
    },
  };
}

function pgSpaces(pool: Pool, notifier: Notifier): SpaceRepository {
  return {
    async list() {
      const { rows } = await pool.query<{ doc: Space }>('SELECT doc FROM spaces ORDER BY seq');
      return rows.map((r) => r.doc);
    },
    async get(id) {
      const { rows } = await pool.query<{ doc: Space }>('SELECT doc FROM spaces WHERE id = $1', [
        encodeText(id),
      ]);
      return rows[0]?.doc;
    },
    async count() {
      const { rows } = await pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM spaces');
      return rows[0]?.n ?? 0;
    },
    async create(space) {
      try {
        await pool.query('INSERT INTO spaces (id, name, doc) VALUES ($1, $2, $3)', [
          encodeText(space.id),
          encodeText(space.name),
          encodeJson(space),
        ]);
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError();
        throw err;
      }
    },
    async update(space) {
      const { rowCount } = await pool.query('UPDATE spaces SET name = $2, doc = $3 WHERE id = $1', [
        encodeText(space.id),
        encodeText(space.name),
        encodeJson(space),
      ]);
      return (rowCount ?? 0) > 0;
    },
    async delete(id) {
      const change: StoreChange = { kind: 'space', id };
      const deleted = await inTransaction(pool, async (client) => {
        await client.query('DELETE FROM connectors WHERE space_id = $1', [encodeText(id)]);
        const { rowCount } = await client.query(
          `WITH deleted AS (DELETE FROM spaces WHERE id = $1 RETURNING 1)
           SELECT pg_notify($2, $3) FROM deleted`,
          [encodeText(id), notifier.channel, notifier.notice(change)],
        );
        return (rowCount ?? 0) > 0;
      });
      if (deleted) notifier.feed.publish(change);
      return deleted;
    },
  };
}

interface ApiKeyRow {
  id: string;
  name: string;
  hash: string;
  username: string;
  realm: string;
  role_descriptors: Record<string, unknown>;
  limited_by: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  created_at: number;
  expiration: number | null;
  invalidated: boolean;
  invalidated_at: number | null;
}

function toApiKey(row: ApiKeyRow): StoredApiKey {
  return {
    id: decodeText(row.id),
    name: decodeText(row.name),
    hash: decodeText(row.hash),
    username: decodeText(row.username),
    realm: decodeText(row.realm),
    roleDescriptors: row.role_descriptors,
    limitedBy: row.limited_by,
    metadata: row.metadata,
    createdAt: row.created_at,
    expiration: row.expiration,
    invalidated: row.invalidated,
    invalidatedAt: row.invalidated_at,
  };
}

function pgApiKeys(pool: Pool, notifier: Notifier): ApiKeyRepository {
  const columns =
    'id, name, hash, username, realm, role_descriptors, limited_by, metadata, created_at, expiration, invalidated, invalidated_at';
  return {
    async create(key) {
      await pool.query(
        `INSERT INTO api_keys (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
        [
          encodeText(key.id),
          encodeText(key.name),
          encodeText(key.hash),
          encodeText(key.username),
          encodeText(key.realm),
          encodeJson(key.roleDescriptors),
          key.limitedBy === null ? null : encodeJson(key.limitedBy),
          encodeJson(key.metadata),
          key.createdAt,
          key.expiration,
          key.invalidated,
          key.invalidatedAt,
        ],
      );
    },
    async get(id) {
      const { rows } = await pool.query<ApiKeyRow>(
        `SELECT ${columns} FROM api_keys WHERE id = $1`,
        [encodeText(id)],
      );
      return rows[0] && toApiKey(rows[0]);
    },
    async list() {
      const { rows } = await pool.query<ApiKeyRow>(
        `SELECT ${columns} FROM api_keys ORDER BY created_at, id`,
      );
      return rows.map(toApiKey);
    },
    async invalidate(ids) {
      if (ids.length === 0) return [];
      const invalidated = await inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ id: string }>(
          'UPDATE api_keys SET invalidated = true, invalidated_at = $1 WHERE id = ANY($2::text[]) AND NOT invalidated RETURNING id',
          [Date.now(), ids.map(encodeText)],
        );
        const done = new Set(rows.map((r) => decodeText(r.id)));
        // In the order asked, as the SQLite engine answers.
        const ordered = ids.filter((id) => done.delete(id));
        if (ordered.length > 0) {
          await client.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [
            notifier.channel,
            ordered.map((id) => notifier.notice({ kind: 'apiKey', id })),
          ]);
        }
        return ordered;
      });
      for (const id of invalidated) notifier.feed.publish({ kind: 'apiKey', id });
      return invalidated;
    },
  };
}

interface UserRow {
  username: string;
  password_hash: string;
  roles: string[];
  full_name: string | null;
  email: string | null;
  metadata: Record<string, unknown>;
  enabled: boolean;
}

function toUser(row: UserRow): StoredUser {
  return {
    username: decodeText(row.username),
    passwordHash: decodeText(row.password_hash),
    roles: row.roles,
    fullName: decodeNullableText(row.full_name),
    email: decodeNullableText(row.email),
    metadata: row.metadata,
    enabled: row.enabled,
  };
}

function pgUsers(pool: Pool, notifier: Notifier): UserRepository {
  const columns = 'username, password_hash, roles, full_name, email, metadata, enabled';
  const write = (username: string, sql: string, values: unknown[]) =>
    notifyingWrite(pool, notifier, { kind: 'user', id: username }, sql, values);
  return {
    async get(username) {
      const { rows } = await pool.query<UserRow>(
        `SELECT ${columns} FROM users WHERE username = $1`,
        [encodeText(username)],
      );
      return rows[0] && toUser(rows[0]);
    },
    async list() {
      const { rows } = await pool.query<UserRow>(`SELECT ${columns} FROM users ORDER BY username`);
      return rows.map(toUser);
    },
    async put(user) {
      await write(
        user.username,
        `INSERT INTO users (${columns}) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash,
           roles = EXCLUDED.roles, full_name = EXCLUDED.full_name, email = EXCLUDED.email,
           metadata = EXCLUDED.metadata, enabled = EXCLUDED.enabled`,
        [
          encodeText(user.username),
          encodeText(user.passwordHash),
          encodeJson(user.roles),
          encodeNullableText(user.fullName),
          encodeNullableText(user.email),
          encodeJson(user.metadata),
          user.enabled,
        ],
      );
    },
    async setPassword(username, passwordHash) {
      return write(username, 'UPDATE users SET password_hash = $2 WHERE username = $1', [
        encodeText(username),
        encodeText(passwordHash),
      ]);
    },
    async delete(username) {
      return write(username, 'DELETE FROM users WHERE username = $1', [encodeText(username)]);
    },
  };
}

function pgRoles(pool: Pool, notifier: Notifier): RoleRepository {
  const write = (name: string, sql: string, values: unknown[]) =>
    notifyingWrite(pool, notifier, { kind: 'role', id: name }, sql, values);
  return {
    async get(name) {
      const { rows } = await pool.query<{ doc: StoredRole }>(
        'SELECT doc FROM roles WHERE name = $1',
        [encodeText(name)],
      );
      return rows[0]?.doc;
    },
    async list() {
      const { rows } = await pool.query<{ doc: StoredRole }>('SELECT doc FROM roles ORDER BY name');
      return rows.map((r) => r.doc);
    },
    async put(role) {
      await write(
        role.name,
        'INSERT INTO roles (name, doc) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET doc = EXCLUDED.doc',
        [encodeText(role.name), encodeJson(role)],
      );
    },
    async delete(name) {
      return write(name, 'DELETE FROM roles WHERE name = $1', [encodeText(name)]);
    },
  };
}

/** Between the chunks' texts in an append: JSON text holds U+001E only escaped. */
const RECORD_SEPARATOR = '\u001e';

/**
 * The event log in chunks, as the embedded store keeps it: the records of one object that one
 * flush wrote are one row, the JSON text of their `[ts, doc]` pairs with their count and their
 * oldest and newest `ts`. A row per record cost the database a JSONB parse and three b-tree
 * inserts a run; a chunk is one row and two index entries per connector and flush, and its text
 * is stored as it comes. The text is the codec's (encodeJson), so the records of the
 * row-per-record layout moved in as they were.
 */
function pgEvents(pool: Pool): EventRepository {
  return {
    async append(events) {
      if (events.length === 0) return;
      const chunks = chunksOf(events, encodeJson);
      // One statement for the batch: its chunks are of different objects, so only their order
      // against other batches' (seq) matters. The records go as one text, the chunks' JSON
      // joined by U+001E, which JSON text only ever holds escaped: as an array literal, every
      // quote in them would be escaped here and parsed back there.
      // Its transaction commits without waiting for the WAL's flush (synchronous_commit off for
      // it alone, as the embedded store skips the fsync of event-log batches): no caller waits on
      // event-log records, and a flush per batch per instance was a disk sync each.
      // Named, so each pooled connection parses and plans it once rather than for every batch:
      // the database's CPU per run went down by about a tenth.
      await pool.query({
        name: 'kcs-append-event-chunks',
        text: `WITH unsynced AS (SELECT set_config('synchronous_commit', 'off', true))
         INSERT INTO event_chunks (space_id, saved_object_id, first_ts, last_ts, n, records)
         SELECT c.* FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[],
                                string_to_array($6, E'\\x1e')) AS c, unsynced`,
        values: [
          chunks.map((c) => encodeText(c[0])),
          chunks.map((c) => encodeText(c[1])),
          chunks.map((c) => c[2]),
          chunks.map((c) => c[3]),
          chunks.map((c) => c[4]),
          chunks.map((c) => c[5]).join(RECORD_SEPARATOR),
        ],
      });
    },
    async find(q: EventQuery): Promise<EventPage> {
      const where = 'WHERE saved_object_id = $1 AND space_id = $2';
      const key = [encodeText(q.savedObjectId), encodeText(q.spaceId)];
      const order = q.sortOrder === 'asc' ? 'ASC' : 'DESC';
      // The chunks holding records offset to offset + limit - 1 in the sort order, found by the
      // running count of records up to each (upto), which the index holds the terms of.
      const [count, page] = await Promise.all([
        pool.query<{ n: number }>(
          `SELECT COALESCE(SUM(n), 0)::bigint AS n FROM event_chunks ${where}`,
          key,
        ),
        pool.query<{ records: string; n: number; upto: number }>(
          `SELECT c.records, w.n, w.upto
           FROM (
             SELECT seq, n, SUM(n) OVER (ORDER BY seq ${order})::bigint AS upto
             FROM event_chunks ${where}
           ) AS w
           JOIN event_chunks AS c ON c.seq = w.seq
           WHERE w.upto > $3 AND w.upto - w.n < $3 + $4
           ORDER BY w.seq ${order}`,
          [...key, q.offset, q.limit],
        ),
      ]);
      const first = page.rows[0];
      const skip = first === undefined ? 0 : q.offset - (first.upto - first.n);
      const texts = page.rows.map((chunk) => chunk.records);
      return {
        total: count.rows[0]?.n ?? 0,
        data: pageOf(texts, decodeJson, q.sortOrder, skip, q.limit),
      };
    },
    async deleteBefore(timestamp, limit) {
      // Instances sweeping at once share the chunks out rather than queue on each other's locks.
      return inTransaction(pool, async (client) => {
        const { rows } = await client.query<{ seq: number; n: number; last_ts: string }>(
          `SELECT seq, n, last_ts FROM event_chunks WHERE first_ts < $1
           ORDER BY first_ts, seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [timestamp, limit],
        );
        let deleted = 0;
        const whole: number[] = [];
        for (const chunk of rows) {
          const room = limit - deleted;
          if (room === 0) break;
          if (chunk.last_ts < timestamp && chunk.n <= room) {
            whole.push(chunk.seq);
            deleted += chunk.n;
            continue;
          }
          const stored = await client.query<{ records: string }>(
            'SELECT records FROM event_chunks WHERE seq = $1',
            [chunk.seq],
          );
          const records = decodeJson(stored.rows[0]?.records ?? '[]') as ChunkRecord[];
          const { kept, first, last, removed } = withoutOldest(records, timestamp, room);
          if (kept.length === 0) whole.push(chunk.seq);
          else {
            await client.query(
              'UPDATE event_chunks SET first_ts = $1, last_ts = $2, n = $3, records = $4 WHERE seq = $5',
              [first, last, kept.length, encodeJson(kept), chunk.seq],
            );
          }
          deleted += removed;
        }
        if (whole.length > 0) {
          await client.query('DELETE FROM event_chunks WHERE seq = ANY($1::bigint[])', [whole]);
        }
        return deleted;
      });
    },
  };
}

interface IndexWrite {
  index: string;
  docs: readonly Record<string, unknown>[];
  ids: string[];
  resolve: (results: IndexItemResult[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Index writes that arrive in the same turn of the event loop commit together: for each index,
 * one statement reserves the sequence numbers and inserts every document, and several indices
 * share one transaction, so a burst of runs costs one commit. If the batch fails, each write is
 * tried again on its own, so one bad write does not fail the others.
 */
class IndexGroupCommit {
  private queue: IndexWrite[] = [];
  private scheduled = false;

  constructor(private readonly pool: Pool) {}

  run(
    index: string,
    docs: readonly Record<string, unknown>[],
    newId: () => string,
  ): Promise<IndexItemResult[]> {
    return new Promise((resolve, reject) => {
      // Ids are drawn in call order, as the SQLite engine draws them.
      this.queue.push({ index, docs, ids: docs.map(() => newId()), resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    try {
      const results = await this.write(batch);
      for (const [i, item] of batch.entries()) item.resolve(results[i] ?? []);
    } catch (err) {
      if (batch.length === 1) {
        batch[0]?.reject(err);
        return;
      }
      for (const item of batch) {
        try {
          item.resolve((await this.write([item]))[0] ?? []);
        } catch (itemError) {
          item.reject(itemError);
        }
      }
    }
  }

  private async write(batch: readonly IndexWrite[]): Promise<IndexItemResult[][]> {
    const byIndex = new Map<string, IndexWrite[]>();
    for (const item of batch) byIndex.set(item.index, [...(byIndex.get(item.index) ?? []), item]);
    const seqNos = new Map<string, number>();
    const writeIndex = async (db: Pool | PoolClient, index: string, items: IndexWrite[]) => {
      const ids = items.flatMap((item) => item.ids);
      const sources = items.flatMap((item) => item.docs.map((doc) => encodeJson(doc)));
      // Named, as the event log's append: parsed and planned once per pooled connection.
      const { rows } = await db.query<{ id: string; seq_no: number }>({
        name: 'kcs-index-docs',
        text: `WITH reserved AS (
           INSERT INTO indices (name, next_seq_no) VALUES ($1, $2::bigint)
           ON CONFLICT (name) DO UPDATE SET next_seq_no = indices.next_seq_no + EXCLUDED.next_seq_no
           RETURNING next_seq_no - $2::bigint AS first
         )
         INSERT INTO index_docs (index_name, id, seq_no, version, source)
         SELECT $1, d.id, reserved.first + d.n - 1, 1, d.source::jsonb
         FROM reserved, unnest($3::text[], $4::text[]) WITH ORDINALITY AS d(id, source, n)
         RETURNING id, seq_no`,
        values: [encodeText(index), ids.length, ids.map(encodeText), sources],
      });
      for (const row of rows) seqNos.set(`${index}\u0000${decodeText(row.id)}`, row.seq_no);
    };
    const groups = [...byIndex];
    const [only] = groups;
    if (groups.length === 1 && only !== undefined) {
      await writeIndex(this.pool, only[0], only[1]);
    } else {
      await inTransaction(this.pool, async (client) => {
        for (const [index, items] of groups) await writeIndex(client, index, items);
      });
    }
    return batch.map((item) =>
      item.ids.map((id) => ({
        id,
        version: 1,
        seqNo: seqNos.get(`${item.index}\u0000${id}`) ?? -1,
      })),
    );
  }
}

function pgIndices(pool: Pool): IndexRepository {
  const group = new IndexGroupCommit(pool);
  return {
    bulkCreate(index, docs, newId) {
      return group.run(index, docs, newId);
    },
    async exists(index) {
      const { rowCount } = await pool.query('SELECT 1 FROM indices WHERE name = $1', [
        encodeText(index),
      ]);
      return (rowCount ?? 0) > 0;
    },
    async search(index, from, size) {
      const [count, page] = await Promise.all([
        pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM index_docs WHERE index_name = $1', [
          encodeText(index),
        ]),
        pool.query<{ id: string; source: Record<string, unknown> }>(
          'SELECT id, source FROM index_docs WHERE index_name = $1 ORDER BY seq_no LIMIT $2 OFFSET $3',
          [encodeText(index), size, from],
        ),
      ]);
      return {
        total: count.rows[0]?.n ?? 0,
        hits: page.rows.map((r) => ({ id: decodeText(r.id), source: r.source })),
      };
    },
  };
}
