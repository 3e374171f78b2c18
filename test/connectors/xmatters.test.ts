import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
} from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  startXmattersSimulator,
  XMATTERS_TRIGGER,
  type XmattersSimulator,
} from '../simulators/xmatters.js';

const PASSWORD = 'xm-Pa55word-q1w2e3';
const API_KEY = 'xm-ApiKey-7c6b5a4d3e2f';
const USER = 'kibana-bot';

const PARAMS = {
  alertActionGroupName: 'Small t-shirt',
  signalId: 'abcd-1234',
  ruleName: 'Test xMatters',
  date: '2022-01-18T19:01:08.818Z',
  severity: 'high',
  spaceId: 'default',
  tags: 'test1, test2',
};

describe('.xmatters', () => {
  let xm: XmattersSimulator;
  let server: TestServer;
  let basicId: string;
  let urlId: string;
  const replies: unknown[] = [];

  const run = async (params: unknown, connector = basicId): Promise<ExecuteEnvelope> => {
    const envelope = await execute(server.api, connector, params);
    replies.push(envelope);
    return envelope;
  };
  const group = (word: string) => run({ ...PARAMS, alertActionGroupName: word });

  beforeAll(async () => {
    xm = await startXmattersSimulator({ user: USER, password: PASSWORD, apiKey: API_KEY });
    server = await startServer({
      settings: {
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
      },
    });
    basicId = await createConnector(server.api, {
      name: 'xm basic',
      connector_type_id: '.xmatters',
      config: { configUrl: xm.basicUrl },
      secrets: { user: USER, password: PASSWORD },
    });
    urlId = await createConnector(server.api, {
      name: 'xm url',
      connector_type_id: '.xmatters',
      config: { usesBasic: false },
      secrets: { secretsUrl: xm.apiKeyUrl },
    });
  });
  afterAll(async () => {
    await server.close();
    await xm.close();
  });

  it('is listed among the connector types as Kibana lists it', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.xmatters')).toEqual({
      id: '.xmatters',
      name: 'xMatters',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'siem'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  it('stores the config with its defaults', async () => {
    const res = await server.api('GET', `/api/actions/connector/${urlId}`);
    expect(res.body).toMatchObject({ config: { configUrl: null, usesBasic: false } });
    const basic = await server.api('GET', `/api/actions/connector/${basicId}`);
    expect(basic.body).toMatchObject({ config: { configUrl: xm.basicUrl, usesBasic: true } });
  });

  it('triggers the flow with basic auth and answers with the payload it sent', async () => {
    expect(await run(PARAMS)).toEqual({ status: 'ok', connector_id: basicId, data: PARAMS });
    const sent = xm.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/api/integration/1/functions/${XMATTERS_TRIGGER}/triggers`);
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers.authorization).toBe(
      `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    );
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.json).toEqual(PARAMS);
    expect(xm.payloads).toContainEqual(PARAMS);
  });

  it('triggers the flow through the URL with its API key, without basic auth', async () => {
    const res = await run({ severity: 'low', ruleName: 'by url' }, urlId);
    expect(res).toEqual({
      status: 'ok',
      connector_id: urlId,
      data: { severity: 'low', ruleName: 'by url' },
    });
    const sent = xm.last();
    expect(sent.query.get('apiKey')).toBe(API_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ ruleName: 'by url', severity: 'low' });
  });

  it("sends severity 'High' when it is empty", async () => {
    const res = await run({ severity: '' });
    expect(res.data).toEqual({ severity: 'High' });
    expect(xm.last().json).toEqual({ severity: 'High' });
  });

  it('reports other statuses as unexpected, without retry', async () => {
    for (const status of [400, 401, 404]) {
      expect(await group(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: basicId,
        message: `Error triggering xMatters flow: unexpected status ${status}`,
        errorSource: 'user',
      });
    }
  });

  it('answers wrong credentials with the unexpected 401', async () => {
    const wrong = await createConnector(server.api, {
      connector_type_id: '.xmatters',
      config: { configUrl: xm.basicUrl },
      secrets: { user: USER, password: 'wrong' },
    });
    expect(await run(PARAMS, wrong)).toEqual({
      status: 'error',
      connector_id: wrong,
      message: 'Error triggering xMatters flow: unexpected status 401',
      errorSource: 'user',
    });
  });

  it('retries 429 (its Retry-After unread, as in Kibana), 500 and 502', async () => {
    for (const status of [429, 500, 502]) {
      expect(await group(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: basicId,
        message: `Error triggering xMatters flow: http status ${status}, retry later`,
        retry: true,
        errorSource: 'user',
      });
    }
  });

  it('reports a timeout, a reset and an oversized answer with the client message', async () => {
    const expected = (serviceMessage: string) => ({
      status: 'error',
      connector_id: basicId,
      message: 'Error triggering xMatters workflow',
      service_message: serviceMessage,
      errorSource: 'user',
    });
    expect(await group('respond-with-timeout')).toEqual(expected('timeout of 300ms exceeded'));
    expect(await group('respond-with-reset')).toEqual(expected('socket hang up'));
    expect(await group('respond-with-large')).toEqual(
      expected('maxContentLength size of 1024 exceeded'),
    );
  });

  it('refuses bad params with Kibana texts', async () => {
    expect(await run({ ruleName: 'x' })).toEqual({
      status: 'error',
      connector_id: basicId,
      message:
        'error validating action params: [severity]: expected value of type [string] but got [undefined]',
      retry: false,
      errorSource: 'user',
    });
    expect((await run({ severity: 'low', message: 'x' })).message).toBe(
      'error validating action params: [message]: definition for this key is missing',
    );
  });

  it('refuses bad config, secrets and pairs on create, with Kibana texts', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { config: { configUrl: xm.basicUrl }, secrets: {} },
        'error validating connector type secrets: Provide either secretsUrl link or user/password to authenticate',
      ],
      [
        { config: { configUrl: xm.basicUrl }, secrets: { user: USER } },
        'error validating connector type secrets: Both user and password must be specified.',
      ],
      [
        { config: { usesBasic: false }, secrets: { secretsUrl: xm.apiKeyUrl, user: USER } },
        'error validating connector type secrets: Cannot use user/password for URL authentication. Provide valid secretsUrl or use Basic Authentication.',
      ],
      [
        { config: { usesBasic: false }, secrets: { secretsUrl: 'xmatters/triggers' } },
        'error validating connector type secrets: Invalid secretsUrl: TypeError: Invalid URL',
      ],
      [
        { config: { configUrl: 'not a url' }, secrets: { user: USER, password: PASSWORD } },
        'error validating connector type config: Error configuring xMatters action: unable to parse url: Invalid URL',
      ],
      [
        { config: { configUrl: xm.basicUrl }, secrets: { secretsUrl: xm.apiKeyUrl } },
        'error validating action type connector: secretsUrl should not be provided when usesBasic is true',
      ],
      [
        { config: {}, secrets: { user: USER, password: PASSWORD } },
        'error validating action type connector: Provide valid configUrl',
      ],
      [
        { config: { usesBasic: false }, secrets: { user: USER, password: PASSWORD } },
        'error validating action type connector: Username and password should not be provided when usesBasic is false',
      ],
      [
        {
          config: { usesBasic: false, configUrl: xm.basicUrl },
          secrets: { secretsUrl: xm.apiKeyUrl },
        },
        'error validating action type connector: configUrl should not be provided when usesBasic is false',
      ],
      [
        { config: { usesBasic: 'yes' }, secrets: { user: USER, password: PASSWORD } },
        'error validating connector type config: [usesBasic]: expected value of type [boolean] but got [string]',
      ],
    ];
    for (const [body, message] of cases) {
      const res = await server.api('POST', '/api/actions/connector', {
        body: { name: 'bad', connector_type_id: '.xmatters', ...body },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
    }
  });

  it('never shows the password or the API key in a reply or a log line', async () => {
    const list = await server.api('GET', '/api/actions/connectors');
    replies.push(list.body);
    expect(replies.length).toBeGreaterThan(10);
    expectNoSecrets(server, [PASSWORD, API_KEY], replies);
  });
});

describe('.xmatters with xpack.actions.allowedHosts', () => {
  it('refuses flow URLs whose host is not allowed, with Kibana texts', async () => {
    const server = await startServer({
      settings: { 'xpack.actions.allowedHosts': ['acme.xmatters.com'] },
    });
    try {
      const configUrl = 'https://other.xmatters.com/api/integration/1/functions/1/triggers';
      const basic = await server.api('POST', '/api/actions/connector', {
        body: {
          name: 'x',
          connector_type_id: '.xmatters',
          config: { configUrl },
          secrets: { user: USER, password: PASSWORD },
        },
      });
      expect(basic.status).toBe(400);
      expect(basic.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `error validating connector type config: Error configuring xMatters action: target url "${configUrl}" is not added to the Kibana config xpack.actions.allowedHosts`,
      });

      // Kibana quotes the refused URL back, API key and all, without a prefix.
      const secretsUrl = `https://other.xmatters.com/api/integration/1/functions/1/triggers?apiKey=${API_KEY}`;
      const byUrl = await server.api('POST', '/api/actions/connector', {
        body: {
          name: 'y',
          connector_type_id: '.xmatters',
          config: { usesBasic: false },
          secrets: { secretsUrl },
        },
      });
      expect(byUrl.status).toBe(400);
      expect(byUrl.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `error validating connector type secrets: target url "${secretsUrl}" is not added to the Kibana config xpack.actions.allowedHosts`,
      });
      expectNoSecrets(server, [PASSWORD, API_KEY], [basic.body]);
    } finally {
      await server.close();
    }
  });
});
