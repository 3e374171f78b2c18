import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { indexConnector } from '../../src/connectors/es_index/index.js';
import { connectorAad, SecretsCipher } from '../../src/store/crypto.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import { createConnector, execute } from '../helpers/connectors.js';
import { startServer, tempDir } from '../helpers/server.js';
import { secretEchoConnector } from '../helpers/test-connector.js';
import { storeContract } from './contract.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

storeContract('sqlite', async () => {
  const dir = tempDir('kcs-store-');
  dirs.push(dir);
  return openSqliteStore(dir);
});

describe('secrets at rest', () => {
  it('seals with AES-256-GCM bound to space, type and id', () => {
    const cipher = new SecretsCipher('k'.repeat(32));
    const blob = cipher.encrypt({ token: 'abc' }, connectorAad('default', '.x', 'id1'));
    expect(blob).toMatch(/^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(cipher.decrypt(blob, connectorAad('default', '.x', 'id1'))).toEqual({ token: 'abc' });
    expect(() => cipher.decrypt(blob, connectorAad('default', '.x', 'id2'))).toThrow(
      'Unable to decrypt secrets',
    );
    expect(() => cipher.decrypt(blob, connectorAad('other', '.x', 'id1'))).toThrow(
      'Unable to decrypt secrets',
    );
    expect(() => cipher.decrypt(blob, connectorAad('default', '.y', 'id1'))).toThrow(
      'Unable to decrypt secrets',
    );
    expect(() =>
      new SecretsCipher('z'.repeat(32)).decrypt(blob, connectorAad('default', '.x', 'id1')),
    ).toThrow('Secrets were encrypted with an unknown key');
    // A rotated-out key still opens old blobs.
    const rotated = new SecretsCipher('z'.repeat(32), ['k'.repeat(32)]);
    expect(rotated.decrypt(blob, connectorAad('default', '.x', 'id1'))).toEqual({ token: 'abc' });
  });

  it('leaves no plaintext secret anywhere under path.data, and survives a restart', async () => {
    const dataDir = tempDir('kcs-rest-');
    dirs.push(dataDir);
    const secret = 'plaintext-secret-value-4242';
    const server = await startServer({
      dataDir,
      connectorTypes: [secretEchoConnector, indexConnector],
    });
    const id = await createConnector(server.api, {
      connector_type_id: '.test-secret',
      secrets: { token: secret },
    });
    const got = await server.api('GET', `/api/actions/connector/${id}`);
    expect(got.text).not.toContain(secret);
    expect(await execute(server.api, id, { echo: 'hi' })).toEqual({
      status: 'ok',
      connector_id: id,
      data: { tokenLength: secret.length, echo: 'hi' },
    });
    for (const file of readdirSync(dataDir)) {
      expect(readFileSync(join(dataDir, file)).includes(secret), file).toBe(false);
    }
    await server.close();
    for (const file of readdirSync(dataDir)) {
      expect(readFileSync(join(dataDir, file)).includes(secret), file).toBe(false);
    }
    const again = await startServer({ dataDir, connectorTypes: [secretEchoConnector] });
    expect((await execute(again.api, id, {})).status).toBe('ok');
    await again.close();
  });

  it('answers a connector whose secrets were moved onto another with an error result, not a 500', async () => {
    const dataDir = tempDir('kcs-swap-');
    dirs.push(dataDir);
    const server = await startServer({ dataDir, connectorTypes: [secretEchoConnector] });
    const a = await createConnector(server.api, {
      connector_type_id: '.test-secret',
      secrets: { token: 'aaaa' },
    });
    const b = await createConnector(server.api, {
      connector_type_id: '.test-secret',
      secrets: { token: 'bbbb' },
    });
    const db = new Database(join(dataDir, 'connectors.sqlite'));
    db.prepare(
      'UPDATE connectors SET secrets = (SELECT secrets FROM connectors WHERE id = ?) WHERE id = ?',
    ).run(a, b);
    db.close();
    expect(await execute(server.api, b, {})).toEqual({
      status: 'error',
      connector_id: b,
      message: 'Unable to decrypt the connector secrets; update the connector to store them again',
      retry: false,
      errorSource: 'framework',
    });
    await server.close();
  });
});

describe('the writer thread', () => {
  it('writes the calls made in the turn the store closes in', async () => {
    const dir = tempDir('kcs-close-');
    dirs.push(dir);
    const store = await openSqliteStore(dir);
    let n = 0;
    const ids = () => `doc-${n++}`;
    // The first write starts the thread; the second is made in the turn the store closes in,
    // before the thread has written it.
    await store.indices.bulkCreate('first', [{ a: 0 }], ids);
    const written = store.indices.bulkCreate('late', [{ a: 1 }], ids);
    await store.close();
    expect(await written).toEqual([{ id: 'doc-1', version: 1, seqNo: 0 }]);
    const reopened = await openSqliteStore(dir);
    expect(await reopened.indices.search('late', 0, 10)).toEqual({
      total: 1,
      hits: [{ id: 'doc-1', source: { a: 1 } }],
    });
    await reopened.close();
  });

  it('writes calls held behind one under way when the store closes in their turn', async () => {
    const dir = tempDir('kcs-held-');
    dirs.push(dir);
    const store = await openSqliteStore(dir);
    let n = 0;
    const ids = () => `doc-${n++}`;
    // The first call is posted at once; the two made while it is under way are held for the end
    // of the turn, and the store closes before that end.
    const calls = [
      store.indices.bulkCreate('held', [{ a: 0 }], ids),
      store.indices.bulkCreate('held', [{ a: 1 }, { a: 2 }], ids),
      store.indices.bulkCreate('held', [{ a: 3 }], ids),
    ];
    await store.close();
    expect(await Promise.all(calls)).toEqual([
      [{ id: 'doc-0', version: 1, seqNo: 0 }],
      [
        { id: 'doc-1', version: 1, seqNo: 1 },
        { id: 'doc-2', version: 1, seqNo: 2 },
      ],
      [{ id: 'doc-3', version: 1, seqNo: 3 }],
    ]);
    const reopened = await openSqliteStore(dir);
    expect((await reopened.indices.search('held', 0, 10)).hits.map((hit) => hit.source)).toEqual(
      [0, 1, 2, 3].map((a) => ({ a })),
    );
    await reopened.close();
  });
});

/** The tables of the event log's runs, dropped to take back the migration that made them. */
const DROP_RUNS = `DROP TABLE event_tail;
  DROP TABLE event_keys;
  DROP TABLE event_runs;
  DROP TABLE event_ages;`;

/**
 * A new store's database with its last `count` migrations taken back by `sql`, which restores
 * the layout before them; open for the test to fill.
 */
async function undoMigrations(dir: string, count: number, sql: string): Promise<Database.Database> {
  await openSqliteStore(dir).close();
  const db = new Database(join(dir, 'connectors.sqlite'));
  const { v } = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
    v: number;
  };
  db.prepare('DELETE FROM schema_migrations WHERE version > ?').run(v - count);
  db.exec(sql);
  return db;
}

describe('the event log in chunks', () => {
  /** Appends a record for each object named, one a second, numbered from 0 in `doc.i`. */
  const appenderTo = (store: ReturnType<typeof openSqliteStore>) => {
    let i = 0;
    return (...objects: string[]) =>
      store.events.append(
        objects.map((savedObjectId) => ({
          ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
          spaceId: 'default',
          savedObjectId,
          action: 'execute',
          doc: { i: i++ },
        })),
      );
  };

  it('sorts the tail into runs and merges runs a slice at a time, walked in order', async () => {
    const dir = tempDir('kcs-runs-');
    dirs.push(dir);
    const ts = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    let next = 0;
    const records = (savedObjectId: string, count: number) =>
      Array.from({ length: count }, () => {
        const i = next++;
        return { ts: ts(i), spaceId: 'default', savedObjectId, action: 'execute', doc: { i } };
      });
    const stored = () => {
      const db = new Database(join(dir, 'connectors.sqlite'), { readonly: true });
      const rows = <T>(sql: string) => db.prepare(sql).all() as T[];
      const state = {
        runs: rows<{ run: number; level: number; merging: number | null }>(
          'SELECT run, level, merging FROM event_runs ORDER BY run',
        ).map(({ run, level, merging }) => `${run}:${level}${merging ? `>${merging}` : ''}`),
        keys: rows<{ run: number; o: string; seq: number; n: number }>(
          `SELECT run, saved_object_id AS o, seq, n FROM event_keys
           ORDER BY run, saved_object_id, space_id, seq`,
        ).map(({ run, o, seq, n }) => `${run}:${o}:${seq}:${n}`),
        tail: rows<{ o: string; seq: number }>(
          'SELECT saved_object_id AS o, seq FROM event_tail ORDER BY seq',
        ).map(({ o, seq }) => `${o}:${seq}`),
      };
      db.close();
      return state;
    };
    // A run every three keys, two runs of a level merged into one, each step of a merge moving
    // the keys up to the next of the newest run.
    const options = { eventTailKeys: 3, eventRunsPerLevel: 2, eventMergeSlice: 0 };
    let store = openSqliteStore(dir, options);
    const idsOf = async (
      savedObjectId: string,
      offset: number,
      limit: number,
      sortOrder: 'asc' | 'desc',
    ) => {
      const found = await store.events.find({
        savedObjectId,
        spaceId: 'default',
        offset,
        limit,
        sortOrder,
      });
      return [found.total, found.data.map((d) => (d as { i: number }).i)];
    };

    // Chunks (seq: records): 1 a:0,1  2 b:2  3 a:3, a run;  4 c:4  5 a:5,6  6 a:7, a run, and the
    // two start merging: a's keys up to seq 5 move first, the rest of a's on the next flush.
    await store.events.append([...records('a', 2), ...records('b', 1)]);
    await store.events.append(records('a', 1));
    await store.events.append([...records('c', 1), ...records('a', 2)]);
    await store.events.append(records('a', 1));
    // The writer makes runs and merge steps after it answers a batch: its state is read once it
    // has got there.
    await expect.poll(stored).toEqual({
      runs: ['1023:1', '1024:0>1023', '2048:0>1023'],
      keys: ['1023:a:1:2', '1023:a:3:1', '1023:a:5:2', '1024:b:2:1', '2048:a:6:1', '2048:c:4:1'],
      tail: [],
    });
    // Halfway through, each record is found once and in order.
    expect(await idsOf('a', 0, 20, 'asc')).toEqual([6, [0, 1, 3, 5, 6, 7]]);
    expect(await idsOf('a', 4, 5, 'asc')).toEqual([6, [6, 7]]);
    expect(await idsOf('a', 0, 3, 'desc')).toEqual([6, [7, 6, 5]]);
    // 7 a:8,9,10  8 b:11  9 a:12, a run (3072) as the merge ends;  10 a:13,14 in the tail.
    await store.events.append([...records('a', 3), ...records('b', 1)]);
    await store.events.append(records('a', 1));
    await store.events.append(records('a', 2));
    const a = [0, 1, 3, 5, 6, 7, 8, 9, 10, 12, 13, 14];
    expect(await idsOf('a', 0, 20, 'asc')).toEqual([12, a]);
    expect(await idsOf('a', 0, 20, 'desc')).toEqual([12, [...a].reverse()]);
    // From one run into the next, from the last into the tail, and back.
    expect(await idsOf('a', 5, 3, 'asc')).toEqual([12, [7, 8, 9]]);
    expect(await idsOf('a', 8, 3, 'asc')).toEqual([12, [10, 12, 13]]);
    expect(await idsOf('a', 1, 4, 'desc')).toEqual([12, [13, 12, 10, 9]]);
    expect(await idsOf('a', 5, 2, 'desc')).toEqual([12, [8, 7]]);
    expect(await idsOf('b', 0, 5, 'desc')).toEqual([2, [11, 2]]);
    expect(await idsOf('c', 0, 5, 'asc')).toEqual([1, [4]]);
    await store.close();
    expect(stored()).toEqual({
      runs: ['1023:1', '3072:0'],
      keys: [
        '1023:a:1:2',
        '1023:a:3:1',
        '1023:a:5:2',
        '1023:a:6:1',
        '1023:b:2:1',
        '1023:c:4:1',
      ].concat(['3072:a:7:3', '3072:a:9:1', '3072:b:8:1']),
      tail: ['a:10'],
    });

    // Reopened, the tail's keys are counted again: the second of these makes it a run, which
    // starts merging with 3072.
    store = openSqliteStore(dir, options);
    await store.events.append(records('d', 1));
    await store.events.append(records('d', 1));
    expect(await idsOf('d', 0, 5, 'asc')).toEqual([2, [15, 16]]);
    expect(await idsOf('a', 9, 5, 'asc')).toEqual([12, [12, 13, 14]]);
    await expect
      .poll(() => stored().runs)
      .toEqual(['1023:1', '3071:1', '3072:0>3071', '4096:0>3071']);

    // A sweep drops the keys of chunks it deletes and recounts those of chunks it rewrites.
    expect(await store.events.deleteBefore(ts(6), 10)).toBe(6);
    expect(await idsOf('a', 0, 20, 'asc')).toEqual([8, [6, 7, 8, 9, 10, 12, 13, 14]]);
    expect(await idsOf('a', 1, 2, 'asc')).toEqual([8, [7, 8]]);
    expect(await idsOf('b', 0, 5, 'asc')).toEqual([1, [11]]);
    expect(await idsOf('c', 0, 5, 'asc')).toEqual([0, []]);
    await expect
      .poll(() => stored().keys.filter((key) => key.startsWith('1023:')))
      .toEqual(['1023:a:5:1', '1023:a:6:1']);
    // And a run left without keys goes, but not one a merge is moving keys out of.
    expect(await store.events.deleteBefore(ts(11), 100)).toBe(5);
    expect(await idsOf('a', 0, 20, 'desc')).toEqual([3, [14, 13, 12]]);
    await store.close();
    expect(stored().runs).toEqual(['3071:1', '3072:0>3071', '4096:0>3071']);

    // A merge left halfway goes on after a restart.
    store = openSqliteStore(dir, options);
    await store.events.append(records('e', 1));
    expect(await idsOf('d', 0, 5, 'desc')).toEqual([2, [16, 15]]);
    await store.close();
    expect(stored().runs).toEqual(['3071:1']);
  });

  it('ends each step of a merge within a run that has keys past it', async () => {
    const dir = tempDir('kcs-runs-');
    dirs.push(dir);
    const store = openSqliteStore(dir, {
      eventTailKeys: 2,
      eventRunsPerLevel: 2,
      eventMergeSlice: 0,
    });
    const append = appenderTo(store);
    const runs = () => {
      const db = new Database(join(dir, 'connectors.sqlite'), { readonly: true });
      const rows = db.prepare('SELECT run, merging FROM event_runs ORDER BY run').all() as Array<{
        run: number;
        merging: number | null;
      }>;
      db.close();
      return rows.map(({ run, merging }) => (merging ? `${run}>${merging}` : `${run}`));
    };
    // Runs 1024 (a, z) and 2048 (a, b) merge into 1023: a's keys, then b's, then z's, which only
    // the older run holds, each on a step of its own; then the merged runs go.
    await append('z', 'a');
    await append('a', 'b');
    await append('c');
    await append('c');
    expect(runs()).toEqual(['1023', '1024>1023', '2048>1023', '3072']);
    await append('d');
    expect(runs()).toEqual(['1023', '3072']);
    const found = await store.events.find({
      savedObjectId: 'z',
      spaceId: 'default',
      offset: 0,
      limit: 5,
      sortOrder: 'asc',
    });
    expect(found).toEqual({ total: 1, data: [{ i: 0 }] });
    await store.close();
  });

  describe('numbers runs so that every merge has a number to take', () => {
    const file = (dir: string) => join(dir, 'connectors.sqlite');
    const runsIn = (dir: string) => {
      const db = new Database(file(dir), { readonly: true });
      const rows = db
        .prepare('SELECT run, level, merging FROM event_runs ORDER BY run')
        .all() as Array<{ run: number; level: number; merging: number | null }>;
      db.close();
      return rows.map(
        ({ run, level, merging }) => `${run}:${level}${merging ? `>${merging}` : ''}`,
      );
    };
    // A run every two keys, two runs of a level merged into one, each merge in one step.
    const options = { eventTailKeys: 2, eventRunsPerLevel: 2, eventMergeSlice: 100 };
    const idsOf = async (store: ReturnType<typeof openSqliteStore>, savedObjectId: string) => {
      const found = await store.events.find({
        savedObjectId,
        spaceId: 'default',
        offset: 0,
        limit: 20,
        sortOrder: 'asc',
      });
      return [found.total, found.data.map((d) => (d as { i: number }).i)];
    };

    /** Three runs' keys written, the first two merged before the third run was made. */
    const mergedOnce = async () => {
      const dir = tempDir('kcs-runs-');
      dirs.push(dir);
      const store = openSqliteStore(dir, options);
      const append = appenderTo(store);
      await append('a', 'b');
      await append('a', 'c');
      // 1024 and 2048 merged into 1023 after the batch that made 2048, before any other run.
      await expect.poll(() => runsIn(dir)).toEqual(['1023:1']);
      await append('a', 'd');
      return { dir, store, append };
    };

    it('after a merge that ended before the next run was made', async () => {
      const { dir, store, append } = await mergedOnce();
      await expect.poll(() => runsIn(dir)).toEqual(['1023:1', '2048:0']);
      // The next run's merge takes 2047, and the level above it, full, merges into 1022.
      await append('a', 'e');
      await append('a');
      await expect.poll(() => runsIn(dir)).toEqual(['1022:2']);
      expect(await idsOf(store, 'a')).toEqual([5, [0, 2, 4, 6, 8]]);
      expect(await idsOf(store, 'e')).toEqual([1, [7]]);
      await store.close();
    });

    it('in a store made before, by merging along the run in the way', async () => {
      const { dir, store: before } = await mergedOnce();
      await before.close();
      // As a store numbering tail runs right above the newest run left them: 1024 below 2048.
      const db = new Database(file(dir));
      db.exec('UPDATE event_runs SET run = 1024 WHERE run = 2048');
      db.exec('UPDATE event_keys SET run = 1024 WHERE run = 2048');
      db.close();
      expect(runsIn(dir)).toEqual(['1023:1', '1024:0']);

      const store = openSqliteStore(dir, options);
      const append = appenderTo(store);
      await append('e', 'f');
      // 1024 and the new 2048 merge, with 1023, which had the number the merge takes, into 1022.
      await expect.poll(() => runsIn(dir)).toEqual(['1022:1']);
      expect(await idsOf(store, 'a')).toEqual([3, [0, 2, 4]]);
      expect(await idsOf(store, 'f')).toEqual([1, [1]]);
      await store.close();
    });
  });

  it('writes a flush of many chunks, and keys each in the tail', async () => {
    const dir = tempDir('kcs-runs-');
    dirs.push(dir);
    const store = openSqliteStore(dir);
    const record = (k: number, i: number) => ({
      ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      spaceId: 'default',
      savedObjectId: `o${k}`,
      action: 'execute',
      doc: { k, i },
    });
    // 100 chunks in one flush (written 64, 32 and 4 at a time), then 3 in another.
    await store.events.append(Array.from({ length: 100 }, (_, k) => record(k, k)));
    await store.events.append([record(0, 100), record(99, 101), record(50, 102)]);
    // One chunk per object in a flush, in the order the objects first come.
    await store.events.append([record(7, 103), record(8, 104), record(7, 105)]);
    const find = (k: number) =>
      store.events.find({
        savedObjectId: `o${k}`,
        spaceId: 'default',
        offset: 0,
        limit: 10,
        sortOrder: 'asc',
      });
    expect(await find(0)).toEqual({
      total: 2,
      data: [
        { k: 0, i: 0 },
        { k: 0, i: 100 },
      ],
    });
    expect(await find(7)).toEqual({
      total: 3,
      data: [
        { k: 7, i: 7 },
        { k: 7, i: 103 },
        { k: 7, i: 105 },
      ],
    });
    expect(await find(63)).toEqual({ total: 1, data: [{ k: 63, i: 63 }] });
    expect(await find(64)).toEqual({ total: 1, data: [{ k: 64, i: 64 }] });
    expect(await find(99)).toEqual({
      total: 2,
      data: [
        { k: 99, i: 99 },
        { k: 99, i: 101 },
      ],
    });
    await store.close();
    const db = new Database(join(dir, 'connectors.sqlite'), { readonly: true });
    const rows = (table: string) =>
      (
        db.prepare(`SELECT seq, saved_object_id AS o FROM ${table} ORDER BY seq`).all() as Array<{
          seq: number;
          o: string;
        }>
      ).map(({ seq, o }) => `${seq}:${o}`);
    const expected = [...Array.from({ length: 100 }, (_, k) => `${k + 1}:o${k}`), '101:o0'];
    expect(rows('event_chunks')).toEqual([...expected, '102:o99', '103:o50', '104:o7', '105:o8']);
    expect(rows('event_tail')).toEqual(rows('event_chunks'));
    db.close();
  });

  it('moves the merged tail into chunks, and the key of every chunk into a run', async () => {
    const dir = tempDir('kcs-runs-');
    dirs.push(dir);
    // Back to the layout before the runs: chunks indexed by object, and a tail of chunks with
    // their records beside them, numbered apart from event_chunks.
    const db = await undoMigrations(
      dir,
      1,
      `${DROP_RUNS}
      CREATE INDEX event_chunks_by_object ON event_chunks (saved_object_id, space_id, seq, n);
      CREATE INDEX event_chunks_by_age ON event_chunks (first_ts);
      CREATE TABLE event_tail (seq INTEGER PRIMARY KEY, space_id TEXT NOT NULL,
        saved_object_id TEXT NOT NULL, n INTEGER NOT NULL);
      CREATE TABLE event_tail_records (seq INTEGER PRIMARY KEY, first_ts TEXT NOT NULL,
        last_ts TEXT NOT NULL, records TEXT NOT NULL);`,
    );
    const at = (second: number) => `2026-03-01T00:00:0${second}.000Z`;
    const text = (...pairs: Array<[number, unknown]>) =>
      JSON.stringify(pairs.map(([second, doc]) => [at(second), doc]));
    const chunk = db.prepare(
      `INSERT INTO event_chunks (space_id, saved_object_id, first_ts, last_ts, n, records)
       VALUES ('default', ?, ?, ?, ?, ?)`,
    );
    const tail = db.prepare(
      "INSERT INTO event_tail (space_id, saved_object_id, n) VALUES ('default', ?, ?)",
    );
    const tailRecords = db.prepare(
      'INSERT INTO event_tail_records (seq, first_ts, last_ts, records) VALUES (?, ?, ?, ?)',
    );
    chunk.run('a', at(0), at(1), 2, text([0, ['a0']], [1, ['a1']]));
    chunk.run('b', at(2), at(2), 1, text([2, ['b2']]));
    tailRecords.run(tail.run('a', 1).lastInsertRowid, at(3), at(3), text([3, ['a3']]));
    tailRecords.run(tail.run('c', 1).lastInsertRowid, at(4), at(4), text([4, ['c4']]));
    const odd = { x: '",\\' };
    tailRecords.run(tail.run('a', 2).lastInsertRowid, at(5), at(6), text([5, ['a5']], [6, odd]));
    db.close();

    const store = openSqliteStore(dir);
    const find = (savedObjectId: string, sortOrder: 'asc' | 'desc') =>
      store.events.find({ savedObjectId, spaceId: 'default', offset: 0, limit: 10, sortOrder });
    const a = [['a0'], ['a1'], ['a3'], ['a5'], odd];
    expect(await find('a', 'asc')).toEqual({ total: 5, data: a });
    expect(await find('a', 'desc')).toEqual({ total: 5, data: [...a].reverse() });
    expect(await find('b', 'asc')).toEqual({ total: 1, data: [['b2']] });
    expect(await find('c', 'asc')).toEqual({ total: 1, data: [['c4']] });
    // Written after, found after.
    await store.events.append([
      {
        ts: '2026-03-01T00:00:07.000Z',
        spaceId: 'default',
        savedObjectId: 'a',
        action: 'execute',
        doc: ['a7'],
      },
    ]);
    expect(await find('a', 'desc')).toEqual({ total: 6, data: [['a7'], ...[...a].reverse()] });
    // Their ages came along: the sweep finds the oldest, the migrated tail's among them.
    expect(await store.events.deleteBefore(at(4), 10)).toBe(4);
    expect(await find('a', 'asc')).toEqual({ total: 3, data: [['a5'], odd, ['a7']] });
    expect(await find('c', 'asc')).toEqual({ total: 1, data: [['c4']] });
    await store.close();
    const after = new Database(join(dir, 'connectors.sqlite'), { readonly: true });
    // One run for what was there, and one for the tail the sweep made a run.
    expect(after.prepare('SELECT run, level FROM event_runs').all()).toEqual([
      { run: 1, level: 16 },
      { run: 2048, level: 0 },
    ]);
    expect(
      after
        .prepare(
          'SELECT saved_object_id AS o, seq, n FROM event_keys ORDER BY saved_object_id, seq',
        )
        .all(),
    ).toEqual([
      { o: 'a', seq: 3, n: 2 },
      { o: 'a', seq: 5, n: 1 },
      { o: 'c', seq: 4, n: 1 },
    ]);
    expect(after.prepare('SELECT first_ts, seq FROM event_ages').all()).toEqual([
      { first_ts: at(4), seq: 4 },
      { first_ts: at(5), seq: 3 },
      { first_ts: at(7), seq: 5 },
    ]);
    expect(after.prepare('SELECT COUNT(*) AS n FROM event_tail').get()).toEqual({ n: 0 });
    expect(
      after
        .prepare(
          `SELECT name FROM sqlite_master
           WHERE name IN ('event_chunks_by_object', 'event_chunks_by_age', 'event_tail_records')`,
        )
        .all(),
    ).toEqual([]);
    after.close();
  });

  it('moves the records of the row-per-record layout into chunks, in their order', async () => {
    const dir = tempDir('kcs-chunks-');
    dirs.push(dir);
    // Back to the layout before the chunks: the last three migrations (the chunks, their tail,
    // their keys in runs) undone, three records stored.
    const db = await undoMigrations(
      dir,
      3,
      `${DROP_RUNS}
      DROP TABLE event_chunks;
      CREATE TABLE event_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, space_id TEXT NOT NULL,
        saved_object_id TEXT NOT NULL, action TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX event_log_by_object ON event_log (saved_object_id, space_id, seq);
      CREATE INDEX event_log_by_ts ON event_log (ts);`,
    );
    const insert = db.prepare(
      "INSERT INTO event_log (ts, space_id, saved_object_id, action, doc) VALUES (?, 'default', ?, 'execute', ?)",
    );
    const odd = [1, 'quote " and \\ and \u2028', null, { deep: [-1.5e-7] }];
    insert.run('2026-03-01T00:00:00.000Z', 'c1', JSON.stringify(['first']));
    insert.run('2026-03-01T00:00:01.000Z', 'c2', JSON.stringify(['other connector']));
    insert.run('2026-03-01T00:00:02.000Z', 'c1', JSON.stringify(odd));
    db.close();

    const store = await openSqliteStore(dir);
    const find = (savedObjectId: string, sortOrder: 'asc' | 'desc') =>
      store.events.find({ savedObjectId, spaceId: 'default', offset: 0, limit: 10, sortOrder });
    expect(await find('c1', 'asc')).toEqual({ total: 2, data: [['first'], odd] });
    expect(await find('c1', 'desc')).toEqual({ total: 2, data: [odd, ['first']] });
    expect(await find('c2', 'asc')).toEqual({ total: 1, data: [['other connector']] });
    // And they age as they did.
    expect(await store.events.deleteBefore('2026-03-01T00:00:01.500Z', 10)).toBe(2);
    expect(await find('c1', 'asc')).toEqual({ total: 1, data: [odd] });
    await store.close();
    const after = new Database(join(dir, 'connectors.sqlite'), { readonly: true });
    const tables = after
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'event%' ORDER BY name",
      )
      .all();
    after.close();
    expect(tables).toEqual([
      { name: 'event_ages' },
      { name: 'event_chunks' },
      { name: 'event_keys' },
      { name: 'event_runs' },
      { name: 'event_tail' },
    ]);
  });
});
