import { beforeAll, describe, expect, it } from 'vitest';
import {
  badRequest,
  expectListedType,
  expectNoSecrets,
  expectRetryAt,
  failureClassTests,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';
import {
  SWIMLANE_CREATED,
  SWIMLANE_MODIFIED,
  startSwimlaneSimulator,
} from '../simulators/swimlane.js';

const API_TOKEN = 'swimlane-private-token-Gm4r';
const APP_ID = 'aNcL2xniGHGpa2AHb';
const EMPTY_TOKEN_ID = 'swimlane-empty-token';

const mapping = (id: string, key: string, name: string, fieldType = 'text') => ({
  id,
  key,
  name,
  fieldType,
});
const CASE_MAPPINGS = {
  caseIdConfig: mapping('a6sst', 'case-id', 'Case ID'),
  caseNameConfig: mapping('a6fst', 'case-name', 'Case Name'),
  commentsConfig: mapping('a6fdf', 'comments', 'Comments', 'comments'),
  descriptionConfig: mapping('a6fdd', 'description', 'Description'),
};
const ALERT_MAPPINGS = {
  ruleNameConfig: mapping('adnfls', 'rule-name', 'Rule Name'),
  alertIdConfig: mapping('ednjls', 'alert-id', 'Alert id'),
  severityConfig: mapping('adnlas', 'severity', 'Severity', 'numeric'),
};

/** The Swimlane docs example of the run-a-connector page. */
const DOCS_EXAMPLE = {
  subAction: 'pushToService',
  subActionParams: {
    comments: [{ commentId: 1, comment: 'A comment about the incident.' }],
    incident: {
      caseId: '1000',
      caseName: 'Case name',
      description: 'Description of the incident.',
    },
  },
};

describe('.swimlane', () => {
  const h = connectorHarness({
    type: '.swimlane',
    simulator: () =>
      startSwimlaneSimulator({
        apiToken: API_TOKEN,
        app: {
          id: APP_ID,
          acronym: 'TEST',
          fieldIds: ['a6sst', 'a6fst', 'a6fdd', 'adnfls', 'ednjls', 'adnlas'],
          commentFieldIds: ['a6fdf'],
        },
      }),
    settings: (sim) => ({
      'xpack.actions.allowedHosts': ['127.0.0.1'],
      'xpack.actions.preconfigured': {
        'swimlane-not-allowed': {
          name: 'stored before allowedHosts changed',
          actionTypeId: '.swimlane',
          config: {
            apiUrl: 'http://swimlane.mynonexistent.com',
            appId: APP_ID,
            connectorType: 'all',
            mappings: {},
          },
          secrets: { apiToken: API_TOKEN },
        },
        [EMPTY_TOKEN_ID]: {
          name: 'empty token',
          actionTypeId: '.swimlane',
          config: { apiUrl: sim.url, appId: APP_ID, connectorType: 'all', mappings: {} },
          secrets: { apiToken: '' },
        },
      },
    }),
    limited: {
      settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    },
    connector: (sim) => ({
      config: { apiUrl: sim.url, appId: APP_ID, connectorType: 'cases', mappings: CASE_MAPPINGS },
      secrets: { apiToken: API_TOKEN },
    }),
  });
  let alertsId: string;

  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);
  const push = (
    incident: Record<string, unknown>,
    comments: unknown = null,
    connectorId?: string,
  ) => run({ subAction: 'pushToService', subActionParams: { incident, comments } }, connectorId);
  const failure = (connectorId: string, serviceMessage: string, retry: boolean) =>
    thrownEnvelope(connectorId, serviceMessage, retry, 'framework');
  const createFailure = (status: number, error: string, reason: string) =>
    `[Action][Swimlane]: Unable to create record in application with id ${APP_ID}. Status: ${status}. Error: ${error}. Reason: ${reason}`;

  beforeAll(async () => {
    alertsId = await h.create({
      config: {
        apiUrl: `${h.sim.url}/api/`,
        appId: APP_ID,
        connectorType: 'alerts',
        mappings: ALERT_MAPPINGS,
      },
      secrets: { apiToken: API_TOKEN },
    });
  });

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.swimlane',
      name: 'Swimlane',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'cases', 'siem', 'workflows'],
    });
  });

  it('stores the mappings it was not given as null', async () => {
    const res = await h.server.api<{ config: { mappings: unknown } }>(
      'GET',
      `/api/actions/connector/${h.id}`,
    );
    expect(res.body.config.mappings).toEqual({
      ruleNameConfig: null,
      alertIdConfig: null,
      caseIdConfig: CASE_MAPPINGS.caseIdConfig,
      caseNameConfig: CASE_MAPPINGS.caseNameConfig,
      commentsConfig: CASE_MAPPINGS.commentsConfig,
      severityConfig: null,
      descriptionConfig: CASE_MAPPINGS.descriptionConfig,
    });
  });

  describe('pushToService', () => {
    it('runs the docs example and answers its shape', async () => {
      const before = Date.now();
      const body = await run(DOCS_EXAMPLE);
      const record = [...h.sim.records.values()].at(-1);
      const recordId = String(record?.id);
      const data = body.data as { comments: Array<{ pushedDate: string }> };
      const commentDate = data.comments[0]?.pushedDate ?? '';
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          id: recordId,
          title: record?.name,
          url: `${h.sim.url}/record/${APP_ID}/${recordId}`,
          pushedDate: SWIMLANE_CREATED,
          comments: [{ commentId: 1, pushedDate: commentDate }],
        },
      });
      expect(Date.parse(commentDate)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(commentDate)).toBeLessThanOrEqual(Date.now());

      const [create, comment] = h.sim.requests.slice(-2);
      expect(create?.method).toBe('POST');
      expect(create?.path).toBe(`/api/app/${APP_ID}/record`);
      expect(create?.headers['private-token']).toBe(API_TOKEN);
      expect(create?.headers['content-type']).toBe('application/json');
      expect(create?.json).toEqual({
        applicationId: APP_ID,
        values: {
          a6sst: '1000',
          a6fst: 'Case name',
          a6fdd: 'Description of the incident.',
        },
      });
      expect(comment?.method).toBe('POST');
      expect(comment?.path).toBe(`/api/app/${APP_ID}/record/${recordId}/a6fdf/comment`);
      expect(comment?.headers['private-token']).toBe(API_TOKEN);
      expect(comment?.json).toEqual({
        createdDate: commentDate,
        fieldId: 'a6fdf',
        isRichText: true,
        message: 'A comment about the incident.',
      });
      expect(record?.comments).toEqual({
        a6fdf: [
          { message: 'A comment about the incident.', createdDate: commentDate, isRichText: true },
        ],
      });
    });

    it('maps alert fields, converting numeric ones, under an apiUrl that ends with /api', async () => {
      const body = await push(
        { alertId: 'fs345f78g', ruleName: 'Rule Name', severity: '3', caseName: 'not mapped' },
        [],
        alertsId,
      );
      expect(body.status).toBe('ok');
      expect(body.data).not.toHaveProperty('comments');
      const sent = h.sim.last();
      expect(sent.path).toBe(`/api/app/${APP_ID}/record`);
      expect(sent.json).toEqual({
        applicationId: APP_ID,
        values: { adnfls: 'Rule Name', ednjls: 'fs345f78g', adnlas: 3 },
      });
      const recordId = String([...h.sim.records.values()].at(-1)?.id);
      expect((body.data as { url: string }).url).toBe(
        `${h.sim.url}/api/record/${APP_ID}/${recordId}`,
      );

      await push({ severity: 'high' }, null, alertsId);
      expect((h.sim.last().json as { values: unknown }).values).toEqual({ adnlas: 0 });
    });

    it('updates a record with PATCH', async () => {
      await push({ caseName: 'first' });
      const recordId = String([...h.sim.records.values()].at(-1)?.id);
      const body = await push({ caseName: 'second', externalId: recordId }, [
        { comment: 'c', commentId: 'x-1' },
      ]);
      const data = body.data as { comments: Array<{ pushedDate: string }> };
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          id: recordId,
          title: h.sim.records.get(recordId)?.name,
          url: `${h.sim.url}/record/${APP_ID}/${recordId}`,
          pushedDate: SWIMLANE_MODIFIED,
          comments: [{ commentId: 'x-1', pushedDate: data.comments[0]?.pushedDate }],
        },
      });
      const [patch] = h.sim.requests.slice(-2);
      expect(patch?.method).toBe('PATCH');
      expect(patch?.path).toBe(`/api/app/${APP_ID}/record/${recordId}`);
      expect(patch?.headers['private-token']).toBe(API_TOKEN);
      expect(patch?.json).toEqual({
        applicationId: APP_ID,
        id: recordId,
        values: { a6fst: 'second' },
      });
    });

    it('refuses comments when no comments field is mapped', async () => {
      const body = await push({ ruleName: 'r' }, [{ comment: 'c', commentId: '1' }], alertsId);
      const recordId = [...h.sim.records.values()].at(-1)?.id;
      expect(body).toEqual(
        failure(
          alertsId,
          `[Action][Swimlane]: Unable to create comment in application with id ${APP_ID}. Status: 500. Error: No comment field mapped in Swimlane connector. Reason: unknown`,
          true,
        ),
      );
      expect(h.sim.last().path).toBe(`/api/app/${APP_ID}/record`);
      expect(recordId).toBeDefined();
    });
  });

  describe('params validation', () => {
    const invalid = (message: string) => ({
      status: 'error',
      connector_id: h.id,
      message: `error validating action params: ${message}`,
      retry: false,
      errorSource: 'user',
    });

    it('refuses any sub-action but pushToService', async () => {
      expect(await run({ subAction: 'non-supported' })).toEqual(
        invalid('[subAction]: expected value to equal [pushToService]'),
      );
    });

    it('requires subActionParams to be an object', async () => {
      expect(await run({ subAction: 'pushToService', subActionParams: null })).toEqual(
        invalid('[subActionParams]: expected a plain object value, but found [null] instead.'),
      );
    });

    it('requires the comment id', async () => {
      expect(await push({ caseName: 'x' }, [{ comment: 'comment' }])).toEqual(
        invalid(
          '[subActionParams.comments]: types that failed validation:\n- [subActionParams.comments.0.0.commentId]: expected value of type [string] but got [undefined]\n- [subActionParams.comments.1]: expected value to equal [null]',
        ),
      );
    });

    it('requires the comment text', async () => {
      const body = await push({ caseName: 'x' }, [{ commentId: 'success' }]);
      expect(body).toMatchObject({ status: 'error', retry: false, errorSource: 'user' });
      expect(body.message).toContain(
        '[subActionParams.comments.0.0.comment]: expected value of type [string] but got [undefined]',
      );
    });

    it('refuses unknown incident fields', async () => {
      expect(await push({ title: 'x' })).toEqual(
        invalid('[subActionParams.incident.title]: definition for this key is missing'),
      );
    });
  });

  describe('vendor failures', () => {
    const createFailed = (status: number, reason: string, retry: boolean) => () =>
      failure(
        h.id,
        createFailure(status, `Request failed with status code ${status}`, reason),
        retry,
      );
    failureClassTests((caseName) => push({ caseName }), {
      'respond-with-400': createFailed(400, 'values (1051)', false),
      'respond-with-429': createFailed(429, 'Request (1010)', true),
      'respond-with-500': createFailed(500, 'Server (1000)', true),
      // From a proxy.
      'respond-with-502': createFailed(502, 'unknown', true),
      // An answer that is not JSON.
      'respond-with-text': () =>
        failure(
          h.id,
          createFailure(
            500,
            `Unsupported content type: text/plain in post ${h.sim.url}/api/app/${APP_ID}/record. Supported content types: application/json`,
            'unknown',
          ),
          true,
        ),
    });

    const limitedPush = (caseName: string) =>
      h.run(
        { subAction: 'pushToService', subActionParams: { incident: { caseName }, comments: null } },
        h.limited.id,
        h.limited.server,
      );

    // A timeout and an answer larger than maxResponseContentLength, on the server with short
    // limits.
    failureClassTests(limitedPush, {
      'respond-with-timeout': () =>
        failure(h.limited.id, createFailure(500, 'timeout of 300ms exceeded', 'unknown'), true),
      'respond-with-large': () =>
        failure(
          h.limited.id,
          createFailure(500, 'maxContentLength size of 1024 exceeded', 'unknown'),
          true,
        ),
    });

    it('a connection reset', async () => {
      const body = await limitedPush('respond-with-reset');
      expect(body).toMatchObject({ status: 'error', retry: true });
      expect(body.service_message).toMatch(
        /Status: 500\. Error: (socket hang up|read ECONNRESET)\. Reason: unknown$/,
      );
    });

    it('401 for a wrong token', async () => {
      const wrong = await h.create({
        config: { apiUrl: h.sim.url, appId: APP_ID, connectorType: 'all', mappings: CASE_MAPPINGS },
        secrets: { apiToken: 'wrong-token' },
      });
      expect(await push({ caseName: 'x' }, null, wrong)).toEqual(
        failure(
          wrong,
          createFailure(401, 'Request failed with status code 401', 'Private-Token (1001)'),
          false,
        ),
      );
    });

    it('404 for an unknown record', async () => {
      expect(await push({ caseName: 'x', externalId: 'nope' })).toEqual(
        failure(
          h.id,
          `[Action][Swimlane]: Unable to update record in application with id ${APP_ID}. Status: 404. Error: Request failed with status code 404. Reason: Record (1003)`,
          false,
        ),
      );
    });

    it('429 with Retry-After', async () => {
      const body = await push({ caseName: 'respond-with-429-retry-after' });
      expect(body).toMatchObject({
        service_message: createFailure(
          429,
          'Request failed with status code 429',
          'Request (1010)',
        ),
        errorSource: 'framework',
      });
      expectRetryAt(body.retry, RETRY_AFTER_SECONDS);
    });

    it('an empty token is a wrong configuration', async () => {
      const created = await h.server.api('POST', '/api/actions/connector', {
        body: {
          name: 'empty',
          connector_type_id: '.swimlane',
          config: { apiUrl: h.sim.url, appId: APP_ID, connectorType: 'all', mappings: {} },
          secrets: { apiToken: '' },
        },
      });
      expect(created.status).toBe(400);
      expect(created.body).toMatchObject({
        message: "[request body.secrets.apiToken]: value '' is not valid",
      });
      // A preconfigured connector skips that check; Kibana's executor still refuses it.
      const count = h.sim.requests.length;
      expect(await push({ caseName: 'x' }, null, EMPTY_TOKEN_ID)).toEqual(
        failure(EMPTY_TOKEN_ID, '[Action]Swimlane: Wrong configuration.', true),
      );
      expect(h.sim.requests.length).toBe(count);
    });
  });

  describe('connector validation', () => {
    const create = (config: Record<string, unknown>, secrets: unknown = { apiToken: API_TOKEN }) =>
      h.server.api('POST', '/api/actions/connector', {
        body: { name: 's', connector_type_id: '.swimlane', config, secrets },
      });
    const config = { appId: APP_ID, connectorType: 'all', mappings: {} };

    it('requires apiUrl', async () => {
      const res = await create(config);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type config: [apiUrl]: expected value of type [string] but got [undefined]',
        ),
      );
    });

    it('refuses an unknown connectorType', async () => {
      const res = await create({ ...config, apiUrl: h.sim.url, connectorType: 'not-supported' });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        message:
          'error validating connector type config: [connectorType]: types that failed validation:\n- [connectorType.0]: expected value to equal [all]\n- [connectorType.1]: expected value to equal [alerts]\n- [connectorType.2]: expected value to equal [cases]',
      });
    });

    it('requires the token', async () => {
      const res = await create({ ...config, apiUrl: h.sim.url }, {});
      expect(res.body).toMatchObject({
        message:
          'error validating connector type secrets: [apiToken]: expected value of type [string] but got [undefined]',
      });
    });

    it('refuses an apiUrl outside xpack.actions.allowedHosts', async () => {
      const res = await create({ ...config, apiUrl: 'http://swimlane.mynonexistent.com' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type config: error configuring connector action: target url "http://swimlane.mynonexistent.com" is not added to the Kibana config xpack.actions.allowedHosts',
        ),
      );
    });
  });

  it('refuses to run a stored config that is no longer valid', async () => {
    expect(await push({ caseName: 'x' }, null, 'swimlane-not-allowed')).toEqual({
      status: 'error',
      connector_id: 'swimlane-not-allowed',
      message:
        'error validating connector type config: error configuring connector action: target url "http://swimlane.mynonexistent.com" is not added to the Kibana config xpack.actions.allowedHosts',
      retry: false,
      errorSource: 'framework',
    });
  });

  it('never shows or logs the token', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [API_TOKEN], h.replies);
    expectNoSecrets(h.limited.server, [API_TOKEN], h.replies);
  });
});
