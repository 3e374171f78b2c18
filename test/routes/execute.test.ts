import { rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexConnector } from '../../src/connectors/es_index/index.js';
import { createConnector, execute } from '../helpers/connectors.js';
import { ELASTIC_AUTH, startServer, type TestServer, tempDir } from '../helpers/server.js';
import { sendJson, startSimulator } from '../simulators/base.js';
import {
  type ElasticsearchSimulator,
  startElasticsearchSimulator,
} from '../simulators/elasticsearch.js';

interface EventPage {
  page: number;
  per_page: number;
  total: number;
  data: Array<Record<string, unknown> & { event: Record<string, unknown>; message: string }>;
}

describe('_execute', () => {
  let server: TestServer;
  let serverLogId: string;

  beforeAll(async () => {
    server = await startServer({
      settings: {
        'xpack.actions.enabledActionTypes': ['.index'],
        'xpack.actions.preconfigured': {
          'pre-log': { name: 'pre log', actionTypeId: '.server-log' },
          'pre-broken': { name: 'pre broken', actionTypeId: '.index', config: { refresh: 'yes' } },
        },
      },
    });
    serverLogId = 'pre-log';
  });
  afterAll(() => server.close());

  it('runs .server-log: status ok, the message in the server log with control characters replaced', async () => {
    const result = await execute(server.api, serverLogId, {
      message: 'hello\nworld\tok',
      level: 'warn',
    });
    expect(result).toEqual({ status: 'ok', connector_id: 'pre-log' });
    const raw = server.logs.find((l) => l.includes('"msg":"Server log: hello;world\\tok"'));
    expect(JSON.parse(raw ?? '{}')).toMatchObject({
      level: 40,
      name: 'plugins.actions.server-log',
    });
    // The logger's name appears once: a child of a named logger would repeat the key.
    expect(raw?.match(/"name":/g)).toHaveLength(1);
  });

  it('answers params errors as a 200 envelope naming the field', async () => {
    expect(await execute(server.api, serverLogId, { level: 'info' })).toEqual({
      status: 'error',
      connector_id: 'pre-log',
      message:
        'error validating action params: [message]: expected value of type [string] but got [undefined]',
      retry: false,
      errorSource: 'user',
    });
    expect(await execute(server.api, serverLogId, { message: 'm', level: 'loud' })).toEqual({
      status: 'error',
      connector_id: 'pre-log',
      message:
        'error validating action params: [level]: types that failed validation:\n' +
        '- [level.0]: expected value to equal [trace]\n' +
        '- [level.1]: expected value to equal [debug]\n' +
        '- [level.2]: expected value to equal [info]\n' +
        '- [level.3]: expected value to equal [warn]\n' +
        '- [level.4]: expected value to equal [error]\n' +
        '- [level.5]: expected value to equal [fatal]',
      retry: false,
      errorSource: 'user',
    });
  });

  it('answers an invalid stored config as a framework error result', async () => {
    expect(await execute(server.api, 'pre-broken', { documents: [{}] })).toEqual({
      status: 'error',
      connector_id: 'pre-broken',
      message:
        'error validating connector type config: [index]: expected value of type [string] but got [undefined]',
      retry: false,
      errorSource: 'framework',
    });
  });

  it('refuses the body as Kibana does', async () => {
    const missing = await server.api('POST', `/api/actions/connector/${serverLogId}/_execute`, {
      body: {},
    });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: '[request body.params]: expected value of type [object] but got [undefined]',
    });
    const extra = await server.api('POST', `/api/actions/connector/${serverLogId}/_execute`, {
      body: { params: {}, other: 1 },
    });
    expect(extra.body).toMatchObject({
      message: '[request body.other]: definition for this key is missing',
    });
  });

  it('answers 404 for an unknown id and for a connector of another space', async () => {
    const unknown = await server.api('POST', '/api/actions/connector/nope/_execute', {
      body: { params: {} },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Saved object [action/nope] not found',
    });

    await server.api('POST', '/api/spaces/space', { body: { id: 'elsewhere', name: 'Elsewhere' } });
    const id = await createConnector(
      server.api,
      { connector_type_id: '.index', config: { index: 'x' } },
      '/s/elsewhere',
    );
    const other = await server.api('POST', `/api/actions/connector/${id}/_execute`, {
      body: { params: { documents: [] } },
    });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ message: `Saved object [action/${id}] not found` });
    expect(await execute(server.api, id, { documents: [{ a: 1 }] }, '/s/elsewhere')).toMatchObject({
      status: 'ok',
    });
  });

  it('answers 403 for a disabled type unless the connector is preconfigured', async () => {
    // pre-log is a .server-log connector, a type missing from enabledActionTypes: it still runs.
    expect((await execute(server.api, 'pre-log', { message: 'm' })).status).toBe('ok');
  });

  it('runs the updated connector right after an update, and nothing after a delete', async () => {
    const id = await createConnector(server.api, {
      connector_type_id: '.index',
      config: { index: 'before' },
    });
    const first = await execute(server.api, id, { documents: [{ a: 1 }] });
    expect(first.data).toMatchObject({ items: [{ create: { _index: 'before' } }] });
    await server.api('PUT', `/api/actions/connector/${id}`, {
      body: { name: 'n', config: { index: 'after' } },
    });
    const second = await execute(server.api, id, { documents: [{ a: 1 }] });
    expect(second.data).toMatchObject({ items: [{ create: { _index: 'after' } }] });
    await server.api('DELETE', `/api/actions/connector/${id}`);
    const gone = await server.api('POST', `/api/actions/connector/${id}/_execute`, {
      body: { params: { documents: [] } },
    });
    expect(gone.status).toBe(404);
  });

  it('records execute-start and execute in the event log with the caller and the space', async () => {
    await server.api('POST', '/api/spaces/space', { body: { id: 'logs', name: 'Logs' } });
    const id = await createConnector(
      server.api,
      { name: 'logged', connector_type_id: '.index', config: { index: 'ev' } },
      '/s/logs',
    );
    await execute(server.api, id, { documents: [{ a: 1 }] }, '/s/logs');
    await execute(server.api, id, {}, '/s/logs');
    const page = await server.api<EventPage>(
      'GET',
      `/s/logs/internal/event_log/action/${id}/_find?per_page=10`,
    );
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(4);
    const actions = page.body.data.map((d) => [d.event.action, d.event.outcome]);
    expect(actions).toEqual([
      ['execute-start', undefined],
      ['execute', 'success'],
      ['execute-start', undefined],
      ['execute', 'failure'],
    ]);
    const success = page.body.data[1];
    expect(success?.message).toBe(`action executed: .index:${id}: logged`);
    expect(success?.event).toMatchObject({
      provider: 'actions',
      kind: 'action',
      duration: expect.stringMatching(/^\d+$/),
    });
    expect(success?.kibana).toMatchObject({
      saved_objects: [{ rel: 'primary', type: 'action', id, type_id: '.index', namespace: 'logs' }],
      space_ids: ['logs'],
      action: {
        name: 'logged',
        id,
        type_id: '.index',
        execution: { source: 'http_request', uuid: expect.any(String) },
      },
    });
    expect(success?.user).toEqual({ name: 'elastic' });
    const failure = page.body.data[3];
    expect(failure?.message).toBe(`action execution failure: .index:${id}: logged`);
    expect(failure?.error).toEqual({
      message:
        'error validating action params: [documents]: expected value of type [array] but got [undefined]',
    });

    const desc = await server.api<EventPage>(
      'GET',
      `/s/logs/internal/event_log/action/${id}/_find?per_page=1&sort_order=desc`,
    );
    expect(desc.body).toMatchObject({ page: 1, per_page: 1, total: 4 });
    expect(desc.body.data[0]?.event.outcome).toBe('failure');
    // Another space cannot read them.
    expect((await server.api('GET', `/internal/event_log/action/${id}/_find`)).status).toBe(404);
  });
});

describe('_execute and the caller going away', () => {
  let es: ElasticsearchSimulator;
  let server: TestServer;

  beforeAll(async () => {
    es = await startElasticsearchSimulator();
    server = await startServer({ settings: { 'elasticsearch.hosts': [es.url] } });
  });
  afterAll(async () => {
    await server.close();
    await es.close();
  });

  /** Starts a run and hangs up once the vendor has its request. */
  function runAndHangUp(id: string, params: unknown, vendorHasIt: () => boolean): Promise<void> {
    const url = new URL(`${server.url}/api/actions/connector/${id}/_execute`);
    const body = JSON.stringify({ params });
    return new Promise<void>((resolve) => {
      const req = httpRequest(url, {
        method: 'POST',
        headers: {
          authorization: ELASTIC_AUTH,
          'kbn-xsrf': 'true',
          'content-type': 'application/json',
        },
      });
      req.on('error', () => resolve());
      req.end(body);
      const wait = setInterval(() => {
        if (vendorHasIt()) {
          clearInterval(wait);
          req.destroy();
          resolve();
        }
      }, 10);
    });
  }

  /** Waits for the run's execute record; it must come well before the vendor would answer. */
  async function recordedFailure(id: string): Promise<{ outcome?: string; message?: string }> {
    const started = Date.now();
    for (;;) {
      const events = await server.api<EventPage>('GET', `/internal/event_log/action/${id}/_find`);
      if (events.body.total === 2) {
        expect(Date.now() - started).toBeLessThan(1500);
        const doc = events.body.data[1] as unknown as {
          event: { outcome?: string };
          error?: { message?: string };
        };
        return { outcome: doc.event.outcome, message: doc.error?.message };
      }
      if (Date.now() - started > 1500) throw new Error('no execute record within 1.5 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('cancels the vendor call when the client disconnects', async () => {
    const id = await createConnector(server.api, {
      connector_type_id: '.index',
      config: { index: 'slow' },
    });
    await runAndHangUp(id, { documents: [{ simulate: 'slow' }] }, () => es.requests.length > 0);
    // The server gives up on Elasticsearch too, well before it would have answered (2 s).
    expect((await recordedFailure(id)).outcome).toBe('failure');
  });

  it('cancels an outbound vendor call when the client disconnects', async () => {
    let hangUps = 0;
    const vendor = await startSimulator((_req, res) => {
      res.once('close', () => {
        if (!res.writableEnded) hangUps += 1;
      });
      setTimeout(() => {
        if (!res.destroyed) sendJson(res, 200, { late: true });
      }, 2000);
    });
    try {
      const id = await createConnector(server.api, {
        connector_type_id: '.webhook',
        config: { url: `${vendor.url}/slow`, method: 'post', hasAuth: false },
      });
      await runAndHangUp(id, { body: '{}' }, () => vendor.requests.length > 0);
      expect(await recordedFailure(id)).toEqual({
        outcome: 'failure',
        message: 'error calling webhook, request failed: [ERR_CANCELED] the request was aborted',
      });
      expect(hangUps).toBe(1);
    } finally {
      await vendor.close();
    }
  });
});

describe('_execute after a restart with other settings', () => {
  it('answers 403 for a stored connector whose type was disabled, 400 when the type is gone', async () => {
    const first = await startServer({ dataDir: tempDir() });
    const id = await createConnector(first.api, { connector_type_id: '.server-log' });
    await first.close();

    const disabled = await startServer({
      dataDir: first.dataDir,
      settings: { 'xpack.actions.enabledActionTypes': ['.index'] },
    });
    const refused = await disabled.api('POST', `/api/actions/connector/${id}/_execute`, {
      body: { params: { message: 'm' } },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message:
        'action type ".server-log" is not enabled in the Kibana config xpack.actions.enabledActionTypes',
    });
    await disabled.close();

    const orphan = await startServer({ dataDir: first.dataDir, connectorTypes: [indexConnector] });
    const gone = await orphan.api('POST', `/api/actions/connector/${id}/_execute`, {
      body: { params: { message: 'm' } },
    });
    expect(gone.status).toBe(400);
    expect(gone.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Action type ".server-log" is not registered.',
    });
    // An orphan can still be deleted.
    expect((await orphan.api('DELETE', `/api/actions/connector/${id}`)).status).toBe(204);
    await orphan.close();
    rmSync(first.dataDir, { recursive: true, force: true });
  });
});
