import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SPACE,
  type Store,
  StoreConflictError,
  type StoredApiKey,
  type StoredConnector,
  type StoredRole,
  type StoredUser,
} from '../../src/store/types.js';

/**
 * What every store engine must do, run against each engine by its own test file.
 * `open` gives a fresh, empty, migrated store.
 */
export function storeContract(engine: string, open: () => Promise<Store>): void {
  describe(`store contract: ${engine}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await open();
    });
    afterAll(() => store.close());

    const connector = (id: string, spaceId = 'default'): StoredConnector => ({
      id,
      spaceId,
      typeId: '.index',
      name: `name ${id}`,
      config: { index: id, nested: { list: [1, 'two'] } },
      secrets: 'v1.k.iv.tag.data',
      isMissingSecrets: false,
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    });

    it('has the default space after migration', async () => {
      expect(await store.spaces.get('default')).toEqual(DEFAULT_SPACE);
      expect(await store.spaces.count()).toBe(1);
    });

    it('creates, reads, lists, updates and deletes connectors per space', async () => {
      await store.connectors.create(connector('c1'));
      await store.connectors.create(connector('c2', 'other'));
      expect(await store.connectors.get('default', 'c1')).toEqual(connector('c1'));
      expect(await store.connectors.get('other', 'c1')).toBeUndefined();
      expect((await store.connectors.list('default')).map((c) => c.id)).toEqual(['c1']);
      const updated = await store.connectors.update('default', 'c1', {
        name: 'new',
        config: { a: 1 },
        secrets: null,
      });
      expect(updated).toMatchObject({
        id: 'c1',
        name: 'new',
        config: { a: 1 },
        secrets: null,
        isMissingSecrets: false,
      });
      expect(
        await store.connectors.update('other', 'c1', { name: 'x', config: {}, secrets: null }),
      ).toBeUndefined();
      expect(await store.connectors.delete('other', 'c1')).toBe(false);
      expect(await store.connectors.delete('default', 'c1')).toBe(true);
      expect(await store.connectors.get('default', 'c1')).toBeUndefined();
    });

    it('refuses an id taken in any space', async () => {
      await store.connectors.create(connector('taken', 'one'));
      await expect(store.connectors.create(connector('taken', 'two'))).rejects.toBeInstanceOf(
        StoreConflictError,
      );
    });

    it('deletes a space with its connectors', async () => {
      await store.spaces.create({ id: 'gone', name: 'Gone', disabledFeatures: [] });
      await expect(
        store.spaces.create({ id: 'gone', name: 'Again', disabledFeatures: [] }),
      ).rejects.toBeInstanceOf(StoreConflictError);
      await store.connectors.create(connector('in-gone', 'gone'));
      expect(await store.spaces.delete('gone')).toBe(true);
      expect(await store.connectors.get('gone', 'in-gone')).toBeUndefined();
      expect(await store.spaces.get('gone')).toBeUndefined();
      expect(await store.spaces.delete('gone')).toBe(false);
    });

    it('keeps API keys and invalidates them', async () => {
      const key: StoredApiKey = {
        id: 'k1',
        name: 'key',
        hash: 'scrypt$x',
        username: 'elastic',
        realm: 'reserved',
        roleDescriptors: { r: { cluster: ['all'] } },
        limitedBy: { superuser: { cluster: ['all'] } },
        metadata: { m: 1 },
        createdAt: 1,
        expiration: null,
        invalidated: false,
        invalidatedAt: null,
      };
      await store.apiKeys.create(key);
      await store.apiKeys.create({ ...key, id: 'k2', createdAt: 2, expiration: 99 });
      expect(await store.apiKeys.get('k1')).toEqual(key);
      expect((await store.apiKeys.list()).map((k) => k.id)).toEqual(['k1', 'k2']);
      expect(await store.apiKeys.invalidate(['k1', 'nope'])).toEqual(['k1']);
      expect(await store.apiKeys.invalidate(['k1'])).toEqual([]);
      const invalidated = await store.apiKeys.get('k1');
      expect(invalidated?.invalidated).toBe(true);
      expect(invalidated?.invalidatedAt).toBeGreaterThan(0);
      expect((await store.apiKeys.get('k2'))?.invalidated).toBe(false);
    });

    it('keeps users: create, replace, change the password hash, delete', async () => {
      const user: StoredUser = {
        username: 'bob',
        passwordHash: 'scrypt$1',
        roles: ['viewer'],
        fullName: null,
        email: 'bob@example.org',
        metadata: { team: 'a' },
        enabled: true,
      };
      await store.users.put(user);
      await store.users.put({ ...user, username: 'alice', fullName: 'Alice' });
      expect(await store.users.get('bob')).toEqual(user);
      expect((await store.users.list()).map((u) => u.username)).toEqual(['alice', 'bob']);
      await store.users.put({ ...user, roles: ['editor', 'viewer'], enabled: false });
      expect(await store.users.get('bob')).toMatchObject({
        roles: ['editor', 'viewer'],
        enabled: false,
        passwordHash: 'scrypt$1',
      });
      expect(await store.users.setPassword('bob', 'scrypt$2')).toBe(true);
      expect((await store.users.get('bob'))?.passwordHash).toBe('scrypt$2');
      expect(await store.users.setPassword('nobody', 'scrypt$2')).toBe(false);
      expect(await store.users.delete('bob')).toBe(true);
      expect(await store.users.delete('bob')).toBe(false);
      expect(await store.users.get('bob')).toBeUndefined();
    });

    it('keeps roles: create, replace, list by name, delete', async () => {
      const role: StoredRole = {
        name: 'ops',
        description: 'Operators',
        metadata: { version: 1 },
        elasticsearch: { cluster: ['monitor'], indices: [], run_as: [] },
        kibana: [{ base: [], feature: { actions: ['all'] }, spaces: ['space-a'] }],
      };
      await store.roles.put(role);
      await store.roles.put({
        ...role,
        name: 'auditors',
        kibana: [{ base: ['read'], spaces: ['*'] }],
      });
      expect(await store.roles.get('ops')).toEqual(role);
      expect((await store.roles.list()).map((r) => r.name)).toEqual(['auditors', 'ops']);
      await store.roles.put({ ...role, metadata: { version: 2 } });
      expect((await store.roles.get('ops'))?.metadata).toEqual({ version: 2 });
      expect(await store.roles.delete('ops')).toBe(true);
      expect(await store.roles.delete('ops')).toBe(false);
      expect(await store.roles.get('ops')).toBeUndefined();
    });

    it('pages every connector of every space and swaps secrets only if unchanged', async () => {
      for (const [id, space] of [
        ['p-3', 'x'],
        ['p-1', 'y'],
        ['p-2', 'default'],
      ] as const) {
        await store.connectors.create({ ...connector(id, space), secrets: `blob-${id}` });
      }
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.connectors.page(after, 2);
        if (page.length === 0) break;
        seen.push(...page.map((c) => c.id));
        after = page.at(-1)?.id;
      }
      expect(seen.filter((id) => id.startsWith('p-'))).toEqual(['p-1', 'p-2', 'p-3']);
      expect([...seen].sort()).toEqual(seen);
      expect(await store.connectors.replaceSecrets('y', 'p-1', 'stale', 'new')).toBe(false);
      expect(await store.connectors.replaceSecrets('x', 'p-1', 'blob-p-1', 'new')).toBe(false);
      expect(await store.connectors.replaceSecrets('y', 'p-1', 'blob-p-1', 'new')).toBe(true);
      expect((await store.connectors.get('y', 'p-1'))?.secrets).toBe('new');
      await store.checkpoint();
    });

    it('pages the event log of one object in one space', async () => {
      const doc = (n: number) => ({ '@timestamp': new Date(n).toISOString(), n });
      await store.events.append(
        [1, 2, 3].map((n) => ({
          ts: doc(n)['@timestamp'],
          spaceId: 's',
          savedObjectId: 'o',
          action: 'execute',
          doc: doc(n),
        })),
      );
      await store.events.append([
        {
          ts: doc(9)['@timestamp'],
          spaceId: 't',
          savedObjectId: 'o',
          action: 'execute',
          doc: doc(9),
        },
      ]);
      expect(
        await store.events.find({
          savedObjectId: 'o',
          spaceId: 's',
          offset: 0,
          limit: 2,
          sortOrder: 'asc',
        }),
      ).toEqual({
        total: 3,
        data: [doc(1), doc(2)],
      });
      expect(
        await store.events.find({
          savedObjectId: 'o',
          spaceId: 's',
          offset: 2,
          limit: 2,
          sortOrder: 'asc',
        }),
      ).toEqual({
        total: 3,
        data: [doc(3)],
      });
      expect(
        (
          await store.events.find({
            savedObjectId: 'o',
            spaceId: 's',
            offset: 0,
            limit: 1,
            sortOrder: 'desc',
          })
        ).data,
      ).toEqual([doc(3)]);
    });

    it('keeps apart the records of one batch by object and by space', async () => {
      const record = (spaceId: string, savedObjectId: string, n: number) => ({
        ts: new Date(Date.UTC(2026, 1, 3, 0, 0, n)).toISOString(),
        spaceId,
        savedObjectId,
        action: 'execute',
        doc: { n },
      });
      await store.events.append([
        record('s1', 'mixed', 1),
        record('s2', 'mixed', 2),
        record('s1', 'other', 3),
        record('s1', 'mixed', 4),
        record('s2', 'mixed', 5),
        record('s1', 'mixed', 6),
      ]);
      const all = async (spaceId: string, savedObjectId: string, sortOrder: 'asc' | 'desc') =>
        store.events.find({ savedObjectId, spaceId, offset: 0, limit: 10, sortOrder });
      expect(await all('s1', 'mixed', 'asc')).toEqual({
        total: 3,
        data: [{ n: 1 }, { n: 4 }, { n: 6 }],
      });
      expect(await all('s2', 'mixed', 'desc')).toEqual({ total: 2, data: [{ n: 5 }, { n: 2 }] });
      expect(await all('s1', 'other', 'asc')).toEqual({ total: 1, data: [{ n: 3 }] });
      expect(await all('s2', 'other', 'asc')).toEqual({ total: 0, data: [] });
    });

    it('keeps an event-log document exactly, whatever text it holds', async () => {
      const doc = [
        1,
        'quote " backslash \\ newline \n tab \t',
        'line\u2028separator \u0000 nul',
        'astral 😀 and é',
        true,
        null,
        { nested: ['x', { deeper: -1.5e-7 }] },
        '',
      ];
      await store.events.append([
        {
          ts: '2026-02-02T00:00:00.000Z',
          spaceId: 'u',
          savedObjectId: 'text',
          action: 'execute',
          doc,
        },
        {
          ts: '2026-02-02T00:00:00.001Z',
          spaceId: 'u',
          savedObjectId: 'text',
          action: 'execute',
          doc: 'plain',
        },
      ]);
      expect(
        await store.events.find({
          savedObjectId: 'text',
          spaceId: 'u',
          offset: 0,
          limit: 10,
          sortOrder: 'asc',
        }),
      ).toEqual({ total: 2, data: [doc, 'plain'] });
    });

    it('deletes event-log records older than a time, oldest first, a batch at a time', async () => {
      const at = (iso: string, n: number) => ({
        ts: iso,
        spaceId: 'r',
        savedObjectId: 'retained',
        action: 'execute',
        doc: { '@timestamp': iso, n },
      });
      await store.events.append([
        at('1960-01-01T00:00:00.000Z', 1),
        at('1960-01-03T00:00:00.000Z', 3),
        at('1960-01-02T00:00:00.000Z', 2),
        at('2030-01-01T00:00:00.000Z', 4),
      ]);
      const left = async () =>
        (
          await store.events.find({
            savedObjectId: 'retained',
            spaceId: 'r',
            offset: 0,
            limit: 10,
            sortOrder: 'asc',
          })
        ).data.map((d) => (d as { n: number }).n);
      expect(await store.events.deleteBefore('1960-01-05T00:00:00.000Z', 2)).toBe(2);
      expect(await left()).toEqual([3, 4]);
      expect(await store.events.deleteBefore('1960-01-05T00:00:00.000Z', 2)).toBe(1);
      expect(await store.events.deleteBefore('1960-01-05T00:00:00.000Z', 2)).toBe(0);
      expect(await left()).toEqual([4]);
    });

    it('pages and ages event-log records across the batches they were written in', async () => {
      const at = (n: number, spaceId = 'm') => ({
        ts: new Date(Date.UTC(2000, 0, 1 + n)).toISOString(),
        spaceId,
        savedObjectId: 'many',
        action: 'execute',
        doc: { n },
      });
      // Earlier cases' records older than these out of the way first.
      await store.events.deleteBefore(at(0).ts, 100);
      // Three flushes, another space's records among them.
      await store.events.append([at(1), at(2), at(90, 'other'), at(3)]);
      await store.events.append([at(4)]);
      await store.events.append([at(5), at(6)]);
      const page = async (offset: number, limit: number, sortOrder: 'asc' | 'desc') => {
        const found = await store.events.find({
          savedObjectId: 'many',
          spaceId: 'm',
          offset,
          limit,
          sortOrder,
        });
        return [found.total, found.data.map((d) => (d as { n: number }).n)];
      };
      expect(await page(0, 10, 'asc')).toEqual([6, [1, 2, 3, 4, 5, 6]]);
      expect(await page(2, 3, 'asc')).toEqual([6, [3, 4, 5]]);
      expect(await page(3, 1, 'asc')).toEqual([6, [4]]);
      expect(await page(1, 3, 'desc')).toEqual([6, [5, 4, 3]]);
      expect(await page(5, 5, 'desc')).toEqual([6, [1]]);
      expect(await page(6, 5, 'asc')).toEqual([6, []]);

      // Before day 5: records 1 to 4, two of them first, and the other space's record stays.
      const dayFive = at(5).ts;
      expect(await store.events.deleteBefore(dayFive, 2)).toBe(2);
      expect(await page(0, 10, 'asc')).toEqual([4, [3, 4, 5, 6]]);
      expect(await store.events.deleteBefore(dayFive, 10)).toBe(2);
      expect(await store.events.deleteBefore(dayFive, 10)).toBe(0);
      expect(await page(0, 10, 'desc')).toEqual([2, [6, 5]]);
      // Records written after a sweep page on from those before it, both ways.
      await store.events.append([at(7)]);
      await store.events.append([at(8)]);
      expect(await page(0, 10, 'asc')).toEqual([4, [5, 6, 7, 8]]);
      expect(await page(1, 2, 'asc')).toEqual([4, [6, 7]]);
      expect(await page(1, 2, 'desc')).toEqual([4, [7, 6]]);
      expect(await page(3, 5, 'desc')).toEqual([4, [5]]);
      const other = await store.events.find({
        savedObjectId: 'many',
        spaceId: 'other',
        offset: 0,
        limit: 10,
        sortOrder: 'asc',
      });
      expect(other).toEqual({ total: 1, data: [{ n: 90 }] });
    });

    it('lists in the same order on every engine', async () => {
      for (const [id, space] of [
        ['o-b', 'order'],
        ['o-C', 'order'],
        ['o-a', 'order'],
        ['o-é', 'order'],
      ] as const) {
        await store.connectors.create(connector(id, space));
      }
      // Within a space: the order they were made in.
      expect((await store.connectors.list('order')).map((c) => c.id)).toEqual([
        'o-b',
        'o-C',
        'o-a',
        'o-é',
      ]);
      await store.connectors.update('order', 'o-b', { name: 'n', config: {}, secrets: null });
      expect((await store.connectors.list('order')).map((c) => c.id)[0]).toBe('o-b');
      // Across spaces, by id compared byte-wise: upper case before lower case, é last.
      const paged: string[] = [];
      let after: string | undefined = 'o-';
      for (;;) {
        const page = await store.connectors.page(after, 3);
        const mine = page.filter((c) => c.id.startsWith('o-'));
        paged.push(...mine.map((c) => c.id));
        if (mine.length < page.length || page.length === 0) break;
        after = page.at(-1)?.id;
      }
      expect(paged).toEqual(['o-C', 'o-a', 'o-b', 'o-é']);

      for (const id of ['zeta', 'Alpha', 'beta']) {
        await store.spaces.create({ id: `order-${id}`, name: id, disabledFeatures: [] });
      }
      expect(
        (await store.spaces.list()).map((s) => s.id).filter((id) => id.startsWith('order-')),
      ).toEqual(['order-zeta', 'order-Alpha', 'order-beta']);

      const user: StoredUser = {
        username: '',
        passwordHash: 'h',
        roles: [],
        fullName: null,
        email: null,
        metadata: {},
        enabled: true,
      };
      for (const username of ['order_b', 'order_B', 'order_a', 'order_ä']) {
        await store.users.put({ ...user, username });
      }
      expect(
        (await store.users.list()).map((u) => u.username).filter((u) => u.startsWith('order_')),
      ).toEqual(['order_B', 'order_a', 'order_b', 'order_ä']);
      for (const name of ['order_b', 'order_B', 'order_a']) {
        await store.roles.put({ name, metadata: {}, elasticsearch: {}, kibana: [] });
      }
      expect(
        (await store.roles.list()).map((r) => r.name).filter((n) => n.startsWith('order_')),
      ).toEqual(['order_B', 'order_a', 'order_b']);
    });

    it('keeps any text JSON can carry: NUL, control characters, lone surrogates in documents', async () => {
      // Text fields (ids, names) take NUL and control characters; JSON documents also take lone
      // UTF-16 surrogates, which text columns cannot hold on either engine.
      const odd = [
        'nul\u0000',
        'one\u0001',
        'both\u0001\u0000\u0001\u0001',
        'esc\\u0000',
        'pair\u{1f600}',
      ];
      const loneSurrogates = ['\ud800', 'x\udc00', '\\\ud8ff\\u0000'];
      for (const [i, text] of odd.entries()) {
        const id = `odd-${text}`;
        const config = {
          [text]: text,
          list: [text, { nested: text }, ...loneSurrogates],
          [loneSurrogates[0] as string]: `\\u0000${i}`,
        };
        await store.connectors.create({ ...connector(id, `space-${text}`), name: text, config });
        const got = await store.connectors.get(`space-${text}`, id);
        expect(got?.name).toBe(text);
        expect(got?.config).toEqual(config);
        expect((await store.connectors.list(`space-${text}`)).map((c) => c.id)).toEqual([id]);
        expect(await store.connectors.delete(`space-${text}`, id)).toBe(true);
      }
      await store.spaces.create({
        id: 'odd\u0000space',
        name: 'n\u0000',
        disabledFeatures: ['\ud800'],
      });
      expect(await store.spaces.get('odd\u0000space')).toEqual({
        id: 'odd\u0000space',
        name: 'n\u0000',
        disabledFeatures: ['\ud800'],
      });
      // The escape does not disturb byte order: NUL sorts before U+0001, which sorts before '0'.
      for (const id of ['ord\u00010', 'ord\u0000', 'ord0', 'ord\u0001', 'ord']) {
        await store.connectors.create(connector(id, 'odd-order'));
      }
      const page = await store.connectors.page('orc', 5);
      expect(page.map((c) => c.id)).toEqual([
        'ord',
        'ord\u0000',
        'ord\u0001',
        'ord\u00010',
        'ord0',
      ]);
      expect((await store.connectors.page('ord\u0000', 1)).map((c) => c.id)).toEqual(['ord\u0001']);
    });

    it('stores index documents in order with sequence numbers', async () => {
      let n = 0;
      const ids = () => `id-${n++}`;
      expect(await store.indices.exists('logs')).toBe(false);
      expect(await store.indices.bulkCreate('logs', [{ a: 1 }, { a: 2 }], ids)).toEqual([
        { id: 'id-0', version: 1, seqNo: 0 },
        { id: 'id-1', version: 1, seqNo: 1 },
      ]);
      expect(await store.indices.bulkCreate('logs', [{ a: 3 }], ids)).toEqual([
        { id: 'id-2', version: 1, seqNo: 2 },
      ]);
      expect(await store.indices.search('logs', 1, 5)).toEqual({
        total: 3,
        hits: [
          { id: 'id-1', source: { a: 2 } },
          { id: 'id-2', source: { a: 3 } },
        ],
      });
    });

    it('numbers calls made together without gaps, a failed call writing nothing', async () => {
      let n = 0;
      const ids = () => `together-${n++}`;
      const [first, failed, failedAlone, other, second] = await Promise.allSettled([
        store.indices.bulkCreate('together', [{ a: 1 }, { a: 2 }], ids),
        // Two documents under one id: the second insert fails and the call is undone whole.
        store.indices.bulkCreate('together', [{ a: 'x' }, { a: 'y' }], () => 'same-id'),
        // One document under an id the first call took: it fails alone.
        store.indices.bulkCreate('together', [{ a: 'z' }], () => 'together-0'),
        store.indices.bulkCreate('together-other', [{ b: 1 }], ids),
        store.indices.bulkCreate('together', [{ a: 3 }], ids),
      ]);
      expect(first).toEqual({
        status: 'fulfilled',
        value: [
          { id: 'together-0', version: 1, seqNo: 0 },
          { id: 'together-1', version: 1, seqNo: 1 },
        ],
      });
      expect(failed.status).toBe('rejected');
      expect(failedAlone.status).toBe('rejected');
      expect(other).toEqual({
        status: 'fulfilled',
        value: [{ id: 'together-2', version: 1, seqNo: 0 }],
      });
      expect(second).toEqual({
        status: 'fulfilled',
        value: [{ id: 'together-3', version: 1, seqNo: 2 }],
      });
      expect(await store.indices.bulkCreate('together', [{ a: 4 }], ids)).toEqual([
        { id: 'together-4', version: 1, seqNo: 3 },
      ]);
      expect(await store.indices.search('together', 0, 10)).toEqual({
        total: 4,
        hits: [1, 2, 3, 4].map((a, i) => ({
          id: `together-${i === 3 ? 4 : i === 2 ? 3 : i}`,
          source: { a },
        })),
      });
    });
  });
}
