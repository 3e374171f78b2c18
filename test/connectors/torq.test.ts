import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
  expectRetryAt,
} from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTorqSimulator, TORQ_WEBHOOK_ID, type TorqSimulator } from '../simulators/torq.js';

const TOKEN = 'torq-secret-token-5e6f7a8b';

describe('.torq', () => {
  let torq: TorqSimulator;
  let server: TestServer;
  let id: string;
  const replies: unknown[] = [];

  const run = async (body: string, connector = id): Promise<ExecuteEnvelope> => {
    const envelope = await execute(server.api, connector, { body });
    replies.push(envelope);
    return envelope;
  };
  const msg = (word: string) => run(JSON.stringify({ msg: word }));

  beforeAll(async () => {
    torq = await startTorqSimulator({ token: TOKEN });
    server = await startServer({
      settings: {
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
      },
    });
    id = await createConnector(server.api, {
      name: 'my torq',
      connector_type_id: '.torq',
      config: { webhookIntegrationUrl: torq.webhookUrl },
      secrets: { token: TOKEN },
    });
  });
  afterAll(async () => {
    await server.close();
    await torq.close();
  });

  it('is listed among the connector types as Kibana lists it', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.torq')).toEqual({
      id: '.torq',
      name: 'Torq',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  it('posts the parsed body with the token header and answers with the body text', async () => {
    const body = '{"msg":"{{rule.name}} fired","severity":3,"tags":["a","b"]}';
    expect(await run(body)).toEqual({ status: 'ok', connector_id: id, data: body });
    const sent = torq.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/v1/webhooks/${TORQ_WEBHOOK_ID}`);
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers['x-torq-token']).toBe(TOKEN);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ msg: '{{rule.name}} fired', severity: 3, tags: ['a', 'b'] });
    expect(torq.events).toContainEqual({
      msg: '{{rule.name}} fired',
      severity: 3,
      tags: ['a', 'b'],
    });
  });

  it('sends no body for an empty or null body', async () => {
    for (const body of ['null', '']) {
      const res = await run(body);
      expect(res).toEqual({ status: 'ok', connector_id: id, data: body });
      expect(torq.last().text).toBe('');
      expect(torq.last().headers['content-type']).toBe('application/json');
    }
  });

  it('refuses a body that is not JSON, before calling Torq', async () => {
    const before = torq.requests.length;
    expect(await run('{not json')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error triggering Torq workflow, invalid body',
      service_message: `Expected property name or '}' in JSON at position 1`,
      errorSource: 'user',
    });
    expect(torq.requests.length).toBe(before);
  });

  it('maps 4xx answers to Kibana messages, with the vendor message', async () => {
    const cases: Array<[number, string, string]> = [
      [400, 'invalid response', '[400] Bad Request: simulated 400'],
      [404, 'make sure the webhook URL is valid', '[404] Not Found: simulated 404'],
      [405, 'method is not supported', '[405] Method Not Allowed: simulated 405'],
      [401, 'unauthorised', '[401] Unauthorized: simulated 401'],
    ];
    for (const [status, message, serviceMessage] of cases) {
      expect(await msg(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: id,
        message: `error triggering Torq workflow, ${message}`,
        service_message: serviceMessage,
        errorSource: 'user',
      });
    }
  });

  it('answers a wrong token as unauthorised', async () => {
    const wrong = await createConnector(server.api, {
      connector_type_id: '.torq',
      config: { webhookIntegrationUrl: torq.webhookUrl },
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

  it('retries a 429 at the Retry-After moment, or later without one', async () => {
    const at = await msg('respond-with-429');
    expectRetryAt(at.retry, 30);
    expect(at).toEqual({
      status: 'error',
      connector_id: id,
      message: `error triggering Torq workflow, retry at ${at.retry}`,
      service_message: '[429] Too Many Requests: simulated 429',
      retry: at.retry,
      errorSource: 'user',
    });
    expect(await msg('respond-with-429-no-retry-after')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error triggering Torq workflow, retry later',
      service_message: '[429] Too Many Requests: simulated 429',
      retry: true,
      errorSource: 'user',
    });
  });

  it('retries 500 and 502 later', async () => {
    for (const [status, text] of [
      [500, 'Internal Server Error'],
      [502, 'Bad Gateway'],
    ] as const) {
      expect(await msg(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error triggering Torq workflow, retry later',
        service_message: `[${status}] ${text}: simulated ${status}`,
        retry: true,
        errorSource: 'user',
      });
    }
  });

  it('reports a timeout, a reset and an oversized answer with the client code', async () => {
    const expected = (serviceMessage: string) => ({
      status: 'error',
      connector_id: id,
      message: 'error triggering Torq workflow, request failed',
      service_message: serviceMessage,
      errorSource: 'user',
    });
    expect(await msg('respond-with-timeout')).toEqual(
      expected('[ECONNABORTED] timeout of 300ms exceeded'),
    );
    expect(await msg('respond-with-reset')).toEqual(expected('[ECONNRESET] socket hang up'));
    expect(await msg('respond-with-large')).toEqual(
      expected('[ERR_BAD_RESPONSE] maxContentLength size of 1024 exceeded'),
    );
  });

  it('refuses bad params with Kibana texts', async () => {
    expect(await execute(server.api, id, { body: { msg: 'x' } })).toEqual({
      status: 'error',
      connector_id: id,
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
        { config: { webhookIntegrationUrl: torq.webhookUrl }, secrets: {} },
        'error validating connector type secrets: [token]: expected value of type [string] but got [undefined]',
      ],
    ];
    for (const [body, message] of cases) {
      const res = await server.api('POST', '/api/actions/connector', {
        body: { name: 'bad', connector_type_id: '.torq', ...body },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
    }
    for (const host of ['hooks.torq.io', 'hooks.eu.torq.io']) {
      const ok = await server.api('POST', '/api/actions/connector', {
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
    const got = await server.api('GET', `/api/actions/connector/${id}`);
    replies.push(got.body);
    expect(got.body).toMatchObject({ config: { webhookIntegrationUrl: torq.webhookUrl } });
    expect(replies.length).toBeGreaterThan(10);
    expectNoSecrets(server, [TOKEN], replies);
  });
});

describe('.torq with xpack.actions.allowedHosts', () => {
  it('refuses a webhook URL whose host is not allowed, with Kibana text', async () => {
    const server = await startServer({
      settings: { 'xpack.actions.allowedHosts': ['hooks.eu.torq.io'] },
    });
    try {
      const url = 'https://hooks.torq.io/v1/webhooks/abc';
      const res = await server.api('POST', '/api/actions/connector', {
        body: {
          name: 'x',
          connector_type_id: '.torq',
          config: { webhookIntegrationUrl: url },
          secrets: { token: TOKEN },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `error validating connector type config: error configuring send to Torq action: target url "${url}" is not added to the Kibana config xpack.actions.allowedHosts`,
      });
      expectNoSecrets(server, [TOKEN], [res.body]);
    } finally {
      await server.close();
    }
  });
});
