import { beforeAll, describe, expect, it } from 'vitest';
import {
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { withServer } from '../helpers/server.js';
import { startXmattersSimulator, XMATTERS_TRIGGER } from '../simulators/xmatters.js';

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
  const h = connectorHarness({
    type: '.xmatters',
    simulator: () => startXmattersSimulator({ user: USER, password: PASSWORD, apiKey: API_KEY }),
    settings: () => SHORT_LIMITS,
    connector: (xm) => ({
      name: 'xm basic',
      config: { configUrl: xm.basicUrl },
      secrets: { user: USER, password: PASSWORD },
    }),
  });
  let urlId: string;
  const run = (params: unknown, connector?: string) => h.run(params, connector);
  const group = (word: string) => run({ ...PARAMS, alertActionGroupName: word });

  beforeAll(async () => {
    urlId = await h.create({
      name: 'xm url',
      config: { usesBasic: false },
      secrets: { secretsUrl: h.sim.apiKeyUrl },
    });
  });

  it('is listed among the connector types as Kibana lists it', async () => {
    await expectListedType(h.server, {
      id: '.xmatters',
      name: 'xMatters',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'siem'],
    });
  });

  it('stores the config with its defaults', async () => {
    const res = await h.server.api('GET', `/api/actions/connector/${urlId}`);
    expect(res.body).toMatchObject({ config: { configUrl: null, usesBasic: false } });
    const basic = await h.server.api('GET', `/api/actions/connector/${h.id}`);
    expect(basic.body).toMatchObject({ config: { configUrl: h.sim.basicUrl, usesBasic: true } });
  });

  it('triggers the flow with basic auth and answers with the payload it sent', async () => {
    expect(await run(PARAMS)).toEqual({ status: 'ok', connector_id: h.id, data: PARAMS });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/api/integration/1/functions/${XMATTERS_TRIGGER}/triggers`);
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers.authorization).toBe(
      `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`,
    );
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.json).toEqual(PARAMS);
    expect(h.sim.payloads).toContainEqual(PARAMS);
  });

  it('triggers the flow through the URL with its API key, without basic auth', async () => {
    const res = await run({ severity: 'low', ruleName: 'by url' }, urlId);
    expect(res).toEqual({
      status: 'ok',
      connector_id: urlId,
      data: { severity: 'low', ruleName: 'by url' },
    });
    const sent = h.sim.last();
    expect(sent.query.get('apiKey')).toBe(API_KEY);
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ ruleName: 'by url', severity: 'low' });
  });

  it("sends severity 'High' when it is empty", async () => {
    const res = await run({ severity: '' });
    expect(res.data).toEqual({ severity: 'High' });
    expect(h.sim.last().json).toEqual({ severity: 'High' });
  });

  describe('vendor failures', () => {
    // Statuses other than 429 and 5xx are unexpected, without retry; 429 (its Retry-After
    // unread, as in Kibana), 500 and 502 are retried; a timeout, a reset and an oversized
    // answer give the client message.
    const unexpected = (status: number) => ({
      status: 'error',
      connector_id: h.id,
      message: `Error triggering xMatters flow: unexpected status ${status}`,
      errorSource: 'user',
    });
    const retryLater = (status: number) => ({
      status: 'error',
      connector_id: h.id,
      message: `Error triggering xMatters flow: http status ${status}, retry later`,
      retry: true,
      errorSource: 'user',
    });
    const clientError = (serviceMessage: string) => ({
      status: 'error',
      connector_id: h.id,
      message: 'Error triggering xMatters workflow',
      service_message: serviceMessage,
      errorSource: 'user',
    });
    failureClassTests(group, {
      'respond-with-400': () => unexpected(400),
      'respond-with-401': () => unexpected(401),
      'respond-with-404': () => unexpected(404),
      'respond-with-429': () => retryLater(429),
      'respond-with-500': () => retryLater(500),
      'respond-with-502': () => retryLater(502),
      'respond-with-timeout': () => clientError('timeout of 300ms exceeded'),
      'respond-with-reset': () => clientError('socket hang up'),
      'respond-with-large': () => clientError('maxContentLength size of 1024 exceeded'),
    });

    it('answers wrong credentials with the unexpected 401', async () => {
      const wrong = await h.create({
        config: { configUrl: h.sim.basicUrl },
        secrets: { user: USER, password: 'wrong' },
      });
      expect(await run(PARAMS, wrong)).toEqual({
        status: 'error',
        connector_id: wrong,
        message: 'Error triggering xMatters flow: unexpected status 401',
        errorSource: 'user',
      });
    });
  });

  it('refuses bad params with Kibana texts', async () => {
    expect(await run({ ruleName: 'x' })).toEqual({
      status: 'error',
      connector_id: h.id,
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
        { config: { configUrl: h.sim.basicUrl }, secrets: {} },
        'error validating connector type secrets: Provide either secretsUrl link or user/password to authenticate',
      ],
      [
        { config: { configUrl: h.sim.basicUrl }, secrets: { user: USER } },
        'error validating connector type secrets: Both user and password must be specified.',
      ],
      [
        { config: { usesBasic: false }, secrets: { secretsUrl: h.sim.apiKeyUrl, user: USER } },
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
        { config: { configUrl: h.sim.basicUrl }, secrets: { secretsUrl: h.sim.apiKeyUrl } },
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
          config: { usesBasic: false, configUrl: h.sim.basicUrl },
          secrets: { secretsUrl: h.sim.apiKeyUrl },
        },
        'error validating action type connector: configUrl should not be provided when usesBasic is false',
      ],
      [
        { config: { usesBasic: 'yes' }, secrets: { user: USER, password: PASSWORD } },
        'error validating connector type config: [usesBasic]: expected value of type [boolean] but got [string]',
      ],
    ];
    for (const [body, message] of cases) {
      await expectCreateRefused(
        h.server.api,
        { name: 'bad', connector_type_id: '.xmatters', ...body },
        message,
      );
    }
  });

  it('never shows the password or the API key in a reply or a log line', async () => {
    const list = await h.server.api('GET', '/api/actions/connectors');
    h.replies.push(list.body);
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [PASSWORD, API_KEY], h.replies);
  });
});

describe('.xmatters with xpack.actions.allowedHosts', () => {
  it('refuses flow URLs whose host is not allowed, with Kibana texts', async () => {
    await withServer(
      {
        settings: { 'xpack.actions.allowedHosts': ['acme.xmatters.com'] },
      },
      async (server) => {
        const configUrl = 'https://other.xmatters.com/api/integration/1/functions/1/triggers';
        const basic = await expectCreateRefused(
          server.api,
          {
            name: 'x',
            connector_type_id: '.xmatters',
            config: { configUrl },
            secrets: { user: USER, password: PASSWORD },
          },
          `error validating connector type config: Error configuring xMatters action: target url "${configUrl}" is not added to the Kibana config xpack.actions.allowedHosts`,
        );

        // Kibana quotes the refused URL back, API key and all, without a prefix.
        const secretsUrl = `https://other.xmatters.com/api/integration/1/functions/1/triggers?apiKey=${API_KEY}`;
        await expectCreateRefused(
          server.api,
          {
            name: 'y',
            connector_type_id: '.xmatters',
            config: { usesBasic: false },
            secrets: { secretsUrl },
          },
          `error validating connector type secrets: target url "${secretsUrl}" is not added to the Kibana config xpack.actions.allowedHosts`,
        );
        expectNoSecrets(server, [PASSWORD, API_KEY], [basic]);
      },
    );
  });
});
