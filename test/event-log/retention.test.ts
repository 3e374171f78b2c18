import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/load.js';
import type { SettingKey } from '../../src/config/settings.js';
import { serverLogConnector } from '../../src/connectors/server_log/index.js';
import { createConnector, execute } from '../helpers/connectors.js';
import { createDatabase, postgresAvailable, type TestDatabase } from '../helpers/postgres.js';
import { startServer } from '../helpers/server.js';

/** xpack.eventLog.retention: a connector's runs are there, then swept once they are too old. */

const pgAvailable = await postgresAvailable();
const databases: TestDatabase[] = [];
afterAll(() => Promise.all(databases.map((db) => db.drop())));

interface EventPage {
  total: number;
  data: Array<{ event: { action: string } }>;
}

it('defaults to 90 days and reads durations', () => {
  expect(loadSettings()['xpack.eventLog.retention']).toBe(90 * 24 * 3600 * 1000);
  expect(
    loadSettings({ env: { XPACK_EVENTLOG_RETENTION: '30d' } })['xpack.eventLog.retention'],
  ).toBe(30 * 24 * 3600 * 1000);
  expect(() => loadSettings({ overrides: { 'xpack.eventLog.retention': 'soon' } })).toThrow(
    '[xpack.eventLog.retention]: expected a duration such as "60s" or "5m", got [soon]',
  );
});

const engines: Array<[string, () => Promise<Partial<Record<SettingKey, unknown>>>]> = [
  ['sqlite', async () => ({})],
];
if (pgAvailable) {
  engines.push([
    'postgres',
    async () => {
      const db = await createDatabase();
      databases.push(db);
      return { 'store.engine': 'postgres', 'store.postgres.url': db.url };
    },
  ]);
}

describe.each(engines)('event-log retention on %s', (_engine, engineSettings) => {
  it('keeps runs for the retention, then deletes them off the request path', async () => {
    const server = await startServer({
      connectorTypes: [serverLogConnector],
      settings: { ...(await engineSettings()), 'xpack.eventLog.retention': '1500ms' },
    });
    try {
      const id = await createConnector(server.api, { connector_type_id: '.server-log' });
      expect((await execute(server.api, id, { message: 'kept a while' })).status).toBe('ok');
      const find = async () =>
        (await server.api<EventPage>('GET', `/internal/event_log/action/${id}/_find?per_page=10`))
          .body;
      expect((await find()).data.map((d) => d.event.action)).toEqual(['execute-start', 'execute']);
      let total = 2;
      for (let waited = 0; total > 0 && waited < 6000; waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        total = (await find()).total;
      }
      expect(total).toBe(0);
    } finally {
      await server.close();
    }
  });
});
