import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
} from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import type { Simulator } from '../simulators/base.js';
import { startPagerDutySimulator } from '../simulators/pagerduty.js';

const ROUTING_KEY = 'pd-routing-key-0123456789abcdef01';

describe('.pagerduty', () => {
  let sim: Simulator;
  let server: TestServer;
  let id: string;
  const replies: unknown[] = [];

  const run = async (params: unknown, connectorId = id): Promise<ExecuteEnvelope> => {
    const reply = await execute(server.api, connectorId, params);
    replies.push(reply);
    return reply;
  };

  beforeAll(async () => {
    sim = await startPagerDutySimulator();
    server = await startServer({
      settings: {
        'xpack.actions.allowedHosts': ['127.0.0.1'],
        'connectors.baseUrls': { '.pagerduty': `${sim.url}/v2/enqueue` },
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
      },
    });
    id = await createConnector(server.api, {
      connector_type_id: '.pagerduty',
      config: {},
      secrets: { routingKey: ROUTING_KEY },
    });
  });
  afterAll(async () => {
    await server.close();
    await sim.close();
  });

  it('is listed with Kibana fields', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.pagerduty')).toEqual({
      id: '.pagerduty',
      name: 'PagerDuty',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem', 'workflows'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  it('stores apiUrl as null by default', async () => {
    const res = await server.api<{ config: unknown }>('GET', `/api/actions/connector/${id}`);
    expect(res.body.config).toEqual({ apiUrl: null });
  });

  it('triggers with Kibana defaults; the routing key goes in the header only', async () => {
    const reply = await run({});
    const sent = sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v2/enqueue');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['x-routing-key']).toBe(ROUTING_KEY);
    expect(sent.json).toEqual({
      event_action: 'trigger',
      payload: { summary: 'No summary provided.', source: `Kibana Action ${id}`, severity: 'info' },
    });
    expect(sent.text).not.toContain(ROUTING_KEY);
    const dedup = (sent.json as { dedup_key?: string }).dedup_key;
    expect(dedup).toBeUndefined();
    expect(reply).toEqual({
      status: 'ok',
      connector_id: id,
      data: {
        status: 'success',
        message: 'Event processed',
        dedup_key: expect.stringMatching(/^[0-9a-f]{32}$/),
      },
    });
  });

  it('sends every trigger field, converting the timestamp to ISO', async () => {
    const reply = await run({
      eventAction: 'trigger',
      dedupKey: 'my-dedup',
      summary: 'disk full',
      source: 'host-1',
      severity: 'critical',
      timestamp: '2024-03-05T10:20:30+01:00',
      component: 'disk',
      group: 'storage',
      class: 'capacity',
      links: [{ href: 'https://kibana.example/app', text: 'Kibana' }],
      customDetails: { used: '99%', nested: { a: 1 } },
    });
    expect(sim.last().json).toEqual({
      event_action: 'trigger',
      dedup_key: 'my-dedup',
      payload: {
        summary: 'disk full',
        source: 'host-1',
        severity: 'critical',
        timestamp: '2024-03-05T09:20:30.000Z',
        component: 'disk',
        group: 'storage',
        class: 'capacity',
        custom_details: { used: '99%', nested: { a: 1 } },
      },
      links: [{ href: 'https://kibana.example/app', text: 'Kibana' }],
    });
    expect(reply).toEqual({
      status: 'ok',
      connector_id: id,
      data: { status: 'success', message: 'Event processed', dedup_key: 'my-dedup' },
    });
  });

  it('reads an all-digit timestamp as epoch milliseconds and customDetails given as JSON text', async () => {
    await run({ timestamp: ' 1700000000000 ', customDetails: '{"from":"text"}' });
    const payload = (sim.last().json as { payload: Record<string, unknown> }).payload;
    expect(payload.timestamp).toBe('2023-11-14T22:13:20.000Z');
    expect(payload.custom_details).toEqual({ from: 'text' });
  });

  it('acknowledges and resolves with the dedup key only', async () => {
    for (const eventAction of ['acknowledge', 'resolve']) {
      const reply = await run({ eventAction, dedupKey: 'incident-7', summary: 'ignored' });
      expect(sim.last().json).toEqual({ event_action: eventAction, dedup_key: 'incident-7' });
      expect(reply.status).toBe('ok');
    }
  });

  it('uses config.apiUrl when set', async () => {
    const custom = await createConnector(server.api, {
      connector_type_id: '.pagerduty',
      config: { apiUrl: `${sim.url}/v2/enqueue?via=apiUrl` },
      secrets: { routingKey: ROUTING_KEY },
    });
    expect((await run({ summary: 'x' }, custom)).status).toBe('ok');
    expect(sim.last().query.get('via')).toBe('apiUrl');
  });

  describe('vendor failures', () => {
    const unexpected = (status: number) => ({
      status: 'error',
      connector_id: id,
      message: `error posting pagerduty event: unexpected status ${status}`,
      errorSource: 'user',
    });
    const retryLater = (status: number) => ({
      status: 'error',
      connector_id: id,
      message: `error posting pagerduty event: http status ${status}, retry later`,
      retry: true,
      errorSource: 'user',
    });

    it('only 202 counts: 200 is unexpected', async () => {
      expect(await run({ summary: 'respond-with-200' })).toEqual(unexpected(200));
    });

    it('400, 401 and 404 are not retried', async () => {
      for (const status of [400, 401, 404]) {
        expect(await run({ summary: `respond-with-${status}` })).toEqual(unexpected(status));
      }
    });

    it('429 is retried, with or without Retry-After (Kibana does not read it)', async () => {
      expect(await run({ summary: 'respond-with-429' })).toEqual(retryLater(429));
      expect(await run({ summary: 'respond-with-429-retry-after-60' })).toEqual(retryLater(429));
    });

    it('5xx is retried', async () => {
      expect(await run({ summary: 'respond-with-500' })).toEqual(retryLater(500));
      expect(await run({ summary: 'respond-with-502' })).toEqual(retryLater(502));
    });

    const thrown = (serviceMessage: string) => ({
      status: 'error',
      connector_id: id,
      message: 'error posting pagerduty event',
      service_message: serviceMessage,
      errorSource: 'user',
    });

    it('a timeout, a reset and an oversized answer', async () => {
      expect(await run({ summary: 'respond-with-timeout' })).toEqual(
        thrown('timeout of 300ms exceeded'),
      );
      expect(await run({ summary: 'respond-with-reset' })).toEqual(thrown('socket hang up'));
      expect(await run({ summary: 'respond-with-large' })).toEqual(
        thrown('maxContentLength size of 1024 exceeded'),
      );
    });
  });

  describe('validation', () => {
    const paramsError = (message: string) => ({
      status: 'error',
      connector_id: id,
      message: `error validating action params: ${message}`,
      retry: false,
      errorSource: 'user',
    });

    it('needs a dedupKey to acknowledge or resolve', async () => {
      expect(await run({ eventAction: 'resolve' })).toEqual(
        paramsError('DedupKey is required when eventAction is "resolve"'),
      );
      expect(await run({ eventAction: 'acknowledge', dedupKey: '' })).toEqual(
        paramsError('DedupKey is required when eventAction is "acknowledge"'),
      );
    });

    it('refuses an unreadable timestamp', async () => {
      expect(await run({ timestamp: 'yesterday-ish' })).toEqual(
        paramsError('error parsing timestamp "yesterday-ish"'),
      );
    });

    it('refuses bad fields with config-schema texts', async () => {
      expect(await run({ eventAction: 'page' })).toEqual(
        paramsError(
          '[eventAction]: types that failed validation:\n- [eventAction.0]: expected value to equal [trigger]\n- [eventAction.1]: expected value to equal [resolve]\n- [eventAction.2]: expected value to equal [acknowledge]',
        ),
      );
      expect(await run({ dedupKey: 'k'.repeat(256) })).toEqual(
        paramsError(
          '[dedupKey]: value has length [256] but it must have a maximum length of [255].',
        ),
      );
      expect(await run({ summary: 's'.repeat(1025) })).toEqual(
        paramsError(
          '[summary]: value has length [1025] but it must have a maximum length of [1024].',
        ),
      );
      expect(await run({ customDetails: 'not json' })).toEqual(
        paramsError('[customDetails]: could not parse record value from json input'),
      );
      expect(await run({ links: [{ href: 'x' }] })).toEqual(
        paramsError('[links.0.text]: expected value of type [string] but got [undefined]'),
      );
      expect(await run({ routingKey: 'x' })).toEqual(
        paramsError('[routingKey]: definition for this key is missing'),
      );
    });

    it('needs a routing key and refuses unknown config keys', async () => {
      const noKey = await server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: { name: 'pd', connector_type_id: '.pagerduty', config: {}, secrets: {} },
      });
      expect(noKey.status).toBe(400);
      expect(noKey.body.message).toBe(
        'error validating connector type secrets: [routingKey]: expected value of type [string] but got [undefined]',
      );
      const extra = await server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 'pd',
          connector_type_id: '.pagerduty',
          config: { url: 'x' },
          secrets: { routingKey: 'k' },
        },
      });
      expect(extra.body.message).toBe(
        'error validating connector type config: [url]: definition for this key is missing',
      );
    });

    it('refuses an apiUrl outside xpack.actions.allowedHosts', async () => {
      const res = await server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 'pd',
          connector_type_id: '.pagerduty',
          config: { apiUrl: 'https://events.eu.pagerduty.com/v2/enqueue' },
          secrets: { routingKey: 'k' },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message:
          'error validating connector type config: error configuring pagerduty action: target url "https://events.eu.pagerduty.com/v2/enqueue" is not added to the Kibana config xpack.actions.allowedHosts',
      });
    });
  });

  it('never shows the routing key in a reply or a log line', () => {
    expectNoSecrets(server, [ROUTING_KEY], replies);
  });
});

describe('.pagerduty default URL', () => {
  it('is events.pagerduty.com, checked against allowedHosts', async () => {
    const server = await startServer({ settings: { 'xpack.actions.allowedHosts': ['127.0.0.1'] } });
    try {
      const res = await server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: { name: 'pd', connector_type_id: '.pagerduty', secrets: { routingKey: 'k' } },
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(
        'error validating connector type config: error configuring pagerduty action: target url "https://events.pagerduty.com/v2/enqueue" is not added to the Kibana config xpack.actions.allowedHosts',
      );
    } finally {
      await server.close();
    }
  });
});
