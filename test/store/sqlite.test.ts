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
  it('moves the records of the row-per-record layout into chunks, in their order', async () => {
    const dir = tempDir('kcs-chunks-');
    dirs.push(dir);
    await (await openSqliteStore(dir)).close();
    // Back to the layout before the chunks: the last migration undone, three records stored.
    const db = new Database(join(dir, 'connectors.sqlite'));
    const { v } = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as {
      v: number;
    };
    db.exec(`DELETE FROM schema_migrations WHERE version = ${v};
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
    expect(tables).toEqual([{ name: 'event_chunks' }]);
  });
});
