import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  badRequest,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  RUN_FAILED,
  retryAt,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { basicAuth, withServer } from '../helpers/server.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';
import { SN_CHOICES, startServiceNowSimulator } from '../simulators/servicenow.js';

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
  const h = connectorHarness({
    type: '.servicenow-itom',
    simulator: () =>
      startServiceNowSimulator({
        username: USERNAME,
        password: PASSWORD,
        oauth: {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          keyId: KEY_ID,
          userIdentifierValue: USER_ID,
          publicKey,
        },
      }),
    connector: (sn) => ({
      config: { apiUrl: sn.url },
      secrets: { username: USERNAME, password: PASSWORD },
    }),
    limited: { settings: () => SHORT_LIMITS },
  });
  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.servicenow-itom',
      name: 'ServiceNow ITOM',
      minimum_license_required: 'platinum',
      supported_feature_ids: ['alerting', 'siem', 'workflows'],
    });
  });

  it('has no usesTableApi and is never reported deprecated', async () => {
    const res = await h.server.api<Record<string, unknown>>(
      'GET',
      `/api/actions/connector/${h.id}`,
    );
    expect(res.body).toMatchObject({
      config: {
        apiUrl: h.sim.url,
        isOAuth: false,
        userIdentifierValue: null,
        clientId: null,
        jwtKeyId: null,
      },
      is_deprecated: false,
    });
    const refused = await h.server.api('POST', '/api/actions/connector', {
      body: {
        name: 'x',
        connector_type_id: '.servicenow-itom',
        config: { apiUrl: h.sim.url, usesTableApi: false },
        secrets: { username: USERNAME, password: PASSWORD },
      },
    });
    expect(refused.body).toEqual(
      badRequest(
        'error validating connector type config: [usesTableApi]: definition for this key is missing',
      ),
    );
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
    expect(res).toEqual({ status: 'ok', connector_id: h.id, data: {} });
    const sent = h.sim.last();
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
    expect(h.sim.last().json).toEqual({
      records: [{ node: 'n', message_key: '{{rule.id}}:{{alert.id}}', ...expected }],
    });
  });

  it('addEvent without subActionParams sends the default message key only', async () => {
    expect(await run({ subAction: 'addEvent' })).toEqual({
      status: 'ok',
      connector_id: h.id,
      data: {},
    });
    expect(h.sim.last().json).toEqual({ records: [{ message_key: '{{rule.id}}:{{alert.id}}' }] });
  });

  it('getChoices reads the em_event choices', async () => {
    const res = await run({ subAction: 'getChoices', subActionParams: { fields: ['severity'] } });
    expect(res).toEqual({
      status: 'ok',
      connector_id: h.id,
      data: SN_CHOICES.filter((c) => c.element === 'severity'),
    });
    expect(h.sim.last().path).toBe('/api/now/table/sys_choice');
    expect(h.sim.last().query.get('sysparm_query')).toBe(
      'name=task^ORname=em_event^element=severity^language=en',
    );
    expect(h.sim.last().query.get('sysparm_fields')).toBe('label,value,dependent_value,element');
  });

  it('works with OAuth and a private key without passphrase', async () => {
    const oauth = await h.create({
      config: {
        apiUrl: h.sim.url,
        isOAuth: true,
        clientId: CLIENT_ID,
        jwtKeyId: KEY_ID,
        userIdentifierValue: USER_ID,
      },
      secrets: { clientSecret: CLIENT_SECRET, privateKey },
    });
    const before = h.sim.requests.length;
    expect(await run({ subAction: 'addEvent', subActionParams: { node: 'n' } }, oauth)).toEqual({
      status: 'ok',
      connector_id: oauth,
      data: {},
    });
    const [token, event] = h.sim.requests.slice(before);
    expect(token?.path).toBe('/oauth_token.do');
    expect(new URLSearchParams(token?.text).get('client_secret')).toBe(CLIENT_SECRET);
    expect(event?.path).toBe('/api/global/em/jsonv2');
    expect(event?.headers.authorization).toBe(`Bearer ${h.sim.tokensIssued.at(-1)}`);
  });

  describe('vendor failures', () => {
    const event = (description: string) => ({
      subAction: 'addEvent',
      subActionParams: { description },
    });
    const message = (error: string) => `[Action][ServiceNow]: Unable to add event. Error: ${error}`;
    const statusFailed = (status: number, reason: string) =>
      failure(h.id, message(`Request failed with status code ${status} Reason: ${reason}`));
    const retriedAt = (status: number, reason: string) =>
      retryAt(RETRY_AFTER_SECONDS, (retry) => ({
        status: 'error',
        connector_id: h.id,
        message: RUN_FAILED,
        service_message: message(`Request failed with status code ${status} Reason: ${reason}`),
        retry,
        errorSource: 'framework',
      }));

    failureClassTests((magic) => run(event(magic)), {
      'respond-with-400': () =>
        statusFailed(400, 'Invalid request: Field short_description is not valid'),
      'respond-with-401': () =>
        statusFailed(401, 'User Not Authenticated: Required to provide Auth information'),
      'respond-with-404': () =>
        statusFailed(
          404,
          "No Record found: Record doesn't exist or ACL restricts the record retrieval",
        ),
      'respond-with-429': () =>
        statusFailed(429, 'Rate limit exceeded: Too many requests from user admin'),
      'respond-with-500': () => statusFailed(500, 'Internal server error'),
      'respond-with-502': () => statusFailed(502, 'unknown: no error in error response'),
      'respond-with-429-retry-after': retriedAt(
        429,
        'Rate limit exceeded: Too many requests from user admin',
      ),
      'respond-with-503-retry-after': retriedAt(503, 'Internal server error'),
      // An answer without a result.
      'respond-with-html': () =>
        failure(h.id, message('There is an issue with your Service Now Instance. Please check .')),
      'respond-with-reset': () => failure(h.id, message('socket hang up')),
    });

    // On the server with a short response timeout and a small response cap; an answer larger
    // than it is the user's.
    failureClassTests((magic) => execute(h.limited.server.api, h.limited.id, event(magic)), {
      'respond-with-timeout': () => failure(h.limited.id, message('timeout of 300ms exceeded')),
      'respond-with-large': () =>
        failure(h.limited.id, message('maxContentLength size of 1024 exceeded'), 'user'),
    });
  });

  describe('validation', () => {
    it('names both sub-actions for an unknown one', async () => {
      expect(await run({ subAction: 'pushToService', subActionParams: {} })).toEqual({
        status: 'error',
        connector_id: h.id,
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
      await withServer(
        {
          settings: { 'xpack.actions.allowedHosts': ['instance.service-now.com'] },
        },
        async (guarded) => {
          await expectCreateRefused(
            guarded.api,
            {
              name: 'x',
              connector_type_id: '.servicenow-itom',
              config: { apiUrl: h.sim.url },
              secrets: { username: USERNAME, password: PASSWORD },
            },
            `error validating connector type config: error configuring connector action: target url "${h.sim.url}" is not added to the Kibana config xpack.actions.allowedHosts`,
          );
        },
      );
    });

    it('refuses OAuth without its config fields', async () => {
      const res = await h.server.api('POST', '/api/actions/connector', {
        body: {
          name: 'x',
          connector_type_id: '.servicenow-itom',
          config: {
            apiUrl: h.sim.url,
            isOAuth: true,
            userIdentifierValue: USER_ID,
            jwtKeyId: KEY_ID,
          },
          secrets: { clientSecret: CLIENT_SECRET, privateKey },
        },
      });
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type config: clientId must be provided when isOAuth = true',
        ),
      );
    });
  });

  it('never shows a password, client secret, key or token in a reply or a log line', () => {
    expectNoSecrets(
      h.server,
      [
        PASSWORD,
        CLIENT_SECRET,
        privateKey.split('\n')[1] ?? privateKey,
        AUTH.slice('Basic '.length),
        ...h.sim.tokensIssued,
      ],
      h.replies,
    );
  });
});
