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
});

describe('the event log in chunks', () => {
  it('keeps small chunks in a tail, merged by object once it holds enough records', async () => {
    const dir = tempDir('kcs-tail-');
    dirs.push(dir);
    const ts = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
    let next = 0;
    const records = (savedObjectId: string, count: number) =>
      Array.from({ length: count }, () => {
        const i = next++;
        return { ts: ts(i), spaceId: 'default', savedObjectId, action: 'execute', doc: { i } };
      });
    const range = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, k) => from + k);
    const stored = (table: 'event_chunks' | 'event_tail') => {
      const db = new Database(join(dir, 'connectors.sqlite'), { readonly: true });
      const rows = db.prepare(`SELECT saved_object_id AS o, n FROM ${table} ORDER BY seq`).all();
      db.close();
      return (rows as Array<{ o: string; n: number }>).map(({ o, n }) => `${o}:${n}`);
    };
    // Every chunk of these flushes would skip the tail, they are so few, but for this 0.
    const options = { eventTailRecords: 110, eventDirectChunks: 0 };
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

    await store.events.append([...records('a', 3), ...records('b', 1)]);
    await store.events.append(records('a', 3));
    // Large, but a has records in the tail: it goes there too.
    await store.events.append(records('a', 97));
    // Large, of an object with nothing in the tail: indexed as it comes.
    await store.events.append(records('c', 10));
    await store.events.append(records('a', 5));
    // 111 records: the tail is merged after this flush, a's chunks that start within each run of
    // 100 records joined.
    await store.events.append(records('c', 2));
    // c has nothing in the tail any more.
    await store.events.append(records('c', 10));
    await store.events.append(records('a', 2));
    const a = [...range(0, 2), ...range(4, 103), ...range(114, 118), 131, 132];
    expect(await idsOf('a', 0, 200, 'asc')).toEqual([110, a]);
    expect(await idsOf('a', 0, 200, 'desc')).toEqual([110, [...a].reverse()]);
    // From one chunk into the next, from the last into the tail, and back.
    expect(await idsOf('a', 101, 5, 'asc')).toEqual([110, [102, 103, 114, 115, 116]]);
    expect(await idsOf('a', 106, 3, 'asc')).toEqual([110, [117, 118, 131]]);
    expect(await idsOf('a', 1, 3, 'desc')).toEqual([110, [131, 118, 117]]);
    expect(await idsOf('c', 0, 50, 'asc')).toEqual([22, [...range(104, 113), ...range(119, 130)]]);
    await store.close();
    expect(stored('event_chunks')).toEqual(['c:10', 'a:103', 'a:5', 'b:1', 'c:2', 'c:10']);
    expect(stored('event_tail')).toEqual(['a:2']);

    // Reopened, what the tail holds is read again: a's large chunk joins its records there.
    store = openSqliteStore(dir, options);
    await store.events.append(records('a', 9));
    expect(await idsOf('a', 108, 4, 'asc')).toEqual([119, [131, 132, 133, 134]]);
    // And so is a chunk that joins the tail after that: d's large chunk follows its small one.
    await store.events.append(records('d', 1));
    await store.events.append(records('d', 9));
    expect(await idsOf('d', 0, 20, 'asc')).toEqual([10, range(142, 151)]);
    await store.events.append(records('a', 99));
    expect(await idsOf('a', 105, 5, 'asc')).toEqual([218, [116, 117, 118, 131, 132]]);
    expect(await idsOf('a', 0, 3, 'desc')).toEqual([218, [250, 249, 248]]);
    await store.close();
    expect(stored('event_chunks')).toEqual([
      'c:10',
      'a:103',
      'a:5',
      'b:1',
      'c:2',
      'c:10',
      'a:110',
      'd:10',
    ]);
    expect(stored('event_tail')).toEqual([]);
  });

  it('indexes the chunks of a flush for a few objects as they come', async () => {
    const dir = tempDir('kcs-tail-');
    dirs.push(dir);
    const record = (savedObjectId: string, i: number) => ({
      ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      spaceId: 'default',
      savedObjectId,
      action: 'execute',
      doc: { i },
    });
    const store = openSqliteStore(dir);
    await store.events.append([record('a', 0), record('b', 1), record('c', 2)]);
    // Seventeen objects, a record each: the tail.
    await store.events.append(Array.from({ length: 17 }, (_, k) => record(`o${k}`, 3 + k)));
    // Alone in its flush, but o0 has a record in the tail: after it, there.
    await store.events.append([record('o0', 20)]);
    await store.events.append([record('z', 21)]);
    const found = await store.events.find({
      savedObjectId: 'o0',
      spaceId: 'default',
      offset: 0,
      limit: 10,
      sortOrder: 'desc',
    });
    expect(found).toEqual({ total: 2, data: [{ i: 20 }, { i: 3 }] });
    await store.close();
    const db = new Database(join(dir, 'connectors.sqlite'), { readonly: true });
    const objects = (table: string) =>
      (
        db.prepare(`SELECT saved_object_id AS o FROM ${table} ORDER BY seq`).all() as Array<{
          o: string;
        }>
      ).map(({ o }) => o);
    expect(objects('event_chunks')).toEqual(['a', 'b', 'c', 'z']);
    expect(objects('event_tail')).toEqual([...Array.from({ length: 17 }, (_, k) => `o${k}`), 'o0']);
    db.close();
  });

  it('moves the records of the row-per-record layout into chunks, in their order', async () => {
    const dir = tempDir('kcs-chunks-');
    dirs.push(dir);
    await (await openSqliteStore(dir)).close();
    // Back to the layout before the chunks: the last two migrations (the chunks, their tail)
    // undone, three records stored.
    const db = new Database(join(dir, 'connectors.sqlite'));
    const { v } = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number;
    };
    db.exec(`DELETE FROM schema_migrations WHERE version >= ${v - 1};
      DROP TABLE event_tail;
      DROP TABLE event_tail_records;
      DROP TABLE event_chunks;
      CREATE TABLE event_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, ts TEXT NOT NULL, space_id TEXT NOT NULL,
        saved_object_id TEXT NOT NULL, action TEXT NOT NULL, doc TEXT NOT NULL);
      CREATE INDEX event_log_by_object ON event_log (saved_object_id, space_id, seq);
      CREATE INDEX event_log_by_ts ON event_log (ts);`);
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
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'event%'")
      .all();
    after.close();
    expect(tables).toEqual([
      { name: 'event_chunks' },
      { name: 'event_tail' },
      { name: 'event_tail_records' },
    ]);
  });
});
