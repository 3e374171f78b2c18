import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
  expectRetryAt,
} from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { type SlackSimulator, startSlackSimulator } from '../simulators/slack.js';

const WEBHOOK_SECRET = 'wEbHoOkSeCrEt9876543210zz';

describe('.slack (incoming webhook)', () => {
  let slack: SlackSimulator;
  let server: TestServer;
  let id: string;
  const replies: unknown[] = [];

  const run = async (message: string): Promise<ExecuteEnvelope> => {
    const envelope = await execute(server.api, id, { message });
    replies.push(envelope);
    return envelope;
  };

  beforeAll(async () => {
    slack = await startSlackSimulator({ webhookSecret: WEBHOOK_SECRET });
    server = await startServer({
      settings: {
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
      },
    });
    id = await createConnector(server.api, {
      name: 'my slack',
      connector_type_id: '.slack',
      secrets: { webhookUrl: slack.webhookUrl },
    });
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
  });

  it('is listed among the connector types as Kibana lists it', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.slack')).toEqual({
      id: '.slack',
      name: 'Slack',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  it('posts the message as {text} to the webhook URL and answers {text: "ok"}', async () => {
    const res = await run('Hello from Kibana :tada:');
    expect(res).toEqual({ status: 'ok', connector_id: id, data: { text: 'ok' } });
    const sent = slack.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/services/T0SIMTEAM1/B0SIMBOT01/${WEBHOOK_SECRET}`);
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ text: 'Hello from Kibana :tada:' });
    expect(slack.webhookMessages).toContain('Hello from Kibana :tada:');
  });

  it('reports a 400 as an unexpected http response, without retry', async () => {
    expect(await run('respond-with-400')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'unexpected http response from slack: 400 Bad Request',
      errorSource: 'user',
    });
    expect(await run('invalid_payload')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'unexpected http response from slack: 400 Bad Request',
      errorSource: 'user',
    });
  });

  it('reports a 404 as an unexpected http response', async () => {
    expect(await run('respond-with-404')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'unexpected http response from slack: 404 Not Found',
      errorSource: 'user',
    });
  });

  it('throws 401 and 403 as user errors, as Kibana 9 does', async () => {
    for (const status of [401, 403]) {
      expect(await run(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: id,
        message: 'an error occurred while running the action',
        service_message: `Request failed with status code ${status}`,
        retry: true,
        errorSource: 'user',
      });
    }
  });

  it('answers a webhook whose secret Slack does not know with a 403 user error', async () => {
    const wrong = await createConnector(server.api, {
      connector_type_id: '.slack',
      secrets: { webhookUrl: `${slack.url}/services/T0SIMTEAM1/B0SIMBOT01/not-the-secret` },
    });
    const res = await execute(server.api, wrong, { message: 'hi' });
    replies.push(res);
    expect(res).toEqual({
      status: 'error',
      connector_id: wrong,
      message: 'an error occurred while running the action',
      service_message: 'Request failed with status code 403',
      retry: true,
      errorSource: 'user',
    });
  });

  it('retries a 429 at the Retry-After moment', async () => {
    const res = await run('respond-with-429');
    expectRetryAt(res.retry, 30);
    expect(res).toEqual({
      status: 'error',
      connector_id: id,
      message: `error posting a slack message, retry at ${res.retry}`,
      service_message: 'An HTTP protocol error occurred: statusCode = 429',
      retry: res.retry,
      errorSource: 'user',
    });
    const kibanaWord = await run('rate_limit');
    expectRetryAt(kibanaWord.retry, 1);
  });

  it('retries a 429 without Retry-After later', async () => {
    expect(await run('respond-with-429-no-retry-after')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error posting a slack message, retry later',
      service_message: 'An HTTP protocol error occurred: statusCode = 429',
      retry: true,
      errorSource: 'user',
    });
  });

  it('retries 500 and 502 later, as framework errors', async () => {
    for (const status of [500, 502]) {
      expect(await run(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error posting a slack message, retry later',
        service_message: `An HTTP protocol error occurred: statusCode = ${status}`,
        retry: true,
        errorSource: 'framework',
      });
    }
  });

  it('reports a timeout, a reset and an oversized answer as request errors', async () => {
    const expected = (serviceMessage: string) => ({
      status: 'error',
      connector_id: id,
      message: 'error posting slack message',
      service_message: `A request error occurred: ${serviceMessage}`,
      errorSource: 'user',
    });
    expect(await run('respond-with-timeout')).toEqual(expected('timeout of 300ms exceeded'));
    expect(await run('respond-with-reset')).toEqual(expected('socket hang up'));
    expect(await run('respond-with-large')).toEqual(
      expected('maxContentLength size of 1024 exceeded'),
    );
  });

  it('reports a 2xx answer other than "ok" with its text', async () => {
    expect(await run('respond-with-text')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error posting slack message',
      service_message: 'message accepted with warnings',
      errorSource: 'user',
    });
  });

  it('refuses an empty message with Kibana text', async () => {
    expect(await run('')).toEqual({
      status: 'error',
      connector_id: id,
      message:
        'error validating action params: [message]: value has length [0] but it must have a minimum length of [1].',
      retry: false,
      errorSource: 'user',
    });
    const extra = await execute(server.api, id, { message: 'x', channel: '#general' });
    expect(extra).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error validating action params: [channel]: definition for this key is missing',
      retry: false,
      errorSource: 'user',
    });
  });

  it('refuses bad secrets and config on create', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { secrets: {} },
        'error validating connector type secrets: [webhookUrl]: expected value of type [string] but got [undefined]',
      ],
      [
        { secrets: { webhookUrl: 'not a url' } },
        'error validating connector type secrets: error configuring slack action: unable to parse host name from webhookUrl',
      ],
      [
        { secrets: { webhookUrl: slack.webhookUrl, extra: 1 } },
        'error validating connector type secrets: [extra]: definition for this key is missing',
      ],
      [
        { config: { channel: '#x' }, secrets: { webhookUrl: slack.webhookUrl } },
        'error validating connector type config: [channel]: definition for this key is missing',
      ],
    ];
    for (const [body, message] of cases) {
      const res = await server.api('POST', '/api/actions/connector', {
        body: { name: 'bad', connector_type_id: '.slack', ...body },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
    }
  });

  it('never shows the webhook secret in a reply or a log line', async () => {
    const got = await server.api('GET', `/api/actions/connector/${id}`);
    replies.push(got.body);
    expect(got.body).toEqual({
      id,
      name: 'my slack',
      connector_type_id: '.slack',
      config: {},
      is_preconfigured: false,
      is_deprecated: false,
      is_connector_type_deprecated: false,
      is_missing_secrets: false,
      is_system_action: false,
    });
    expect(replies.length).toBeGreaterThan(10);
    expectNoSecrets(server, [WEBHOOK_SECRET], replies);
  });
});

describe('.slack with xpack.actions.allowedHosts', () => {
  let server: TestServer;
  let slack: SlackSimulator;

  beforeAll(async () => {
    slack = await startSlackSimulator();
    server = await startServer({
      settings: { 'xpack.actions.allowedHosts': ['hooks.slack.com'] },
    });
  });
  afterAll(async () => {
    await server.close();
    await slack.close();
  });

  it('refuses a webhook URL whose host is not allowed, with Kibana text', async () => {
    const res = await server.api('POST', '/api/actions/connector', {
      body: { name: 'x', connector_type_id: '.slack', secrets: { webhookUrl: slack.webhookUrl } },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: `error validating connector type secrets: error configuring slack action: target url "${slack.webhookUrl}" is not added to the Kibana config xpack.actions.allowedHosts`,
    });
    expect(slack.requests).toHaveLength(0);
    // The refusal quotes the URL back to its sender, as Kibana does; the log never holds it.
    expectNoSecrets(server, [new URL(slack.webhookUrl).pathname]);
  });

  it('accepts a webhook URL on an allowed host', async () => {
    const created = await createConnector(server.api, {
      connector_type_id: '.slack',
      secrets: { webhookUrl: 'https://hooks.slack.com/services/T0/B0/abc' },
    });
    expect(created).toMatch(/^[0-9a-f-]{36}$/);
  });
});
