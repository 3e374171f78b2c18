import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector, execute } from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type Simulator, sendJson, startSimulator } from '../simulators/base.js';

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',');
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${wanted}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('/metrics', () => {
  let server: TestServer;
  let vendor: Simulator;

  beforeAll(async () => {
    vendor = await startSimulator((req, res) =>
      req.path === '/fail'
        ? sendJson(res, 503, { error: 'down' })
        : sendJson(res, 200, { ok: true }),
    );
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
    await vendor.close();
  });

  it('counts runs by type and outcome, failure reasons, latency and vendor answers', async () => {
    const log = await createConnector(server.api, { connector_type_id: '.server-log' });
    await execute(server.api, log, { message: 'one' });
    await execute(server.api, log, { message: 'two' });
    await execute(server.api, log, {});
    const okHook = await createConnector(server.api, {
      connector_type_id: '.webhook',
      config: { url: `${vendor.url}/ok`, method: 'post', hasAuth: false },
    });
    const badHook = await createConnector(server.api, {
      connector_type_id: '.webhook',
      config: { url: `${vendor.url}/fail`, method: 'post', hasAuth: false },
    });
    expect((await execute(server.api, okHook, { body: '{}' })).status).toBe('ok');
    expect((await execute(server.api, badHook, { body: '{}' })).status).toBe('error');

    const res = await server.api<string>('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = res.text;
    expect(
      sample(text, 'connectors_executions_total', {
        connector_type: '.server-log',
        outcome: 'success',
      }),
    ).toBe(2);
    expect(
      sample(text, 'connectors_executions_total', {
        connector_type: '.server-log',
        outcome: 'failure',
      }),
    ).toBe(1);
    expect(
      sample(text, 'connectors_executions_failed_total', {
        connector_type: '.server-log',
        reason: 'validation',
      }),
    ).toBe(1);
    expect(
      sample(text, 'connectors_executions_total', {
        connector_type: '.webhook',
        outcome: 'success',
      }),
    ).toBe(1);
    expect(
      sample(text, 'connectors_executions_failed_total', {
        connector_type: '.webhook',
        reason: 'vendor_server_error',
      }),
    ).toBe(1);
    expect(
      sample(text, 'connectors_vendor_requests_total', {
        connector_type: '.webhook',
        answer: '2xx',
      }),
    ).toBe(1);
    expect(
      sample(text, 'connectors_vendor_requests_total', {
        connector_type: '.webhook',
        answer: '5xx',
      }),
    ).toBe(1);
    expect(
      sample(text, 'connectors_execution_latency_seconds_count', { connector_type: '.server-log' }),
    ).toBe(3);
    expect(
      sample(text, 'connectors_vendor_request_latency_seconds_count', {
        connector_type: '.webhook',
      }),
    ).toBe(2);
    expect(sample(text, 'connectors_executions_in_flight', { connector_type: '.webhook' })).toBe(0);
    expect(
      sample(text, 'connectors_outbound_connections', { state: 'connected' }),
    ).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^connectors_event_log_queue_length \d+$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
  });

  it('needs credentials unless metrics.allowAnonymous', async () => {
    expect((await server.api('GET', '/metrics', { auth: 'none' })).status).toBe(401);
    const open = await startServer({ settings: { 'metrics.allowAnonymous': true } });
    const res = await open.api('GET', '/metrics', { auth: 'none' });
    await open.close();
    expect(res.status).toBe(200);
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After in the Kibana envelope when over the heap limit', async () => {
    const server = await startServer({
      settings: { 'loadShedding.maxHeapUsedRatio': 0.0001, 'loadShedding.retryAfter': '7s' },
    });
    // The first sample is taken after one sample interval.
    await new Promise((r) => setTimeout(r, 400));
    const res = await server.api('GET', '/api/actions/connectors');
    await server.close();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'The server is overloaded; retry in 7 seconds.',
    });
  });
});
