import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { ConnectorResult } from '../../src/connectors/types.js';
import { executionEvent } from '../../src/event-log/execution.js';
import { EventLogWriter, FLUSH_DELAY_MS, MAX_BATCH } from '../../src/event-log/writer.js';
import { openSqliteStore } from '../../src/store/sqlite.js';
import type { EventRepository } from '../../src/store/types.js';
import { tempDir } from '../helpers/server.js';

/** One row per run, read back as Kibana's execute-start/execute pairs, paged over documents. */
describe('event log pages', () => {
  const dir = tempDir('kcs-events-');
  const store = openSqliteStore(dir);
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (n: number, result: ConnectorResult = { status: 'ok' }) =>
    executionEvent({
      connector: { id: 'c1', name: `run ${n}`, typeId: '.server-log', isInMemory: false },
      spaceId: 'default',
      principal: {
        username: 'elastic',
        roles: ['superuser'],
        authenticationType: 'basic',
      } as never,
      executionId: `exec-${n}`,
      serverUuid: 'uuid',
      version: '9.3.0',
      start: Date.UTC(2026, 0, 1, 0, 0, n),
      end: Date.UTC(2026, 0, 1, 0, 0, n, 500),
      durationNs: 500_000_000,
      result,
    });

  it('pages over documents in both orders', async () => {
    const writer = new EventLogWriter(store.events, pino({ level: 'silent' }));
    writer.write([run(1), run(2), run(3, { status: 'error', message: 'boom', retry: false })]);
    const labels = (docs: Array<Record<string, unknown>>) =>
      docs.map(
        (d) =>
          `${(d.event as { action: string }).action}:${(d.kibana as { action: { execution: { uuid: string } } }).action.execution.uuid}`,
      );
    const find = async (page: number, perPage: number, sortOrder: 'asc' | 'desc') => {
      const found = await writer.find({
        savedObjectId: 'c1',
        spaceId: 'default',
        page,
        perPage,
        sortOrder,
      });
      return { total: found.total, labels: labels(found.data) };
    };
    const asc = [
      'execute-start:exec-1',
      'execute:exec-1',
      'execute-start:exec-2',
      'execute:exec-2',
      'execute-start:exec-3',
      'execute:exec-3',
    ];
    for (const perPage of [1, 2, 3, 4, 5, 6, 7]) {
      for (let page = 1; page <= Math.ceil(6 / perPage) + 1; page++) {
        const first = (page - 1) * perPage;
        expect(await find(page, perPage, 'asc'), `asc ${page}/${perPage}`).toEqual({
          total: 6,
          labels: asc.slice(first, first + perPage),
        });
        const desc = [
          'execute:exec-3',
          'execute-start:exec-3',
          'execute:exec-2',
          'execute-start:exec-2',
          'execute:exec-1',
          'execute-start:exec-1',
        ];
        expect(await find(page, perPage, 'desc'), `desc ${page}/${perPage}`).toEqual({
          total: 6,
          labels: desc.slice(first, first + perPage),
        });
      }
    }
    const [start, end] = (
      await writer.find({
        savedObjectId: 'c1',
        spaceId: 'default',
        page: 3,
        perPage: 2,
        sortOrder: 'asc',
      })
    ).data;
    expect(start).toEqual({
      '@timestamp': '2026-01-01T00:00:03.000Z',
      event: {
        provider: 'actions',
        action: 'execute-start',
        kind: 'action',
        start: '2026-01-01T00:00:03.000Z',
      },
      message: 'action started: .server-log:c1: run 3',
      kibana: end?.kibana,
      user: { name: 'elastic' },
      ecs: { version: '1.8.0' },
    });
    expect(end).toMatchObject({
      '@timestamp': '2026-01-01T00:00:03.500Z',
      event: { action: 'execute', outcome: 'failure', duration: '500000000' },
      message: 'action execution failure: .server-log:c1: run 3',
      error: { message: 'boom' },
    });
  });

  it('reads back documents stored whole, as earlier versions wrote them', async () => {
    const doc = {
      '@timestamp': '2025-06-01T00:00:01.000Z',
      event: { provider: 'actions', action: 'execute', start: '2025-06-01T00:00:00.000Z' },
      kibana: { action: { id: 'old', name: 'old run', type_id: '.webhook' } },
      user: { name: 'elastic' },
      ecs: { version: '1.8.0' },
    };
    await store.events.append([
      { ts: doc['@timestamp'], spaceId: 'default', savedObjectId: 'old', action: 'execute', doc },
    ]);
    const writer = new EventLogWriter(store.events, pino({ level: 'silent' }));
    const found = await writer.find({
      savedObjectId: 'old',
      spaceId: 'default',
      page: 1,
      perPage: 10,
      sortOrder: 'desc',
    });
    expect(found.total).toBe(2);
    expect(found.data[0]).toEqual(doc);
    expect(found.data[1]).toMatchObject({
      '@timestamp': '2025-06-01T00:00:00.000Z',
      event: { action: 'execute-start' },
      message: 'action started: .webhook:old: old run',
    });
  });

  it('hands a batch to the store when it is full, or a delay after its first record', async () => {
    const batches: number[] = [];
    const counting: EventRepository = {
      ...store.events,
      append: (events) => {
        batches.push(events.length);
        return store.events.append(events);
      },
    };
    const writer = new EventLogWriter(counting, pino({ level: 'silent' }));
    const runs = (from: number, count: number) =>
      Array.from({ length: count }, (_, i) => run(100 + from + i));

    // A full batch goes at once, within the turn that filled it.
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    writer.write(runs(0, MAX_BATCH - 1));
    await turn();
    expect(batches).toEqual([]);
    writer.write(runs(MAX_BATCH - 1, 1));
    await turn();
    expect(batches).toEqual([MAX_BATCH]);

    // A smaller one waits for the delay, counted from its first record: timers run in the order
    // they are due, so one due 2 ms after the delay finds the batch gone even on a slow machine,
    // and would not if a later record had put the batch off.
    const started = performance.now();
    writer.write(runs(MAX_BATCH, 3));
    const pastDelay = new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS + 2));
    await new Promise((resolve) => setTimeout(resolve, FLUSH_DELAY_MS / 2));
    writer.write(runs(MAX_BATCH + 3, 2));
    expect(batches).toEqual([MAX_BATCH]);
    await pastDelay;
    expect(batches).toEqual([MAX_BATCH, 5]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(FLUSH_DELAY_MS - 1);
    await writer.flush();
    // Every record is stored once: these two batches and the first test's three runs.
    expect(
      (
        await writer.find({
          savedObjectId: 'c1',
          spaceId: 'default',
          page: 1,
          perPage: 1,
          sortOrder: 'asc',
        })
      ).total,
    ).toBe(2 * (3 + MAX_BATCH + 5));
  });
});
