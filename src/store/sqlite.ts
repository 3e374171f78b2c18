import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { atEndOfTurn } from '../end-of-turn.js';
import { ChangeFeed } from './changes.js';
import { chunksOf, pageOf } from './event-chunks.mjs';
import {
  type ApiKeyRepository,
  type ConnectorPatch,
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
  type StoredEvent,
  type StoredRole,
  type StoredUser,
  type UserRepository,
} from './types.js';

/**
 * The embedded store: one SQLite file under path.data.
 *
 * Journal and sync: WAL with synchronous=FULL. A write is acknowledged only after its WAL frame
 * is fsynced, so an acknowledged create or update survives a SIGKILL of the process and a power
 * loss alike; readers never block the writer. secure_delete zeroes the space a deleted or
 * rewritten row leaves behind, so a rotated-out secrets blob does not linger in the file.
 *
 * Event-log records and embedded-index documents, the writes every run makes, go through a
 * writer thread with a connection of its own (sqlite-writer.mjs): their inserts, commits and
 * fsyncs never hold up the request thread. It starts on the first such write. A batch of
 * event-log records alone, which no caller waits on, commits there with synchronous=NORMAL: in
 * the WAL (safe from a crash of the process) but not fsynced until the next FULL commit or
 * checkpoint.
 */

export interface SqliteStoreOptions {
  /** How many event-log keys the tail holds before it becomes a run (sqlite-writer.mjs). */
  eventTailKeys?: number;
  /** How many runs of a level are merged into one of the next. */
  eventRunsPerLevel?: number;
  /** About how many keys of one merging run a step of a merge moves. */
  eventMergeSlice?: number;
}

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE spaces (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     doc TEXT NOT NULL
   );
   CREATE TABLE connectors (
     id TEXT PRIMARY KEY,
     space_id TEXT NOT NULL,
     type_id TEXT NOT NULL,
     name TEXT NOT NULL,
     config TEXT NOT NULL,
     secrets TEXT,
     is_missing_secrets INTEGER NOT NULL DEFAULT 0,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX connectors_by_space ON connectors (space_id);
   CREATE TABLE api_keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     hash TEXT NOT NULL,
     username TEXT NOT NULL,
     role_descriptors TEXT NOT NULL,
     metadata TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expiration INTEGER,
     invalidated INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE event_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     ts TEXT NOT NULL,
     space_id TEXT NOT NULL,
     saved_object_id TEXT NOT NULL,
     action TEXT NOT NULL,
     doc TEXT NOT NULL
   );
   CREATE INDEX event_log_by_object ON event_log (saved_object_id, space_id, seq);
   CREATE TABLE indices (
     name TEXT PRIMARY KEY,
     next_seq_no INTEGER NOT NULL
   );
   CREATE TABLE index_docs (
     index_name TEXT NOT NULL,
     id TEXT NOT NULL,
     seq_no INTEGER NOT NULL,
     version INTEGER NOT NULL,
     source TEXT NOT NULL,
     PRIMARY KEY (index_name, id)
   );
   CREATE INDEX index_docs_by_seq ON index_docs (index_name, seq_no);`,
  `CREATE TABLE users (
     username TEXT PRIMARY KEY,
     password_hash TEXT NOT NULL,
     roles TEXT NOT NULL,
     full_name TEXT,
     email TEXT,
     metadata TEXT NOT NULL,
     enabled INTEGER NOT NULL DEFAULT 1
   );
   CREATE TABLE roles (
     name TEXT PRIMARY KEY,
     doc TEXT NOT NULL
   );
   ALTER TABLE api_keys ADD COLUMN realm TEXT NOT NULL DEFAULT 'reserved';
   ALTER TABLE api_keys ADD COLUMN limited_by TEXT;
   ALTER TABLE api_keys ADD COLUMN invalidated_at INTEGER;`,
  // The event-log retention sweep deletes by age.
  'CREATE INDEX event_log_by_ts ON event_log (ts);',
  // The event log in chunks: one row holds the records of one object that one flush wrote (see
  // sqliteEvents). A record of the row-per-record layout becomes a chunk of one, in its order.
  `CREATE TABLE event_chunks (
     seq INTEGER PRIMARY KEY,
     space_id TEXT NOT NULL,
     saved_object_id TEXT NOT NULL,
     first_ts TEXT NOT NULL,
     last_ts TEXT NOT NULL,
     n INTEGER NOT NULL,
     records TEXT NOT NULL
   );
   CREATE INDEX event_chunks_by_object ON event_chunks (saved_object_id, space_id, seq, n);
   CREATE INDEX event_chunks_by_age ON event_chunks (first_ts);
   INSERT INTO event_chunks (space_id, saved_object_id, first_ts, last_ts, n, records)
     SELECT space_id, saved_object_id, ts, ts, 1, '[[' || json_quote(ts) || ',' || doc || ']]'
     FROM event_log ORDER BY seq;
   DROP TABLE event_log;`,
  // The event log's tail: chunks not yet in event_chunks, where they are appended without an
  // index by object and from where they are merged (see sqlite-writer.mjs). Read by object with a
  // scan of the narrow table; their records apart, so the scan does not read them.
  `CREATE TABLE event_tail (
     seq INTEGER PRIMARY KEY,
     space_id TEXT NOT NULL,
     saved_object_id TEXT NOT NULL,
     n INTEGER NOT NULL
   );
   CREATE TABLE event_tail_records (
     seq INTEGER PRIMARY KEY,
     first_ts TEXT NOT NULL,
     last_ts TEXT NOT NULL,
     records TEXT NOT NULL
   );`,
  // The event log's keys in runs (see sqlite-writer.mjs): records stay in event_chunks where they
  // are first written, their keys are ordered by object in runs and their ages in event_ages, both
  // written when the tail becomes a run, not in indexes of event_chunks. What the tail holds is
  // joined into chunks (each object's, about 100 records a chunk, in order) as the writer used to
  // merge it; then every chunk's key goes into one run, at a level never merged again (16, the
  // writer's LAST_LEVEL), and the new tail holds keys of event_chunks.
  `INSERT INTO event_chunks (space_id, saved_object_id, first_ts, last_ts, n, records)
     SELECT space_id, saved_object_id, MIN(first_ts), MAX(last_ts), SUM(n),
       '[' || group_concat(substr(records, 2, length(records) - 2), ',' ORDER BY seq) || ']'
     FROM (
       SELECT t.seq, t.space_id, t.saved_object_id, t.n, r.first_ts, r.last_ts, r.records,
         (SUM(t.n) OVER (PARTITION BY t.saved_object_id, t.space_id ORDER BY t.seq) - t.n)
           / 100 AS part
       FROM event_tail t JOIN event_tail_records r ON r.seq = t.seq
     )
     GROUP BY saved_object_id, space_id, part
     ORDER BY saved_object_id, space_id, part;
   DROP TABLE event_tail;
   DROP TABLE event_tail_records;
   DROP INDEX event_chunks_by_object;
   DROP INDEX event_chunks_by_age;
   CREATE TABLE event_tail (
     seq INTEGER PRIMARY KEY,
     space_id TEXT NOT NULL,
     saved_object_id TEXT NOT NULL,
     n INTEGER NOT NULL,
     first_ts TEXT NOT NULL
   );
   CREATE TABLE event_ages (
     first_ts TEXT NOT NULL,
     seq INTEGER NOT NULL,
     PRIMARY KEY (first_ts, seq)
   ) WITHOUT ROWID;
   INSERT INTO event_ages (first_ts, seq) SELECT first_ts, seq FROM event_chunks;
   CREATE TABLE event_runs (
     run INTEGER PRIMARY KEY,
     level INTEGER NOT NULL,
     merging INTEGER
   );
   CREATE TABLE event_keys (
     run INTEGER NOT NULL,
     saved_object_id TEXT NOT NULL,
     space_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (run, saved_object_id, space_id, seq)
   ) WITHOUT ROWID;
   INSERT INTO event_runs (run, level) SELECT 1, 16 WHERE EXISTS (SELECT 1 FROM event_chunks);
   INSERT INTO event_keys (run, saved_object_id, space_id, seq, n)
     SELECT 1, saved_object_id, space_id, seq, n FROM event_chunks
     ORDER BY saved_object_id, space_id, seq;`,
];

interface ConnectorRow {
  id: string;
  space_id: string;
  type_id: string;
  name: string;
  config: string;
  secrets: string | null;
  is_missing_secrets: number;
  created_at: string;
  updated_at: string;
}

function toConnector(row: ConnectorRow): StoredConnector {
  return {
    id: row.id,
    spaceId: row.space_id,
    typeId: row.type_id,
    name: row.name,
    config: JSON.parse(row.config),
    secrets: row.secrets,
    isMissingSecrets: row.is_missing_secrets === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

interface ApiKeyRow {
  id: string;
  name: string;
  hash: string;
  username: string;
  realm: string;
  role_descriptors: string;
  limited_by: string | null;
  metadata: string;
  created_at: number;
  expiration: number | null;
  invalidated: number;
  invalidated_at: number | null;
}

function toApiKey(row: ApiKeyRow): StoredApiKey {
  return {
    id: row.id,
    name: row.name,
    hash: row.hash,
    username: row.username,
    realm: row.realm,
    roleDescriptors: JSON.parse(row.role_descriptors),
    limitedBy: row.limited_by === null ? null : JSON.parse(row.limited_by),
    metadata: JSON.parse(row.metadata),
    createdAt: row.created_at,
    expiration: row.expiration,
    invalidated: row.invalidated === 1,
    invalidatedAt: row.invalidated_at,
  };
}

interface UserRow {
  username: string;
  password_hash: string;
  roles: string;
  full_name: string | null;
  email: string | null;
  metadata: string;
  enabled: number;
}

function toUser(row: UserRow): StoredUser {
  return {
    username: row.username,
    passwordHash: row.password_hash,
    roles: JSON.parse(row.roles),
    fullName: row.full_name,
    email: row.email,
    metadata: JSON.parse(row.metadata),
    enabled: row.enabled === 1,
  };
}

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function openSqliteStore(dataDir: string, options: SqliteStoreOptions = {}): Store {
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'connectors.sqlite');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('secure_delete = ON');
  migrate(db);

  const changes = new ChangeFeed();
  const connectors = sqliteConnectors(db, changes);
  const spaces = sqliteSpaces(db, changes);
  const apiKeys = sqliteApiKeys(db, changes);
  const users = sqliteUsers(db, changes);
  const roles = sqliteRoles(db, changes);
  const writer = new WriterThread(file, {
    tailKeys: options.eventTailKeys,
    runsPerLevel: options.eventRunsPerLevel,
    mergeSlice: options.eventMergeSlice,
  });
  const events = sqliteEvents(db, writer);
  const indices = sqliteIndices(db, writer);
  let closed = false;
  return {
    engine: 'sqlite',
    connectors,
    spaces,
    apiKeys,
    users,
    roles,
    events,
    indices,
    changes,
    async checkpoint() {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    async close() {
      if (closed) return;
      closed = true;
      await writer.close();
      db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)',
  );
  const applied = db
    .prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_migrations')
    .get() as { v: number };
  const apply = db.transaction((version: number, sql: string) => {
    db.exec(sql);
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)').run(
      version,
      new Date().toISOString(),
    );
  });
  for (let version = applied.v + 1; version <= MIGRATIONS.length; version++) {
    apply.immediate(version, MIGRATIONS[version - 1] as string);
  }
  db.prepare('INSERT OR IGNORE INTO spaces (id, name, doc) VALUES (?, ?, ?)').run(
    DEFAULT_SPACE.id,
    DEFAULT_SPACE.name,
    JSON.stringify(DEFAULT_SPACE),
  );
}

function sqliteConnectors(db: Database.Database, changes: ChangeFeed): ConnectorRepository {
  const insert = db.prepare(
    `INSERT INTO connectors (id, space_id, type_id, name, config, secrets, is_missing_secrets, created_at, updated_at)
     VALUES (@id, @spaceId, @typeId, @name, @config, @secrets, @isMissingSecrets, @createdAt, @updatedAt)`,
  );
  const selectOne = db.prepare('SELECT * FROM connectors WHERE id = ? AND space_id = ?');
  // Insertion order: a connector's rowid is above every rowid in use when it is inserted.
  const selectSpace = db.prepare('SELECT * FROM connectors WHERE space_id = ? ORDER BY rowid');
  const updateOne = db.prepare(
    `UPDATE connectors SET name = @name, config = @config, secrets = @secrets, is_missing_secrets = 0, updated_at = @updatedAt
     WHERE id = @id AND space_id = @spaceId`,
  );
  const deleteOne = db.prepare('DELETE FROM connectors WHERE id = ? AND space_id = ?');
  const firstPage = db.prepare('SELECT * FROM connectors ORDER BY id LIMIT ?');
  const nextPage = db.prepare('SELECT * FROM connectors WHERE id > ? ORDER BY id LIMIT ?');
  const swapSecrets = db.prepare(
    'UPDATE connectors SET secrets = ? WHERE id = ? AND space_id = ? AND secrets = ?',
  );
  return {
    async create(c) {
      try {
        insert.run({
          ...c,
          config: JSON.stringify(c.config),
          isMissingSecrets: c.isMissingSecrets ? 1 : 0,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError();
        throw err;
      }
    },
    async get(spaceId, id) {
      const row = selectOne.get(id, spaceId) as ConnectorRow | undefined;
      return row && toConnector(row);
    },
    async list(spaceId) {
      return (selectSpace.all(spaceId) as ConnectorRow[]).map(toConnector);
    },
    async update(spaceId, id, patch: ConnectorPatch) {
      const info = updateOne.run({
        id,
        spaceId,
        name: patch.name,
        config: JSON.stringify(patch.config),
        secrets: patch.secrets,
        updatedAt: new Date().toISOString(),
      });
      if (info.changes === 0) return undefined;
      changes.publish({ kind: 'connector', spaceId, id });
      return toConnector(selectOne.get(id, spaceId) as ConnectorRow);
    },
    async delete(spaceId, id) {
      const deleted = deleteOne.run(id, spaceId).changes > 0;
      if (deleted) changes.publish({ kind: 'connector', spaceId, id });
      return deleted;
    },
    async page(afterId, limit) {
      const rows = (
        afterId === undefined ? firstPage.all(limit) : nextPage.all(afterId, limit)
      ) as ConnectorRow[];
      return rows.map(toConnector);
    },
    async replaceSecrets(spaceId, id, expected, secrets) {
      return swapSecrets.run(secrets, id, spaceId, expected).changes > 0;
    },
  };
}

function sqliteSpaces(db: Database.Database, changes: ChangeFeed): SpaceRepository {
  const all = db.prepare('SELECT doc FROM spaces ORDER BY rowid');
  const one = db.prepare('SELECT doc FROM spaces WHERE id = ?');
  const count = db.prepare('SELECT COUNT(*) AS n FROM spaces');
  const insert = db.prepare('INSERT INTO spaces (id, name, doc) VALUES (?, ?, ?)');
  const update = db.prepare('UPDATE spaces SET name = ?, doc = ? WHERE id = ?');
  const remove = db.transaction((id: string) => {
    db.prepare('DELETE FROM connectors WHERE space_id = ?').run(id);
    return db.prepare('DELETE FROM spaces WHERE id = ?').run(id).changes > 0;
  });
  const parse = (row: { doc: string }) => JSON.parse(row.doc) as Space;
  return {
    async list() {
      return (all.all() as { doc: string }[]).map(parse);
    },
    async get(id) {
      const row = one.get(id) as { doc: string } | undefined;
      return row && parse(row);
    },
    async count() {
      return (count.get() as { n: number }).n;
    },
    async create(space) {
      try {
        insert.run(space.id, space.name, JSON.stringify(space));
      } catch (err) {
        if (isUniqueViolation(err)) throw new StoreConflictError();
        throw err;
      }
    },
    async update(space) {
      return update.run(space.name, JSON.stringify(space), space.id).changes > 0;
    },
    async delete(id) {
      const deleted = remove.immediate(id);
      if (deleted) changes.publish({ kind: 'space', id });
      return deleted;
    },
  };
}

function sqliteApiKeys(db: Database.Database, changes: ChangeFeed): ApiKeyRepository {
  const insert = db.prepare(
    `INSERT INTO api_keys (id, name, hash, username, realm, role_descriptors, limited_by, metadata, created_at, expiration, invalidated, invalidated_at)
     VALUES (@id, @name, @hash, @username, @realm, @roleDescriptors, @limitedBy, @metadata, @createdAt, @expiration, @invalidated, @invalidatedAt)`,
  );
  const one = db.prepare('SELECT * FROM api_keys WHERE id = ?');
  const all = db.prepare('SELECT * FROM api_keys ORDER BY created_at, id');
  const invalidate = db.prepare(
    'UPDATE api_keys SET invalidated = 1, invalidated_at = ? WHERE id = ? AND invalidated = 0',
  );
  return {
    async create(key) {
      insert.run({
        ...key,
        roleDescriptors: JSON.stringify(key.roleDescriptors),
        limitedBy: key.limitedBy === null ? null : JSON.stringify(key.limitedBy),
        metadata: JSON.stringify(key.metadata),
        invalidated: key.invalidated ? 1 : 0,
      });
    },
    async get(id) {
      const row = one.get(id) as ApiKeyRow | undefined;
      return row && toApiKey(row);
    },
    async list() {
      return (all.all() as ApiKeyRow[]).map(toApiKey);
    },
    async invalidate(ids) {
      const done: string[] = [];
      db.transaction(() => {
        const now = Date.now();
        for (const id of ids) if (invalidate.run(now, id).changes > 0) done.push(id);
      }).immediate();
      for (const id of done) changes.publish({ kind: 'apiKey', id });
      return done;
    },
  };
}

function sqliteUsers(db: Database.Database, changes: ChangeFeed): UserRepository {
  const one = db.prepare('SELECT * FROM users WHERE username = ?');
  const all = db.prepare('SELECT * FROM users ORDER BY username');
  const upsert = db.prepare(
    `INSERT INTO users (username, password_hash, roles, full_name, email, metadata, enabled)
     VALUES (@username, @passwordHash, @roles, @fullName, @email, @metadata, @enabled)
     ON CONFLICT (username) DO UPDATE SET password_hash = excluded.password_hash,
       roles = excluded.roles, full_name = excluded.full_name, email = excluded.email,
       metadata = excluded.metadata, enabled = excluded.enabled`,
  );
  const password = db.prepare('UPDATE users SET password_hash = ? WHERE username = ?');
  const remove = db.prepare('DELETE FROM users WHERE username = ?');
  return {
    async get(username) {
      const row = one.get(username) as UserRow | undefined;
      return row && toUser(row);
    },
    async list() {
      return (all.all() as UserRow[]).map(toUser);
    },
    async put(user) {
      upsert.run({
        ...user,
        roles: JSON.stringify(user.roles),
        metadata: JSON.stringify(user.metadata),
        enabled: user.enabled ? 1 : 0,
      });
      changes.publish({ kind: 'user', id: user.username });
    },
    async setPassword(username, passwordHash) {
      const changed = password.run(passwordHash, username).changes > 0;
      if (changed) changes.publish({ kind: 'user', id: username });
      return changed;
    },
    async delete(username) {
      const deleted = remove.run(username).changes > 0;
      if (deleted) changes.publish({ kind: 'user', id: username });
      return deleted;
    },
  };
}

function sqliteRoles(db: Database.Database, changes: ChangeFeed): RoleRepository {
  const one = db.prepare('SELECT doc FROM roles WHERE name = ?');
  const all = db.prepare('SELECT doc FROM roles ORDER BY name');
  const upsert = db.prepare(
    'INSERT INTO roles (name, doc) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET doc = excluded.doc',
  );
  const remove = db.prepare('DELETE FROM roles WHERE name = ?');
  const parse = (row: { doc: string }) => JSON.parse(row.doc) as StoredRole;
  return {
    async get(name) {
      const row = one.get(name) as { doc: string } | undefined;
      return row && parse(row);
    },
    async list() {
      return (all.all() as { doc: string }[]).map(parse);
    },
    async put(role) {
      upsert.run(role.name, JSON.stringify(role));
      changes.publish({ kind: 'role', id: role.name });
    },
    async delete(name) {
      const deleted = remove.run(name).changes > 0;
      if (deleted) changes.publish({ kind: 'role', id: name });
      return deleted;
    },
  };
}

/**
 * The event log in chunks. A flush hands the store the records of many runs, mostly of a few
 * connectors; the records of one object in one space become one row, a JSON array of `[ts, doc]`
 * pairs with their count and the oldest and newest `ts`. One row and one key per connector and
 * flush, where a row per record cost the writer thread three b-tree inserts a run, and the text is
 * made here, so the writer thread only stores it. The keys (object, chunk, count) wait in a tail
 * until the writer thread sorts them by object into a run, and runs are merged by level
 * (sqlite-writer.mjs); `find` reads an object's keys run by run, then the tail's. A record's
 * `action` is not kept: `find` gives back documents only.
 */
function sqliteEvents(db: Database.Database, writer: WriterThread): EventRepository {
  const ofObject = 'saved_object_id = ? AND space_id = ?';
  const inRuns = 'run IN (SELECT run FROM event_runs)';
  const count = db.prepare(
    `SELECT (SELECT COALESCE(SUM(n), 0) FROM event_keys WHERE ${inRuns} AND ${ofObject})
       + (SELECT COALESCE(SUM(n), 0) FROM event_tail WHERE ${ofObject}) AS n`,
  );
  // Where an object's chunks are, in order: its keys run by run, then those of the tail (run
  // numbers and the tail follow the order of the records).
  const walks = {
    asc: [
      db.prepare(`SELECT seq, n FROM event_keys WHERE ${inRuns} AND ${ofObject} ORDER BY run, seq`),
      db.prepare(`SELECT seq, n FROM event_tail WHERE ${ofObject} ORDER BY seq`),
    ],
    desc: [
      db.prepare(`SELECT seq, n FROM event_tail WHERE ${ofObject} ORDER BY seq DESC`),
      db.prepare(
        `SELECT seq, n FROM event_keys WHERE ${inRuns} AND ${ofObject}
         ORDER BY run DESC, seq DESC`,
      ),
    ],
  } as const;
  const recordsOf = db.prepare('SELECT records FROM event_chunks WHERE seq = ?');
  // One read transaction: a run made or a merge step taken halfway through cannot show a key
  // twice or not at all.
  const find = db.transaction((q: EventQuery): EventPage => {
    const total = (
      count.get(q.savedObjectId, q.spaceId, q.savedObjectId, q.spaceId) as {
        n: number;
      }
    ).n;
    // Walk the counts to the chunk holding record `offset`, and read the records of that chunk
    // and of those after it until the page is full.
    let skip = q.offset;
    const pageChunks: number[] = [];
    let reached = 0;
    walking: for (const walk of walks[q.sortOrder]) {
      for (const { seq, n } of walk.iterate(q.savedObjectId, q.spaceId) as Iterable<{
        seq: number;
        n: number;
      }>) {
        if (pageChunks.length === 0 && skip >= n) {
          skip -= n;
          continue;
        }
        pageChunks.push(seq);
        reached += pageChunks.length === 1 ? n - skip : n;
        if (reached >= q.limit) break walking;
      }
    }
    const texts = pageChunks.map((seq) => (recordsOf.get(seq) as { records: string }).records);
    return { total, data: pageOf(texts, JSON.parse, q.sortOrder, skip, q.limit) };
  });
  return {
    async append(events: readonly StoredEvent[]) {
      if (events.length === 0) return;
      const chunks = chunksOf(events, (records) => JSON.stringify(records));
      // Flattened by a loop: with a chunk per record (runs spread over many connectors),
      // Array.prototype.flat cost the request thread 1.5 us a record, 40% of making the chunks.
      const fields: (string | number)[] = [];
      for (const chunk of chunks) fields.push(...chunk);
      await writer.call('appendEventChunks', fields);
    },
    async deleteBefore(timestamp, limit) {
      return (await writer.call('deleteEventsBefore', [timestamp, limit])) as number;
    },
    async find(q: EventQuery): Promise<EventPage> {
      return find(q);
    },
  };
}

/** A batch's answers from the writer thread, three entries each: id, value, error or undefined. */
type WriterReplies = unknown[];

/** A failure the writer thread reported, with SQLite's error code (SQLITE_BUSY, SQLITE_FULL, ...). */
class WriterError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * The request side of the writer thread (sqlite-writer.mjs): started on the first write, answered
 * by request id. Should the thread die, the writes in flight fail and the next write starts a
 * new one.
 */
class WriterThread {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: Error) => void }
  >();
  /** Calls made while the thread was busy, to be posted as one message: see call(). */
  private held: (string | number)[] = [];
  private heldCount = 0;

  constructor(
    private readonly file: string,
    private readonly eventLog: { tailKeys?: number; runsPerLevel?: number; mergeSlice?: number },
  ) {}

  /**
   * A call made while no other is under way is posted at once, so the write starts while the
   * request thread is still on the requests that came with it (holding every call of a turn to
   * its end made the two threads take turns: at full load the request thread sat idle a third of
   * the time, waiting on commits of work it had finished long before). A call made while others
   * are under way could not start before their batch commits anyway: it is held, and the calls
   * held in a turn go at its end (or after MAX_HOLD_MS, see end-of-turn.ts), in the order made,
   * as one message: a message costs the request thread more than the fields it carries, and the
   * thread a wake-up and an event. The thread commits whatever reached it while it was busy in
   * one transaction (group commit).
   *
   * A message is one or more calls, each as its length and then [id, op, ...fields].
   */
  call(op: string, fields: readonly (string | number)[]): Promise<unknown> {
    const worker = this.start();
    const id = this.nextId++;
    // While a write is under way the thread keeps the process alive: a process that stops
    // finishes its last writes (the event log flushed at close) before it exits.
    const idle = this.pending.size === 0;
    if (idle) worker.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (idle) {
        worker.postMessage([fields.length + 2, id, op, ...fields]);
        return;
      }
      const held = this.held;
      held.push(fields.length + 2, id, op);
      for (const field of fields) held.push(field);
      if (this.heldCount++ === 0) atEndOfTurn(this.postHeld);
    });
  }

  private readonly postHeld = (): void => {
    if (this.heldCount === 0) return;
    const message = this.held;
    this.held = [];
    this.heldCount = 0;
    this.worker?.postMessage(message);
  };

  async close(): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    this.postHeld();
    this.worker = undefined;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref();
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    if (this.worker !== undefined) return this.worker;
    const worker = new Worker(new URL('./sqlite-writer.mjs', import.meta.url), {
      workerData: { file: this.file, ...this.eventLog },
      // It holds one batch at a time: a small young generation keeps its memory small.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
    worker.unref();
    worker.on('message', (replies: WriterReplies) => {
      for (let i = 0; i < replies.length; i += 3) {
        const id = replies[i] as number;
        const call = this.pending.get(id);
        if (call === undefined) continue;
        this.pending.delete(id);
        const error = replies[i + 2] as { message: string; code?: string } | undefined;
        if (error === undefined) call.resolve(replies[i + 1]);
        else call.reject(new WriterError(error.message, error.code));
      }
      if (this.pending.size === 0) worker.unref();
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const call of this.pending.values()) call.reject(err);
      this.pending.clear();
      this.held = [];
      this.heldCount = 0;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.pending.size > 0)
        fail(new Error(`the store writer thread exited with code ${code}`));
    });
    this.worker = worker;
    return worker;
  }
}

function sqliteIndices(db: Database.Database, writer: WriterThread): IndexRepository {
  const getIndex = db.prepare('SELECT next_seq_no FROM indices WHERE name = ?');
  const countDocs = db.prepare('SELECT COUNT(*) AS n FROM index_docs WHERE index_name = ?');
  const pageDocs = db.prepare(
    'SELECT id, source FROM index_docs WHERE index_name = ? ORDER BY seq_no LIMIT ? OFFSET ?',
  );
  return {
    async bulkCreate(index, docs, newId) {
      const ids = docs.map(() => newId());
      // Text rather than objects: cheaper to pass to the thread, and what it stores.
      const fields: string[] = [index];
      for (const [i, doc] of docs.entries()) fields.push(ids[i] as string, JSON.stringify(doc));
      const first = (await writer.call('bulkCreate', fields)) as number;
      return ids.map((id, i): IndexItemResult => ({ id, version: 1, seqNo: first + i }));
    },
    async exists(index) {
      return getIndex.get(index) !== undefined;
    },
    async search(index, from, size) {
      const total = (countDocs.get(index) as { n: number }).n;
      const rows = pageDocs.all(index, size, from) as { id: string; source: string }[];
      return { total, hits: rows.map((r) => ({ id: r.id, source: JSON.parse(r.source) })) };
    },
  };
}
