import { describe, expect, it } from 'vitest';
import {
  type ExecuteEnvelope,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  retryAt,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { withServer } from '../helpers/server.js';
import { startTorqSimulator, TORQ_WEBHOOK_ID } from '../simulators/torq.js';

const TOKEN = 'torq-secret-token-5e6f7a8b';

describe('.torq', () => {
  const h = connectorHarness({
    type: '.torq',
    simulator: () => startTorqSimulator({ token: TOKEN }),
    settings: () => SHORT_LIMITS,
    connector: (torq) => ({
      name: 'my torq',
      config: { webhookIntegrationUrl: torq.webhookUrl },
      secrets: { token: TOKEN },
    }),
  });
  const run = (body: string, connector = h.id): Promise<ExecuteEnvelope> =>
    h.run({ body }, connector);
  const msg = (word: string) => run(JSON.stringify({ msg: word }));

  it('is listed among the connector types as Kibana lists it', async () => {
    await expectListedType(h.server, {
      id: '.torq',
      name: 'Torq',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem'],
    });
  });

  it('posts the parsed body with the token header and answers with the body text', async () => {
    const body = '{"msg":"{{rule.name}} fired","severity":3,"tags":["a","b"]}';
    expect(await run(body)).toEqual({ status: 'ok', connector_id: h.id, data: body });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/v1/webhooks/${TORQ_WEBHOOK_ID}`);
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers['x-torq-token']).toBe(TOKEN);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ msg: '{{rule.name}} fired', severity: 3, tags: ['a', 'b'] });
    expect(h.sim.events).toContainEqual({
      msg: '{{rule.name}} fired',
      severity: 3,
      tags: ['a', 'b'],
    });
  });

  it('sends no body for an empty or null body', async () => {
    for (const body of ['null', '']) {
      const res = await run(body);
      expect(res).toEqual({ status: 'ok', connector_id: h.id, data: body });
      expect(h.sim.last().text).toBe('');
      expect(h.sim.last().headers['content-type']).toBe('application/json');
    }
  });

  it('refuses a body that is not JSON, before calling Torq', async () => {
    const before = h.sim.requests.length;
    expect(await run('{not json')).toEqual({
      status: 'error',
      connector_id: h.id,
      message: 'error triggering Torq workflow, invalid body',
      service_message: `Expected property name or '}' in JSON at position 1`,
      errorSource: 'user',
    });
    expect(h.sim.requests.length).toBe(before);
  });

  describe('vendor failures', () => {
    const failed = (message: string, serviceMessage: string) => ({
      status: 'error',
      connector_id: h.id,
      message: `error triggering Torq workflow, ${message}`,
      service_message: serviceMessage,
      errorSource: 'user',
    });
    const retried = (message: string, serviceMessage: string) => ({
      ...failed(message, serviceMessage),
      retry: true,
    });

    // 4xx answers map to Kibana messages, with the vendor message; 429 and 5xx are retried, at
    // the Retry-After moment when there is one; a timeout, a reset and an oversized answer give
    // the client's error code.
    failureClassTests(msg, {
      'respond-with-400': () => failed('invalid response', '[400] Bad Request: simulated 400'),
      'respond-with-404': () =>
        failed('make sure the webhook URL is valid', '[404] Not Found: simulated 404'),
      'respond-with-405': () =>
        failed('method is not supported', '[405] Method Not Allowed: simulated 405'),
      'respond-with-401': () => failed('unauthorised', '[401] Unauthorized: simulated 401'),
      'respond-with-429': retryAt(30, (at) => ({
        status: 'error',
        connector_id: h.id,
        message: `error triggering Torq workflow, retry at ${at}`,
        service_message: '[429] Too Many Requests: simulated 429',
        retry: at,
        errorSource: 'user',
      })),
      'respond-with-429-no-retry-after': () =>
        retried('retry later', '[429] Too Many Requests: simulated 429'),
      'respond-with-500': () =>
        retried('retry later', '[500] Internal Server Error: simulated 500'),
      'respond-with-502': () => retried('retry later', '[502] Bad Gateway: simulated 502'),
      'respond-with-timeout': () =>
        failed('request failed', '[ECONNABORTED] timeout of 300ms exceeded'),
      'respond-with-reset': () => failed('request failed', '[ECONNRESET] socket hang up'),
      'respond-with-large': () =>
        failed('request failed', '[ERR_BAD_RESPONSE] maxContentLength size of 1024 exceeded'),
    });

    it('answers a wrong token as unauthorised', async () => {
      const wrong = await h.create({
        config: { webhookIntegrationUrl: h.sim.webhookUrl },
        secrets: { token: 'not-the-token' },
      });
      expect(await run('{"msg":"hi"}', wrong)).toEqual({
        status: 'error',
        connector_id: wrong,
        message: 'error triggering Torq workflow, unauthorised',
        service_message: '[401] Unauthorized: invalid webhook secret',
        errorSource: 'user',
      });
    });
  });

  it('refuses bad params with Kibana texts', async () => {
    expect(await execute(h.server.api, h.id, { body: { msg: 'x' } })).toEqual({
      status: 'error',
      connector_id: h.id,
      message:
        'error validating action params: [body]: expected value of type [string] but got [Object]',
      retry: false,
      errorSource: 'user',
    });
  });

  it('refuses bad config and secrets on create', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { config: {}, secrets: { token: TOKEN } },
        'error validating connector type config: [webhookIntegrationUrl]: expected value of type [string] but got [undefined]',
      ],
      [
        { config: { webhookIntegrationUrl: 'hooks.torq.io/v1' }, secrets: { token: TOKEN } },
        'error validating connector type config: error configuring send to Torq action: unable to parse url: TypeError: Invalid URL',
      ],
      [
        {
          config: { webhookIntegrationUrl: 'https://hooks.example.com/v1/webhooks/1' },
          secrets: { token: TOKEN },
        },
        'error validating connector type config: error configuring send to Torq action: url must begin with https://hooks.torq.io or https://hooks.eu.torq.io',
      ],
      [
        { config: { webhookIntegrationUrl: h.sim.webhookUrl }, secrets: {} },
        'error validating connector type secrets: [token]: expected value of type [string] but got [undefined]',
      ],
    ];
    for (const [body, message] of cases) {
      await expectCreateRefused(
        h.server.api,
        { name: 'bad', connector_type_id: '.torq', ...body },
        message,
      );
    }
    for (const host of ['hooks.torq.io', 'hooks.eu.torq.io']) {
      const ok = await h.server.api('POST', '/api/actions/connector', {
        body: {
          name: 'torq host',
          connector_type_id: '.torq',
          config: { webhookIntegrationUrl: `https://${host}/v1/webhooks/abc` },
          secrets: { token: TOKEN },
        },
      });
      expect(ok.status).toBe(200);
    }
  });

  it('never shows the token in a reply or a log line', async () => {
    const got = await h.server.api('GET', `/api/actions/connector/${h.id}`);
    h.replies.push(got.body);
    expect(got.body).toMatchObject({ config: { webhookIntegrationUrl: h.sim.webhookUrl } });
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [TOKEN], h.replies);
  });
});

describe('.torq with xpack.actions.allowedHosts', () => {
  it('refuses a webhook URL whose host is not allowed, with Kibana text', async () => {
    await withServer(
      {
        settings: { 'xpack.actions.allowedHosts': ['hooks.eu.torq.io'] },
      },
      async (server) => {
        const url = 'https://hooks.torq.io/v1/webhooks/abc';
        const refusal = await expectCreateRefused(
          server.api,
          {
            name: 'x',
            connector_type_id: '.torq',
            config: { webhookIntegrationUrl: url },
            secrets: { token: TOKEN },
          },
          `error validating connector type config: error configuring send to Torq action: target url "${url}" is not added to the Kibana config xpack.actions.allowedHosts`,
        );
        expectNoSecrets(server, [TOKEN], [refusal]);
      },
    );
  });
});
