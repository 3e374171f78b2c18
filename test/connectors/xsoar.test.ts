import { beforeAll, describe, expect, it } from 'vitest';
import {
  badRequest,
  expectListedType,
  expectNoSecrets,
  expectRetryAt,
  failureClassTests,
  RUN_FAILED,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import type { TestServer } from '../helpers/server.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';
import {
  startXsoarSimulator,
  XSOAR_PLAYBOOKS,
  XSOAR_PLAYBOOKS_RESPONSE,
} from '../simulators/xsoar.js';

const API_KEY = 'xsoar-onprem-key-Jd82';
const CLOUD_API_KEY = 'xsoar-cloud-key-Lp93';
const CLOUD_KEY_ID = '17';
const PLAYBOOK_ID = XSOAR_PLAYBOOKS[0]?.id ?? '';

describe('.xsoar', () => {
  const h = connectorHarness({
    type: '.xsoar',
    simulator: () =>
      startXsoarSimulator({
        apiKey: API_KEY,
        cloudApiKey: CLOUD_API_KEY,
        cloudApiKeyId: CLOUD_KEY_ID,
      }),
    settings: () => ({
      'xpack.actions.allowedHosts': ['127.0.0.1'],
      'xpack.actions.preconfigured': {
        'xsoar-not-allowed': {
          name: 'stored before allowedHosts changed',
          actionTypeId: '.xsoar',
          config: { url: 'https://xsoar.example.com' },
          secrets: { apiKey: API_KEY },
        },
      },
    }),
    limited: {
      settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    },
    connector: (sim) => ({ config: { url: sim.url }, secrets: { apiKey: API_KEY } }),
  });
  let cloudId: string;

  const run = (params: unknown, connectorId?: string, on?: TestServer) =>
    h.run(params, connectorId, on);
  const incident = (params: Record<string, unknown>, connectorId?: string, on?: TestServer) =>
    run(
      {
        subAction: 'run',
        subActionParams: { createInvestigation: false, severity: 2, ...params },
      },
      connectorId,
      on,
    );
  const failure = (
    connectorId: string,
    serviceMessage: string,
    retry: boolean,
    errorSource = 'framework',
  ) => thrownEnvelope(connectorId, serviceMessage, retry, errorSource);

  beforeAll(async () => {
    cloudId = await h.create({
      config: { url: h.sim.url },
      secrets: { apiKey: CLOUD_API_KEY, apiKeyID: CLOUD_KEY_ID },
    });
  });

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.xsoar',
      name: 'XSOAR',
      minimum_license_required: 'platinum',
      supported_feature_ids: ['siem'],
    });
  });

  describe('getPlaybooks', () => {
    it('answers XSOAR’s playbook search as is (XSOAR 6)', async () => {
      expect(await run({ subAction: 'getPlaybooks', subActionParams: null })).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: XSOAR_PLAYBOOKS_RESPONSE,
      });
      const sent = h.sim.last();
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/playbook/search');
      expect(sent.headers.authorization).toBe(API_KEY);
      expect(sent.headers).not.toHaveProperty('x-xdr-auth-id');
      expect(sent.headers['content-type']).toBe('application/json');
      expect(sent.json).toEqual({});
    });

    it('uses the public API path and the key id on XSOAR 8', async () => {
      expect(await run({ subAction: 'getPlaybooks' }, cloudId)).toEqual({
        status: 'ok',
        connector_id: cloudId,
        data: XSOAR_PLAYBOOKS_RESPONSE,
      });
      const sent = h.sim.last();
      expect(sent.path).toBe('/xsoar/public/v1/playbook/search');
      expect(sent.headers.authorization).toBe(CLOUD_API_KEY);
      expect(sent.headers['x-xdr-auth-id']).toBe(CLOUD_KEY_ID);
    });
  });

  describe('run', () => {
    it('creates an incident from body with the run’s fields on top', async () => {
      const body = await incident({
        name: 'My test incident',
        playbookId: PLAYBOOK_ID,
        createInvestigation: true,
        severity: '3',
        isRuleSeverity: false,
        body: JSON.stringify({ name: 'ignored', details: 'from body', labels: [{ type: 'x' }] }),
      });
      expect(body).toEqual({ status: 'ok', connector_id: h.id, data: {} });
      const sent = h.sim.last();
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/incident');
      expect(sent.headers.authorization).toBe(API_KEY);
      expect(sent.json).toEqual({
        name: 'My test incident',
        details: 'from body',
        labels: [{ type: 'x' }],
        playbookId: PLAYBOOK_ID,
        createInvestigation: true,
        severity: 3,
      });
      expect(Object.keys(sent.json as object)).toEqual([
        'name',
        'details',
        'labels',
        'playbookId',
        'createInvestigation',
        'severity',
      ]);
    });

    it('sends playbookId null when none is given (XSOAR 8)', async () => {
      expect((await incident({ name: 'cloud incident' }, cloudId)).status).toBe('ok');
      const sent = h.sim.last();
      expect(sent.path).toBe('/xsoar/public/v1/incident');
      expect(sent.json).toEqual({
        name: 'cloud incident',
        playbookId: null,
        createInvestigation: false,
        severity: 2,
      });
    });

    it('reports a body that is not JSON without calling XSOAR', async () => {
      const count = h.sim.requests.length;
      const body = await incident({ name: 'bad body', body: '{not json' });
      expect(body).toMatchObject({ status: 'error', message: RUN_FAILED, retry: true });
      expect(body.service_message).toMatch(/^Error parsing Body: SyntaxError: /);
      expect(h.sim.requests.length).toBe(count);
    });

    it('reports XSOAR refusing an unknown playbook', async () => {
      expect(await incident({ name: 'x', playbookId: 'nope' })).toEqual(
        failure(h.id, 'Status code: 400. Message: API Error: Bad Request', false),
      );
    });
  });

  describe('params validation', () => {
    it('names an unknown sub-action', async () => {
      expect(await run({ subAction: 'pushToService', subActionParams: {} })).toEqual(
        failure(
          h.id,
          `Sub action "pushToService" is not registered. Connector id: ${h.id}. Connector name: XSOAR. Connector type: .xsoar`,
          true,
        ),
      );
    });

    it('requires createInvestigation', async () => {
      expect(await run({ subAction: 'run', subActionParams: { name: 'x', severity: 1 } })).toEqual(
        failure(
          h.id,
          'Request validation failed (Error: [createInvestigation]: expected value of type [boolean] but got [undefined])',
          true,
          'user',
        ),
      );
    });

    it('refuses a severity that is not a number', async () => {
      const body = await incident({ name: 'x', severity: 'high' });
      expect(body).toMatchObject({ status: 'error', errorSource: 'user' });
      expect(body.service_message).toBe(
        'Request validation failed (Error: [severity]: expected value of type [number] but got [string])',
      );
    });
  });

  describe('vendor failures', () => {
    failureClassTests((name) => incident({ name }), {
      'respond-with-400': () =>
        failure(h.id, 'Status code: 400. Message: API Error: Bad Request', false),
      'respond-with-429': () =>
        failure(h.id, 'Status code: 429. Message: API Error: Too Many Requests', true, 'user'),
      'respond-with-500': () =>
        failure(h.id, 'Status code: 500. Message: API Error: Internal Server Error', true),
      'respond-with-502': () =>
        failure(h.id, 'Status code: 502. Message: API Error: Bad Gateway', true),
      // An answer that is not an object.
      'respond-with-text': () =>
        failure(
          h.id,
          'Response validation failed (Error: expected a plain object value, but found [string] instead.)',
          true,
        ),
    });

    // A timeout and an answer larger than maxResponseContentLength, on the server with short
    // limits.
    const limitedIncident = (name: string) => incident({ name }, h.limited.id, h.limited.server);
    failureClassTests(limitedIncident, {
      'respond-with-timeout': () =>
        failure(
          h.limited.id,
          'Status code: undefined. Message: AxiosError: timeout of 300ms exceeded',
          true,
        ),
      'respond-with-large': () =>
        failure(
          h.limited.id,
          'Status code: undefined. Message: AxiosError: maxContentLength size of 1024 exceeded',
          true,
        ),
    });

    it('a connection reset', async () => {
      const body = await limitedIncident('respond-with-reset');
      expect(body).toMatchObject({ status: 'error', message: RUN_FAILED, retry: true });
      expect(body.service_message).toMatch(
        /^Status code: undefined\. Message: AxiosError: (socket hang up|read ECONNRESET)$/,
      );
    });

    it('401 for a wrong API key', async () => {
      const wrong = await h.create({
        config: { url: h.sim.url },
        secrets: { apiKey: 'wrong-key' },
      });
      expect(await run({ subAction: 'getPlaybooks' }, wrong)).toEqual(
        failure(wrong, 'Status code: 401. Message: API Error: Unauthorized', false),
      );
    });

    it('404 under a wrong base path', async () => {
      const wrongPath = await h.create({
        config: { url: `${h.sim.url}/api/v2` },
        secrets: { apiKey: API_KEY },
      });
      expect(await incident({ name: 'x' }, wrongPath)).toEqual(
        failure(wrongPath, 'Status code: 404. Message: API Error: Not Found', false),
      );
      expect(h.sim.last().path).toBe('/api/v2/incident');
    });

    it('429 with Retry-After', async () => {
      const body = await incident({ name: 'respond-with-429-retry-after' });
      expect(body).toMatchObject({
        service_message: 'Status code: 429. Message: API Error: Too Many Requests',
        errorSource: 'user',
      });
      expectRetryAt(body.retry, RETRY_AFTER_SECONDS);
    });
  });

  describe('connector validation', () => {
    const create = (config: unknown, secrets: unknown) =>
      h.server.api('POST', '/api/actions/connector', {
        body: { name: 'x', connector_type_id: '.xsoar', config, secrets },
      });

    it('requires url', async () => {
      const res = await create({}, { apiKey: API_KEY });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type config: [url]: expected value of type [string] but got [undefined]',
        ),
      );
    });

    it('stores apiKeyID as null when not given, and never returns secrets', async () => {
      const res = await h.server.api<Record<string, unknown>>(
        'GET',
        `/api/actions/connector/${h.id}`,
      );
      expect(res.body.config).toEqual({ url: h.sim.url });
      expect(JSON.stringify(res.body)).not.toContain(API_KEY);
    });

    it('refuses a url outside xpack.actions.allowedHosts', async () => {
      const res = await create({ url: 'https://xsoar.example.com' }, { apiKey: API_KEY });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        message:
          'error validating connector type config: error validating url: target url "https://xsoar.example.com" is not added to the Kibana config xpack.actions.allowedHosts',
      });
    });
  });

  it('refuses to run a stored config that is no longer valid', async () => {
    expect(await run({ subAction: 'getPlaybooks' }, 'xsoar-not-allowed')).toEqual({
      status: 'error',
      connector_id: 'xsoar-not-allowed',
      message:
        'error validating connector type config: error validating url: target url "https://xsoar.example.com" is not added to the Kibana config xpack.actions.allowedHosts',
      retry: false,
      errorSource: 'framework',
    });
  });

  it('never shows or logs the API keys', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [API_KEY, CLOUD_API_KEY], h.replies);
    expectNoSecrets(h.limited.server, [API_KEY], h.replies);
  });
});
