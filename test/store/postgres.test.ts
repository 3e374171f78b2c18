import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { StoreChange } from '../../src/store/changes.js';
import { encodeJson, encodeText } from '../../src/store/pg-codec.js';
import { openPostgresStore } from '../../src/store/postgres.js';
import { type Store, StoreConflictError, type StoredConnector } from '../../src/store/types.js';
import {
  createDatabase,
  inDatabase,
  postgresAvailable,
  type TestDatabase,
} from '../helpers/postgres.js';
import { storeContract } from './contract.js';

/**
 * The store contract on PostgreSQL, and what only a shared engine must do: migrate safely when
 * instances start together, map unique violations to conflicts under a race, and keep every
 * instance's change feed in step, across a lost LISTEN connection too.
 */

const available = await postgresAvailable();

const databases: TestDatabase[] = [];
/** Stores a test opened, closed after it so connections do not pile up across tests. */
let stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.map((s) => s.close()));
  stores = [];
});
afterAll(() => Promise.all(databases.map((db) => db.drop())));

async function freshDatabase(): Promise<TestDatabase> {
  const db = await createDatabase();
  databases.push(db);
  return db;
}

function openStore(url: string): Promise<Store> {
  return openPostgresStore({
    url,
    poolSize: 4,
    statementTimeoutMs: 10_000,
    connectionTimeoutMs: 5_000,
  });
}

async function open(url: string): Promise<Store> {
  const store = await openStore(url);
  stores.push(store);
  return store;
}

/** Resolves with the first change matching, or rejects after `ms`. */
function nextChange(
  store: Store,
  match: (c: StoreChange) => boolean,
  ms = 1000,
): Promise<StoreChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no matching change within ${ms} ms`));
    }, ms);
    const stop = store.changes.subscribe((c) => {
      if (!match(c)) return;
      clearTimeout(timer);
      stop();
      resolve(c);
    });
  });
}

const connector = (id: string, spaceId = 'default'): StoredConnector => ({
  id,
  spaceId,
  typeId: '.index',
  name: id,
  config: {},
  secrets: 'blob',
  isMissingSecrets: false,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

if (available) {
  // The contract suite closes its own store when it is done.
  storeContract('postgres', async () => openStore((await freshDatabase()).url));

  describe('postgres: several instances on one database', () => {
    it('migrates once when several instances start at the same moment', async () => {
      const db = await freshDatabase();
      const opened = await Promise.all(Array.from({ length: 6 }, () => open(db.url)));
      expect(opened).toHaveLength(6);
      const { versions, spaces } = await inDatabase(db.url, async (client) => ({
        versions: (await client.query('SELECT version FROM schema_migrations ORDER BY version'))
          .rows,
        spaces: (await client.query("SELECT id FROM spaces WHERE id = 'default'")).rowCount,
      }));
      expect(versions.map((r) => r.version)).toEqual([1, 2]);
      expect(spaces).toBe(1);
      // And again, now that the schema is there.
      await open(db.url);
    });

    it('lets exactly one of two racing creates of an id win', async () => {
      const db = await freshDatabase();
      const [a, b] = [await open(db.url), await open(db.url)];
      for (let i = 0; i < 20; i++) {
        const outcomes = await Promise.allSettled([
          a.connectors.create(connector(`race-${i}`)),
          b.connectors.create(connector(`race-${i}`, 'other')),
        ]);
        expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
        const lost = outcomes.find((o) => o.status === 'rejected');
        expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(StoreConflictError);
      }
    });

    it("publishes each instance's writes on every instance, and its own once", async () => {
      const db = await freshDatabase();
      const [a, b, c] = [await open(db.url), await open(db.url), await open(db.url)];
      const seenOnA: StoreChange[] = [];
      a.changes.subscribe((change) => seenOnA.push(change));

      await a.connectors.create(connector('shared'));
      const onB = nextChange(b, (ch) => ch.kind === 'connector');
      const onC = nextChange(c, (ch) => ch.kind === 'connector');
      const started = Date.now();
      await a.connectors.update('default', 'shared', { name: 'x', config: {}, secrets: null });
      const expected = { kind: 'connector', spaceId: 'default', id: 'shared' };
      expect(await onB).toEqual(expected);
      expect(await onC).toEqual(expected);
      expect(Date.now() - started).toBeLessThan(1000);

      const deleted = nextChange(b, (ch) => ch.kind === 'connector');
      await a.connectors.delete('default', 'shared');
      expect(await deleted).toEqual(expected);
      // Nothing changed: nothing published.
      await a.connectors.delete('default', 'shared');

      await b.spaces.create({ id: 'gone', name: 'Gone', disabledFeatures: [] });
      const space = nextChange(a, (ch) => ch.kind === 'space');
      await b.spaces.delete('gone');
      expect(await space).toEqual({ kind: 'space', id: 'gone' });

      await b.apiKeys.create({
        id: 'key-1',
        name: 'k',
        hash: 'h',
        username: 'elastic',
        realm: 'reserved',
        roleDescriptors: {},
        limitedBy: null,
        metadata: {},
        createdAt: 1,
        expiration: null,
        invalidated: false,
        invalidatedAt: null,
      });
      const key = nextChange(a, (ch) => ch.kind === 'apiKey');
      await b.apiKeys.invalidate(['key-1']);
      expect(await key).toEqual({ kind: 'apiKey', id: 'key-1' });

      const user = nextChange(c, (ch) => ch.kind === 'user');
      await b.users.put({
        username: 'u\u0000nul',
        passwordHash: 'h',
        roles: [],
        fullName: null,
        email: null,
        metadata: {},
        enabled: true,
      });
      expect(await user).toEqual({ kind: 'user', id: 'u\u0000nul' });
      const role = nextChange(c, (ch) => ch.kind === 'role');
      await b.roles.delete('none');
      await b.roles.put({ name: 'r', metadata: {}, elasticsearch: {}, kibana: [] });
      expect(await role).toEqual({ kind: 'role', id: 'r' });

      // A's own writes reached its feed once each, at once; B's writes reached it by NOTIFY.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(seenOnA).toEqual([
        expected,
        expected,
        { kind: 'space', id: 'gone' },
        { kind: 'apiKey', id: 'key-1' },
        { kind: 'user', id: 'u\u0000nul' },
        { kind: 'role', id: 'r' },
      ]);
    });

    it('sends a change too large for NOTIFY as "forget everything"', async () => {
      const db = await freshDatabase();
      const [a, b] = [await open(db.url), await open(db.url)];
      const id = 'long-'.repeat(2000);
      await a.connectors.create(connector(id));
      const onA = nextChange(a, () => true);
      const onB = nextChange(b, () => true);
      await a.connectors.delete('default', id);
      expect(await onA).toEqual({ kind: 'connector', spaceId: 'default', id });
      expect(await onB).toEqual({ kind: 'all' });
    });

    it('tells the caches to forget everything when LISTEN drops, and hears changes again once back', async () => {
      const db = await freshDatabase();
      const [a, b] = [await open(db.url), await open(db.url)];
      await a.connectors.create(connector('after-drop'));
      const lost = nextChange(b, (ch) => ch.kind === 'all', 3000);
      const killed = await inDatabase(db.url, async (client) => {
        const { rows } = await client.query<{ ok: boolean }>(
          "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'kcs-listen'",
        );
        return rows.length;
      });
      expect(killed).toBe(2);
      expect(await lost).toEqual({ kind: 'all' });
      // Once reconnected (another "forget everything"), B hears A's writes again.
      await nextChange(b, (ch) => ch.kind === 'all', 3000);
      const heard = nextChange(b, (ch) => ch.kind === 'connector');
      await a.connectors.update('default', 'after-drop', { name: 'y', config: {}, secrets: null });
      expect(await heard).toEqual({ kind: 'connector', spaceId: 'default', id: 'after-drop' });
    });

    it('swaps secrets only if unchanged, when instances race to rotate the same connector', async () => {
      const db = await freshDatabase();
      const [a, b] = [await open(db.url), await open(db.url)];
      await a.connectors.create(connector('rotated'));
      const won = await Promise.all([
        a.connectors.replaceSecrets('default', 'rotated', 'blob', 'sealed-by-a'),
        b.connectors.replaceSecrets('default', 'rotated', 'blob', 'sealed-by-b'),
      ]);
      expect(won.filter(Boolean)).toHaveLength(1);
      expect((await b.connectors.get('default', 'rotated'))?.secrets).toBe(
        won[0] ? 'sealed-by-a' : 'sealed-by-b',
      );
    });

    it('gives index documents unique, gap-free sequence numbers across instances', async () => {
      const db = await freshDatabase();
      const [a, b] = [await open(db.url), await open(db.url)];
      let n = 0;
      const ids = () => `doc-${n++}`;
      const writes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).indices.bulkCreate('shared', [{ i }, { i }], ids),
        ),
      );
      const seqNos = writes.flat().map((r) => r.seqNo);
      expect([...seqNos].sort((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      for (const write of writes) expect(write[1]?.seqNo).toBe((write[0]?.seqNo ?? 0) + 1);
      const found = await b.indices.search('shared', 0, 100);
      expect(found.total).toBe(40);
    });
  });

  describe('postgres: the event log in chunks', () => {
    it('shares a sweep out between instances: every old record goes once, no new one', async () => {
      const db = await freshDatabase();
      const [a, b] = [await open(db.url), await open(db.url)];
      const event = (day: number, object: string) => ({
        ts: `2026-04-${String(day).padStart(2, '0')}T00:00:00.000Z`,
        spaceId: 'default',
        savedObjectId: object,
        action: 'execute',
        doc: { day, object },
      });
      // Chunks of several records each, some straddling the cutoff (day 10).
      for (let flush = 0; flush < 30; flush++) {
        const store = flush % 2 === 0 ? a : b;
        await store.events.append(
          [1, 2, 3].flatMap((k) => [
            event(((flush + k) % 20) + 1, `c${k}`),
            event(((flush * 7 + k) % 20) + 1, `c${k}`),
          ]),
        );
      }
      const all = async (object: string) =>
        (
          await a.events.find({
            savedObjectId: object,
            spaceId: 'default',
            offset: 0,
            limit: 1000,
            sortOrder: 'asc',
          })
        ).data as { day: number }[];
      const before = (await Promise.all(['c1', 'c2', 'c3'].map(all))).flat();
      const old = before.filter((d) => d.day < 10).length;
      expect(old).toBeGreaterThan(20);
      const cutoff = '2026-04-10T00:00:00.000Z';
      const sweep = async (store: Store) => {
        let total = 0;
        for (;;) {
          const n = await store.events.deleteBefore(cutoff, 7);
          total += n;
          if (n === 0) return total;
        }
      };
      const [byA, byB] = await Promise.all([sweep(a), sweep(b)]);
      expect(byA + byB).toBe(old);
      const after = (await Promise.all(['c1', 'c2', 'c3'].map(all))).flat();
      expect(after).toEqual(before.filter((d) => d.day >= 10));
    });

    it('parses the event-log append and the index write once per connection, not per batch', async () => {
      const db = await freshDatabase();
      const proxy = await parseWatcher(db.url);
      const store = await openPostgresStore({
        url: proxy.url,
        poolSize: 1,
        statementTimeoutMs: 10_000,
        connectionTimeoutMs: 5_000,
      });
      try {
        for (let batch = 0; batch < 3; batch++) {
          await store.events.append([
            {
              ts: `2026-04-0${batch + 1}T00:00:00.000Z`,
              spaceId: 'default',
              savedObjectId: 'c1',
              action: 'execute',
              doc: { batch },
            },
          ]);
          await store.indices.bulkCreate('logs', [{ batch }], () => `doc-${batch}`);
        }
        const page = await store.events.find({
          savedObjectId: 'c1',
          spaceId: 'default',
          offset: 0,
          limit: 10,
          sortOrder: 'asc',
        });
        expect(page.data).toEqual([{ batch: 0 }, { batch: 1 }, { batch: 2 }]);
        expect((await store.indices.search('logs', 0, 10)).total).toBe(3);
        expect(proxy.parses('INSERT INTO event_chunks')).toEqual(['kcs-append-event-chunks']);
        expect(proxy.parses('INSERT INTO index_docs')).toEqual(['kcs-index-docs']);
      } finally {
        await store.close();
        await proxy.close();
      }
    });

    it('moves the records of the row-per-record layout into chunks, exactly and in order', async () => {
      const db = await freshDatabase();
      await openStore(db.url).then((store) => store.close());
      // Back to the layout before the chunks: the last migration undone, records stored as the
      // row-per-record layout stored them (text and JSONB through the codec, times as
      // timestamptz).
      const odd = ['nul \u0000 soh \u0001 lone \ud800', 'quote " and \\ and \u2028', null, 1.5];
      await inDatabase(db.url, async (client) => {
        await client.query(`DELETE FROM schema_migrations WHERE version = 2;
          DROP TABLE event_chunks;
          CREATE TABLE event_log (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, ts TIMESTAMPTZ NOT NULL,
            space_id TEXT COLLATE "C" NOT NULL, saved_object_id TEXT COLLATE "C" NOT NULL,
            action TEXT NOT NULL, doc JSONB NOT NULL);
          CREATE INDEX event_log_by_object ON event_log (saved_object_id, space_id, seq);
          CREATE INDEX event_log_by_ts ON event_log (ts);`);
        const rows: [string, string, unknown][] = [
          ['2026-03-01T00:00:00.000Z', 'c1', { first: true }],
          ['2026-03-01T00:00:01.000Z', 'c2', ['other connector']],
          ['2026-03-01T00:00:02.250Z', 'c1', odd],
        ];
        for (const [ts, id, doc] of rows) {
          await client.query(
            "INSERT INTO event_log (ts, space_id, saved_object_id, action, doc) VALUES ($1, 'default', $2, 'execute', $3)",
            [ts, encodeText(id), encodeJson(doc)],
          );
        }
      });

      const store = await open(db.url);
      const find = (savedObjectId: string, sortOrder: 'asc' | 'desc', offset = 0) =>
        store.events.find({ savedObjectId, spaceId: 'default', offset, limit: 10, sortOrder });
      expect(await find('c1', 'asc')).toEqual({ total: 2, data: [{ first: true }, odd] });
      expect(await find('c1', 'desc')).toEqual({ total: 2, data: [odd, { first: true }] });
      expect(await find('c2', 'asc')).toEqual({ total: 1, data: [['other connector']] });
      // What is written after comes after them.
      await store.events.append([
        {
          ts: '2026-03-02T00:00:00.000Z',
          spaceId: 'default',
          savedObjectId: 'c1',
          action: 'execute',
          doc: 'later',
        },
      ]);
      expect(await find('c1', 'asc', 1)).toEqual({ total: 3, data: [odd, 'later'] });
      // The times came over to the millisecond: the cutoff between two records splits them.
      expect(await store.events.deleteBefore('2026-03-01T00:00:02.249Z', 10)).toBe(2);
      expect(await store.events.deleteBefore('2026-03-01T00:00:02.251Z', 10)).toBe(1);
      expect(await find('c1', 'asc')).toEqual({ total: 1, data: ['later'] });
      const tables = await inDatabase(db.url, async (client) =>
        (
          await client.query<{ name: string }>(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'event%' ORDER BY 1",
          )
        ).rows.map((r) => r.name),
      );
      expect(tables).toEqual(['event_chunks']);
    });
  });
} else {
  describe.skip('store contract: postgres (PostgreSQL unreachable)', () => {
    it('runs when PostgreSQL is reachable', () => {});
  });
}

/**
 * A loopback proxy to the database that reads what clients send: `parses(text)` gives the
 * statement name of each Parse message (type 'P': name, then query text, NUL-terminated) whose
 * query holds `text`, in the order sent.
 */
async function parseWatcher(url: string): Promise<{
  url: string;
  parses(text: string): string[];
  close(): Promise<void>;
}> {
  const target = new URL(url);
  const seen: Array<{ name: string; query: string }> = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    let buffered = Buffer.alloc(0);
    let started = false;
    client.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        // The startup message has no type byte: a length, then the rest.
        const head = started ? 1 : 0;
        if (buffered.length < head + 4) break;
        const size = head + buffered.readUInt32BE(head);
        if (buffered.length < size) break;
        if (started && buffered[0] === 0x50) {
          const body = buffered.subarray(5, size);
          const nameEnd = body.indexOf(0);
          const queryEnd = body.indexOf(0, nameEnd + 1);
          seen.push({
            name: body.subarray(0, nameEnd).toString(),
            query: body.subarray(nameEnd + 1, queryEnd).toString(),
          });
        }
        started = true;
        buffered = buffered.subarray(size);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const proxied = new URL(url);
  proxied.hostname = '127.0.0.1';
  proxied.port = String(address.port);
  // Encrypted, the messages could not be read.
  proxied.searchParams.set('sslmode', 'disable');
  return {
    url: proxied.toString(),
    parses: (text) => seen.filter((p) => p.query.includes(text)).map((p) => p.name),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
