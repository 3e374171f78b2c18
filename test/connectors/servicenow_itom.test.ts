import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
  expectRetryAt,
  RUN_FAILED,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { basicAuth, startServer, type TestServer } from '../helpers/server.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';
import {
  type ServiceNowSimulator,
  SN_CHOICES,
  startServiceNowSimulator,
} from '../simulators/servicenow.js';

const USERNAME = 'itom-integration';
const PASSWORD = 'itom-Pa55word-secret';
const AUTH = basicAuth(USERNAME, PASSWORD);
const CLIENT_ID = 'itom-client-id';
const CLIENT_SECRET = 'itom-client-secret-4W';
const KEY_ID = 'itom-kid';
const USER_ID = 'itom.bot';

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
});

function failure(connectorId: string, serviceMessage: string, errorSource = 'framework') {
  return thrownEnvelope(connectorId, serviceMessage, true, errorSource);
}

describe('.servicenow-itom', () => {
  let sn: ServiceNowSimulator;
  let server: TestServer;
  let id: string;
  const replies: unknown[] = [];

  const run = async (params: unknown, connectorId = id): Promise<ExecuteEnvelope> => {
    const res = await execute(server.api, connectorId, params);
    replies.push(res);
    return res;
  };

  beforeAll(async () => {
    sn = await startServiceNowSimulator({
      username: USERNAME,
      password: PASSWORD,
      oauth: {
        clientId: CLIENT_ID,
        clientSecret: CLIENT_SECRET,
        keyId: KEY_ID,
        userIdentifierValue: USER_ID,
        publicKey,
      },
    });
    server = await startServer();
    id = await createConnector(server.api, {
      connector_type_id: '.servicenow-itom',
      config: { apiUrl: sn.url },
      secrets: { username: USERNAME, password: PASSWORD },
    });
  });
  afterAll(async () => {
    await server.close();
    await sn.close();
  });

  it('is listed among the connector types', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.servicenow-itom')).toEqual({
      id: '.servicenow-itom',
      name: 'ServiceNow ITOM',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'platinum',
      supported_feature_ids: ['alerting', 'siem', 'workflows'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  it('has no usesTableApi and is never reported deprecated', async () => {
    const res = await server.api<Record<string, unknown>>('GET', `/api/actions/connector/${id}`);
    expect(res.body).toMatchObject({
      config: {
        apiUrl: sn.url,
        isOAuth: false,
        userIdentifierValue: null,
        clientId: null,
        jwtKeyId: null,
      },
      is_deprecated: false,
    });
    const refused = await server.api('POST', '/api/actions/connector', {
      body: {
        name: 'x',
        connector_type_id: '.servicenow-itom',
        config: { apiUrl: sn.url, usesTableApi: false },
        secrets: { username: USERNAME, password: PASSWORD },
      },
    });
    expect(refused.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'error validating connector type config: [usesTableApi]: definition for this key is missing',
    });
  });

  it('addEvent posts one event, its time in GMT and its empty fields left out', async () => {
    const res = await run({
      subAction: 'addEvent',
      subActionParams: {
        source: 'Elastic',
        event_class: 'Kibana alert',
        resource: 'C:',
        node: 'web-01',
        metric_name: 'disk.used.pct',
        type: 'Disk',
        severity: '2',
        description: 'Disk almost full',
        additional_info: '{"rule":"r-1"}',
        message_key: 'rule-1:alert-1',
        time_of_event: '2024-05-02T10:11:12+02:00',
      },
    });
    expect(res).toEqual({ status: 'ok', connector_id: id, data: {} });
    const sent = sn.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/api/global/em/jsonv2');
    expect(sent.headers.authorization).toBe(AUTH);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.json).toEqual({
      records: [
        {
          source: 'Elastic',
          event_class: 'Kibana alert',
          resource: 'C:',
          node: 'web-01',
          metric_name: 'disk.used.pct',
          type: 'Disk',
          severity: '2',
          description: 'Disk almost full',
          additional_info: '{"rule":"r-1"}',
          message_key: 'rule-1:alert-1',
          time_of_event: '2024-05-02 08:11:12',
        },
      ],
    });
  });

  it.each([
    ['1700000000000', { time_of_event: '2023-11-14 22:13:20' }],
    ['not a date', {}],
    [null, {}],
  ])('reads time_of_event %j', async (time, expected) => {
    await run({ subAction: 'addEvent', subActionParams: { node: 'n', time_of_event: time } });
    expect(sn.last().json).toEqual({
      records: [{ node: 'n', message_key: '{{rule.id}}:{{alert.id}}', ...expected }],
    });
  });

  it('addEvent without subActionParams sends the default message key only', async () => {
    expect(await run({ subAction: 'addEvent' })).toEqual({
      status: 'ok',
      connector_id: id,
      data: {},
    });
    expect(sn.last().json).toEqual({ records: [{ message_key: '{{rule.id}}:{{alert.id}}' }] });
  });

  it('getChoices reads the em_event choices', async () => {
    const res = await run({ subAction: 'getChoices', subActionParams: { fields: ['severity'] } });
    expect(res).toEqual({
      status: 'ok',
      connector_id: id,
      data: SN_CHOICES.filter((c) => c.element === 'severity'),
    });
    expect(sn.last().path).toBe('/api/now/table/sys_choice');
    expect(sn.last().query.get('sysparm_query')).toBe(
      'name=task^ORname=em_event^element=severity^language=en',
    );
    expect(sn.last().query.get('sysparm_fields')).toBe('label,value,dependent_value,element');
  });

  it('works with OAuth and a private key without passphrase', async () => {
    const oauth = await createConnector(server.api, {
      connector_type_id: '.servicenow-itom',
      config: {
        apiUrl: sn.url,
        isOAuth: true,
        clientId: CLIENT_ID,
        jwtKeyId: KEY_ID,
        userIdentifierValue: USER_ID,
      },
      secrets: { clientSecret: CLIENT_SECRET, privateKey },
    });
    const before = sn.requests.length;
    expect(await run({ subAction: 'addEvent', subActionParams: { node: 'n' } }, oauth)).toEqual({
      status: 'ok',
      connector_id: oauth,
      data: {},
    });
    const [token, event] = sn.requests.slice(before);
    expect(token?.path).toBe('/oauth_token.do');
    expect(new URLSearchParams(token?.text).get('client_secret')).toBe(CLIENT_SECRET);
    expect(event?.path).toBe('/api/global/em/jsonv2');
    expect(event?.headers.authorization).toBe(`Bearer ${sn.tokensIssued.at(-1)}`);
  });

  describe('vendor failures', () => {
    let strict: TestServer;
    let strictId: string;

    beforeAll(async () => {
      strict = await startServer({
        settings: {
          'xpack.actions.responseTimeout': '300ms',
          'xpack.actions.maxResponseContentLength': '1kb',
        },
      });
      strictId = await createConnector(strict.api, {
        connector_type_id: '.servicenow-itom',
        config: { apiUrl: sn.url },
        secrets: { username: USERNAME, password: PASSWORD },
      });
    });
    afterAll(() => strict.close());

    const event = (description: string) => ({
      subAction: 'addEvent',
      subActionParams: { description },
    });
    const message = (error: string) => `[Action][ServiceNow]: Unable to add event. Error: ${error}`;

    it.each([
      [400, 'Invalid request: Field short_description is not valid'],
      [401, 'User Not Authenticated: Required to provide Auth information'],
      [404, "No Record found: Record doesn't exist or ACL restricts the record retrieval"],
      [429, 'Rate limit exceeded: Too many requests from user admin'],
      [500, 'Internal server error'],
      [502, 'unknown: no error in error response'],
    ])('HTTP %i', async (status, reason) => {
      expect(await run(event(`respond-with-${status}`))).toEqual(
        failure(id, message(`Request failed with status code ${status} Reason: ${reason}`)),
      );
    });

    it.each([
      [
        'respond-with-429-retry-after',
        429,
        'Rate limit exceeded: Too many requests from user admin',
      ],
      ['respond-with-503-retry-after', 503, 'Internal server error'],
    ])('%s gives the Retry-After moment', async (magic, status, reason) => {
      const { retry, ...rest } = await run(event(magic));
      expect(rest).toEqual({
        status: 'error',
        connector_id: id,
        message: RUN_FAILED,
        service_message: message(`Request failed with status code ${status} Reason: ${reason}`),
        errorSource: 'framework',
      });
      expectRetryAt(retry, RETRY_AFTER_SECONDS);
    });

    it('an answer without a result', async () => {
      expect(await run(event('respond-with-html'))).toEqual(
        failure(id, message('There is an issue with your Service Now Instance. Please check .')),
      );
    });

    it('a connection reset', async () => {
      expect(await run(event('respond-with-reset'))).toEqual(
        failure(id, message('socket hang up')),
      );
    });

    it('a timeout', async () => {
      expect(await execute(strict.api, strictId, event('respond-with-timeout'))).toEqual(
        failure(strictId, message('timeout of 300ms exceeded')),
      );
    });

    it('an answer larger than maxResponseContentLength is the user’s', async () => {
      expect(await execute(strict.api, strictId, event('respond-with-large'))).toEqual(
        failure(strictId, message('maxContentLength size of 1024 exceeded'), 'user'),
      );
    });
  });

  describe('validation', () => {
    it('names both sub-actions for an unknown one', async () => {
      expect(await run({ subAction: 'pushToService', subActionParams: {} })).toEqual({
        status: 'error',
        connector_id: id,
        message: [
          'error validating action params: types that failed validation:',
          '- [0.subAction]: expected value to equal [addEvent]',
          '- [1.subAction]: expected value to equal [getChoices]',
        ].join('\n'),
        retry: false,
        errorSource: 'user',
      });
    });

    it('refuses an unknown event field', async () => {
      const res = await run({ subAction: 'addEvent', subActionParams: { host: 'web-01' } });
      expect(res).toMatchObject({ status: 'error', retry: false, errorSource: 'user' });
      expect(res.message?.split('\n')).toContain(
        '- [0.subActionParams.host]: definition for this key is missing',
      );
    });

    it('refuses an apiUrl outside xpack.actions.allowedHosts', async () => {
      const guarded = await startServer({
        settings: { 'xpack.actions.allowedHosts': ['instance.service-now.com'] },
      });
      try {
        const res = await guarded.api('POST', '/api/actions/connector', {
          body: {
            name: 'x',
            connector_type_id: '.servicenow-itom',
            config: { apiUrl: sn.url },
            secrets: { username: USERNAME, password: PASSWORD },
          },
        });
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          statusCode: 400,
          error: 'Bad Request',
          message: `error validating connector type config: error configuring connector action: target url "${sn.url}" is not added to the Kibana config xpack.actions.allowedHosts`,
        });
      } finally {
        await guarded.close();
      }
    });

    it('refuses OAuth without its config fields', async () => {
      const res = await server.api('POST', '/api/actions/connector', {
        body: {
          name: 'x',
          connector_type_id: '.servicenow-itom',
          config: { apiUrl: sn.url, isOAuth: true, userIdentifierValue: USER_ID, jwtKeyId: KEY_ID },
          secrets: { clientSecret: CLIENT_SECRET, privateKey },
        },
      });
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message:
          'error validating connector type config: clientId must be provided when isOAuth = true',
      });
    });
  });

  it('never shows a password, client secret, key or token in a reply or a log line', () => {
    expectNoSecrets(
      server,
      [
        PASSWORD,
        CLIENT_SECRET,
        privateKey.split('\n')[1] ?? privateKey,
        AUTH.slice('Basic '.length),
        ...sn.tokensIssued,
      ],
      replies,
    );
  });
});
