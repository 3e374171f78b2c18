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
import { startTheHiveSimulator, THEHIVE_CREATED_AT } from '../simulators/thehive.js';

const API_KEY = 'thehive-api-key-Wk3sV9';
const CREATED_ISO = new Date(THEHIVE_CREATED_AT).toISOString();

describe('.thehive', () => {
  const h = connectorHarness({
    type: '.thehive',
    simulator: () => startTheHiveSimulator({ apiKey: API_KEY, organisations: ['admin', 'soc'] }),
    settings: () => ({
      'xpack.actions.allowedHosts': ['127.0.0.1'],
      'xpack.actions.preconfigured': {
        'thehive-not-allowed': {
          name: 'stored before allowedHosts changed',
          actionTypeId: '.thehive',
          config: { url: 'https://thehive.example.com' },
          secrets: { apiKey: API_KEY },
        },
      },
    }),
    limited: {
      settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    },
    connector: (sim) => ({ config: { url: sim.url }, secrets: { apiKey: API_KEY } }),
  });
  let orgId: string;

  const run = (params: unknown, connectorId?: string, on?: TestServer) =>
    h.run(params, connectorId, on);
  const push = (
    incident: Record<string, unknown>,
    comments: unknown = null,
    connectorId?: string,
  ) => run({ subAction: 'pushToService', subActionParams: { incident, comments } }, connectorId);
  const alert = (params: Record<string, unknown>, connectorId?: string, on?: TestServer) =>
    run({ subAction: 'createAlert', subActionParams: params }, connectorId, on);
  const failure = (
    connectorId: string,
    serviceMessage: string,
    retry: boolean,
    errorSource = 'framework',
  ) => thrownEnvelope(connectorId, serviceMessage, retry, errorSource);
  const baseAlert = { title: 'alert title', description: 'alert description', type: 'external' };

  beforeAll(async () => {
    orgId = await h.create({
      config: { url: `${h.sim.url}/`, organisation: 'soc' },
      secrets: { apiKey: API_KEY },
    });
  });

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.thehive',
      name: 'TheHive',
      minimum_license_required: 'platinum',
      supported_feature_ids: ['alerting', 'siem', 'uptime', 'cases', 'workflows'],
    });
  });

  it('stores the organisation as null when not given', async () => {
    const res = await h.server.api<{ config: unknown }>('GET', `/api/actions/connector/${h.id}`);
    expect(res.body.config).toEqual({ url: h.sim.url, organisation: null });
  });

  describe('pushToService', () => {
    it('creates a case, then adds each comment', async () => {
      const body = await push(
        {
          title: 'a case',
          description: 'what happened',
          severity: 3,
          tlp: 1,
          tags: ['tag1', 'tag2'],
          externalId: null,
        },
        [{ comment: 'first comment', commentId: 'c-1' }],
      );
      const created = [...h.sim.cases.values()].at(-1);
      const caseId = String(created?._id);
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          id: caseId,
          title: 'a case',
          url: `${h.sim.url}/cases/${caseId}/details`,
          pushedDate: CREATED_ISO,
          comments: [{ commentId: 'c-1', pushedDate: CREATED_ISO }],
        },
      });
      const [create, comment] = h.sim.requests.slice(-2);
      expect(create?.method).toBe('POST');
      expect(create?.path).toBe('/api/v1/case');
      expect(create?.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(create?.headers['content-type']).toBe('application/json');
      expect(create?.headers).not.toHaveProperty('x-organisation');
      expect(create?.json).toEqual({
        title: 'a case',
        description: 'what happened',
        severity: 3,
        tlp: 1,
        tags: ['tag1', 'tag2'],
      });
      expect(comment?.method).toBe('POST');
      expect(comment?.path).toBe(`/api/v1/case/${caseId}/comment`);
      expect(comment?.json).toEqual({ message: 'first comment' });
    });

    it('sends nulls for what is not given, and the organisation header when configured', async () => {
      const body = await push({ title: 'minimal', description: 'd' }, null, orgId);
      expect(body.status).toBe('ok');
      expect(body.data).not.toHaveProperty('comments');
      const sent = h.sim.last();
      expect(sent.path).toBe('/api/v1/case');
      expect(sent.headers['x-organisation']).toBe('soc');
      expect(sent.json).toEqual({
        title: 'minimal',
        description: 'd',
        severity: null,
        tlp: null,
        tags: null,
      });
    });

    it('updates a case with PATCH (204) and answers the time of the push', async () => {
      await push({ title: 'before', description: 'd' });
      const caseId = String([...h.sim.cases.values()].at(-1)?._id);
      const before = Date.now();
      const body = await push(
        { title: 'after', description: 'd2', severity: '4', externalId: caseId },
        [{ comment: 'c', commentId: '1' }],
      );
      const data = body.data as { pushedDate: string; comments: Array<{ pushedDate: string }> };
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          id: caseId,
          title: 'after',
          url: `${h.sim.url}/cases/${caseId}/details`,
          pushedDate: data.pushedDate,
          comments: [{ commentId: '1', pushedDate: data.pushedDate }],
        },
      });
      expect(Date.parse(data.pushedDate)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(data.pushedDate)).toBeLessThanOrEqual(Date.now());
      const [patch] = h.sim.requests.slice(-2);
      expect(patch?.method).toBe('PATCH');
      expect(patch?.path).toBe(`/api/v1/case/${caseId}`);
      expect(patch?.json).toEqual({
        title: 'after',
        description: 'd2',
        severity: 4,
        tlp: null,
        tags: null,
      });
      expect(h.sim.cases.get(caseId)?.title).toBe('after');
    });

    it('answers 404 for an unknown case, without retry', async () => {
      expect(await push({ title: 't', description: 'd', externalId: '~1' })).toEqual(
        failure(
          h.id,
          'Status code: 404. Message: API Error: NotFoundError - Case ~1 not found',
          false,
        ),
      );
    });
  });

  describe('createAlert', () => {
    it('sends the alert with the fields of body on top, without body and isRuleSeverity', async () => {
      const body = await alert({
        ...baseAlert,
        source: 'kibana',
        sourceRef: 'ref-1',
        severity: 3,
        isRuleSeverity: false,
        tlp: 0,
        tags: ['a'],
        body: JSON.stringify({
          observables: [{ dataType: 'url', data: 'http://example.com', tags: ['url'] }],
          tags: ['from-body'],
        }),
      });
      expect(body).toEqual({ status: 'ok', connector_id: h.id, data: {} });
      const sent = h.sim.last();
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/api/v1/alert');
      expect(sent.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(sent.json).toEqual({
        title: 'alert title',
        description: 'alert description',
        type: 'external',
        source: 'kibana',
        sourceRef: 'ref-1',
        severity: 3,
        tlp: 0,
        tags: ['from-body'],
        observables: [{ dataType: 'url', data: 'http://example.com', tags: ['url'] }],
      });
      expect(Object.keys(sent.json as object)).toEqual([
        'title',
        'description',
        'type',
        'source',
        'sourceRef',
        'severity',
        'tlp',
        'tags',
        'observables',
      ]);
    });

    it('reports TheHive refusing a duplicate alert', async () => {
      const params = { ...baseAlert, source: 'kibana', sourceRef: 'dup' };
      expect((await alert(params)).status).toBe('ok');
      expect(await alert(params)).toEqual(
        failure(
          h.id,
          'Status code: 400. Message: API Error: BadRequest - Alert external/kibana/dup already exists',
          false,
        ),
      );
    });

    it('fails on a body that is not JSON', async () => {
      const count = h.sim.requests.length;
      const body = await alert({ ...baseAlert, source: 's', sourceRef: 'bad-body', body: '{oops' });
      expect(body).toMatchObject({ status: 'error', message: RUN_FAILED, retry: true });
      expect(body.service_message).toMatch(/JSON/);
      expect(h.sim.requests.length).toBe(count);
    });
  });

  describe('params validation', () => {
    const invalid = (serviceMessage: string) => thrownEnvelope(h.id, serviceMessage, true, 'user');

    it('names an unknown sub-action', async () => {
      expect(await run({ subAction: 'getIncident', subActionParams: {} })).toEqual(
        failure(
          h.id,
          `Sub action "getIncident" is not registered. Connector id: ${h.id}. Connector name: TheHive. Connector type: .thehive`,
          true,
        ),
      );
    });

    it('requires the incident title', async () => {
      expect(await run({ subAction: 'pushToService' })).toEqual(
        invalid(
          'Request validation failed (Error: [incident.title]: expected value of type [string] but got [undefined])',
        ),
      );
    });

    it('requires sourceRef for an alert', async () => {
      expect(await alert({ ...baseAlert, source: 's' })).toEqual(
        invalid(
          'Request validation failed (Error: [sourceRef]: expected value of type [string] but got [undefined])',
        ),
      );
    });

    it('refuses unknown alert keys', async () => {
      expect(await alert({ ...baseAlert, source: 's', sourceRef: 'r', template: 0 })).toEqual(
        invalid(
          'Request validation failed (Error: [template]: definition for this key is missing)',
        ),
      );
    });
  });

  describe('vendor failures', () => {
    const create = (title: string) => alert({ ...baseAlert, title, source: 'f', sourceRef: title });

    failureClassTests(create, {
      'respond-with-400': () =>
        failure(h.id, 'Status code: 400. Message: API Error: BadRequest - Invalid json', false),
      // As the user's fault.
      'respond-with-429': () =>
        failure(
          h.id,
          'Status code: 429. Message: API Error: TooManyRequests - Too many requests',
          true,
          'user',
        ),
      'respond-with-500': () =>
        failure(
          h.id,
          'Status code: 500. Message: API Error: InternalError - An unexpected error occurred',
          true,
        ),
      // From a proxy, with an HTML body.
      'respond-with-502': () =>
        failure(h.id, 'Status code: 502. Message: API Error: undefined - undefined', true),
    });

    // A timeout, a connection reset and an answer larger than maxResponseContentLength, on the
    // server with short limits.
    const sourceRefs: Record<string, string> = {
      'respond-with-timeout': 't',
      'respond-with-reset': 'r',
      'respond-with-large': 'l',
    };
    const noAnswer = () =>
      failure(h.limited.id, 'Status code: undefined. Message: Unknown API Error', true);
    failureClassTests(
      (title) =>
        alert(
          { ...baseAlert, title, source: 's', sourceRef: sourceRefs[title] },
          h.limited.id,
          h.limited.server,
        ),
      {
        'respond-with-timeout': noAnswer,
        'respond-with-reset': noAnswer,
        'respond-with-large': noAnswer,
      },
    );

    it('401 for a wrong API key', async () => {
      const wrong = await h.create({
        config: { url: h.sim.url },
        secrets: { apiKey: 'not-the-key' },
      });
      expect(await push({ title: 't', description: 'd' }, null, wrong)).toEqual(
        failure(
          wrong,
          'Status code: 401. Message: API Error: AuthenticationError - Authentication failure',
          false,
        ),
      );
    });

    it('403 for an unknown organisation', async () => {
      const other = await h.create({
        config: { url: h.sim.url, organisation: 'nope' },
        secrets: { apiKey: API_KEY },
      });
      expect(await push({ title: 't', description: 'd' }, null, other)).toEqual(
        failure(
          other,
          'Status code: 403. Message: API Error: AuthorizationError - Organisation nope not found',
          false,
        ),
      );
    });

    it('429 with Retry-After', async () => {
      const body = await create('respond-with-429-retry-after');
      expect(body).toMatchObject({
        service_message:
          'Status code: 429. Message: API Error: TooManyRequests - Too many requests',
        errorSource: 'user',
      });
      expectRetryAt(body.retry, RETRY_AFTER_SECONDS);
    });

    it('an answer missing the fields Kibana requires', async () => {
      expect(await push({ title: 'respond-with-text', description: 'd' })).toEqual(
        failure(
          h.id,
          'Response validation failed (Error: expected a plain object value, but found [string] instead.)',
          true,
        ),
      );
    });
  });

  describe('connector validation', () => {
    const create = (config: unknown, secrets: unknown) =>
      h.server.api('POST', '/api/actions/connector', {
        body: { name: 'h', connector_type_id: '.thehive', config, secrets },
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

    it('requires the API key', async () => {
      const res = await create({ url: h.sim.url }, {});
      expect(res.body).toMatchObject({
        message:
          'error validating connector type secrets: [apiKey]: expected value of type [string] but got [undefined]',
      });
    });

    it('refuses a url outside xpack.actions.allowedHosts', async () => {
      const res = await create({ url: 'https://thehive.example.com' }, { apiKey: API_KEY });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        message:
          'error validating connector type config: error validating url: target url "https://thehive.example.com" is not added to the Kibana config xpack.actions.allowedHosts',
      });
    });
  });

  it('refuses to run a stored config that is no longer valid', async () => {
    expect(
      await run({ subAction: 'createAlert', subActionParams: {} }, 'thehive-not-allowed'),
    ).toEqual({
      status: 'error',
      connector_id: 'thehive-not-allowed',
      message:
        'error validating connector type config: error validating url: target url "https://thehive.example.com" is not added to the Kibana config xpack.actions.allowedHosts',
      retry: false,
      errorSource: 'framework',
    });
  });

  it('never shows or logs the API key', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [API_KEY], h.replies);
    expectNoSecrets(h.limited.server, [API_KEY], h.replies);
  });
});
