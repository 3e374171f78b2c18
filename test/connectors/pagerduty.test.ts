import { describe, expect, it } from 'vitest';
import {
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { withServer } from '../helpers/server.js';
import { startPagerDutySimulator } from '../simulators/pagerduty.js';

const ROUTING_KEY = 'pd-routing-key-0123456789abcdef01';

describe('.pagerduty', () => {
  const h = connectorHarness({
    type: '.pagerduty',
    simulator: startPagerDutySimulator,
    settings: (sim) => ({
      'xpack.actions.allowedHosts': ['127.0.0.1'],
      'connectors.baseUrls': { '.pagerduty': `${sim.url}/v2/enqueue` },
      ...SHORT_LIMITS,
    }),
    connector: () => ({ config: {}, secrets: { routingKey: ROUTING_KEY } }),
  });
  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);

  it('is listed with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: '.pagerduty',
      name: 'PagerDuty',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem', 'workflows'],
    });
  });

  it('stores apiUrl as null by default', async () => {
    const res = await h.server.api<{ config: unknown }>('GET', `/api/actions/connector/${h.id}`);
    expect(res.body.config).toEqual({ apiUrl: null });
  });

  it('triggers with Kibana defaults; the routing key goes in the header only', async () => {
    const reply = await run({});
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v2/enqueue');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['x-routing-key']).toBe(ROUTING_KEY);
    expect(sent.json).toEqual({
      event_action: 'trigger',
      payload: {
        summary: 'No summary provided.',
        source: `Kibana Action ${h.id}`,
        severity: 'info',
      },
    });
    expect(sent.text).not.toContain(ROUTING_KEY);
    const dedup = (sent.json as { dedup_key?: string }).dedup_key;
    expect(dedup).toBeUndefined();
    expect(reply).toEqual({
      status: 'ok',
      connector_id: h.id,
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
    expect(h.sim.last().json).toEqual({
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
      connector_id: h.id,
      data: { status: 'success', message: 'Event processed', dedup_key: 'my-dedup' },
    });
  });

  it('reads an all-digit timestamp as epoch milliseconds and customDetails given as JSON text', async () => {
    await run({ timestamp: ' 1700000000000 ', customDetails: '{"from":"text"}' });
    const payload = (h.sim.last().json as { payload: Record<string, unknown> }).payload;
    expect(payload.timestamp).toBe('2023-11-14T22:13:20.000Z');
    expect(payload.custom_details).toEqual({ from: 'text' });
  });

  it('acknowledges and resolves with the dedup key only', async () => {
    for (const eventAction of ['acknowledge', 'resolve']) {
      const reply = await run({ eventAction, dedupKey: 'incident-7', summary: 'ignored' });
      expect(h.sim.last().json).toEqual({ event_action: eventAction, dedup_key: 'incident-7' });
      expect(reply.status).toBe('ok');
    }
  });

  it('uses config.apiUrl when set', async () => {
    const custom = await h.create({
      config: { apiUrl: `${h.sim.url}/v2/enqueue?via=apiUrl` },
      secrets: { routingKey: ROUTING_KEY },
    });
    expect((await run({ summary: 'x' }, custom)).status).toBe('ok');
    expect(h.sim.last().query.get('via')).toBe('apiUrl');
  });

  describe('vendor failures', () => {
    // Only 202 counts: 200 is unexpected, as are 400, 401 and 404, which are not retried; 429
    // is retried with or without Retry-After (Kibana does not read it), as is 5xx; a timeout, a
    // reset and an oversized answer give the client message.
    const unexpected = (status: number) => ({
      status: 'error',
      connector_id: h.id,
      message: `error posting pagerduty event: unexpected status ${status}`,
      errorSource: 'user',
    });
    const retryLater = (status: number) => ({
      status: 'error',
      connector_id: h.id,
      message: `error posting pagerduty event: http status ${status}, retry later`,
      retry: true,
      errorSource: 'user',
    });
    const thrown = (serviceMessage: string) => ({
      status: 'error',
      connector_id: h.id,
      message: 'error posting pagerduty event',
      service_message: serviceMessage,
      errorSource: 'user',
    });
    failureClassTests((summary) => run({ summary }), {
      'respond-with-200': () => unexpected(200),
      'respond-with-400': () => unexpected(400),
      'respond-with-401': () => unexpected(401),
      'respond-with-404': () => unexpected(404),
      'respond-with-429': () => retryLater(429),
      'respond-with-429-retry-after-60': () => retryLater(429),
      'respond-with-500': () => retryLater(500),
      'respond-with-502': () => retryLater(502),
      'respond-with-timeout': () => thrown('timeout of 300ms exceeded'),
      'respond-with-reset': () => thrown('socket hang up'),
      'respond-with-large': () => thrown('maxContentLength size of 1024 exceeded'),
    });
  });

  describe('validation', () => {
    const paramsError = (message: string) => ({
      status: 'error',
      connector_id: h.id,
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
      const noKey = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: { name: 'pd', connector_type_id: '.pagerduty', config: {}, secrets: {} },
      });
      expect(noKey.status).toBe(400);
      expect(noKey.body.message).toBe(
        'error validating connector type secrets: [routingKey]: expected value of type [string] but got [undefined]',
      );
      const extra = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
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
      await expectCreateRefused(
        h.server.api,
        {
          name: 'pd',
          connector_type_id: '.pagerduty',
          config: { apiUrl: 'https://events.eu.pagerduty.com/v2/enqueue' },
          secrets: { routingKey: 'k' },
        },
        'error validating connector type config: error configuring pagerduty action: target url "https://events.eu.pagerduty.com/v2/enqueue" is not added to the Kibana config xpack.actions.allowedHosts',
      );
    });
  });

  it('never shows the routing key in a reply or a log line', () => {
    expectNoSecrets(h.server, [ROUTING_KEY], h.replies);
  });
});

describe('.pagerduty default URL', () => {
  it('is events.pagerduty.com, checked against allowedHosts', async () => {
    await withServer(
      { settings: { 'xpack.actions.allowedHosts': ['127.0.0.1'] } },
      async (server) => {
        const res = await server.api<{ message: string }>('POST', '/api/actions/connector', {
          body: { name: 'pd', connector_type_id: '.pagerduty', secrets: { routingKey: 'k' } },
        });
        expect(res.status).toBe(400);
        expect(res.body.message).toBe(
          'error validating connector type config: error configuring pagerduty action: target url "https://events.pagerduty.com/v2/enqueue" is not added to the Kibana config xpack.actions.allowedHosts',
        );
      },
    );
  });
});
