import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  badRequest,
  type ExecuteEnvelope,
  execute,
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
import {
  SN_CHOICES,
  SN_CREATED_ON,
  SN_FIELDS,
  SN_UPDATED_ON,
  startServiceNowSimulator,
} from '../simulators/servicenow.js';

const USERNAME = 'elastic-integration';
const PASSWORD = 'sn-Pa55word-secret';
const AUTH = basicAuth(USERNAME, PASSWORD);
const CLIENT_ID = 'a1b2c3d4e5f6client';
const CLIENT_SECRET = 'sn-client-secret-9Q';
const KEY_ID = 'kid-elastic-1';
const USER_ID = 'elastic.integration@example.com';
const KEY_PASSPHRASE = 'key-passphrase-Zx8';
const GROUPING_KEY = '{{rule.id}}:{{alert.id}}';

const { publicKey, privateKey } = generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: {
    type: 'pkcs8',
    format: 'pem',
    cipher: 'aes-256-cbc',
    passphrase: KEY_PASSPHRASE,
  },
});

function failure(connectorId: string, serviceMessage: string, errorSource = 'framework') {
  return thrownEnvelope(connectorId, serviceMessage, true, errorSource);
}

const pushedDate = (snDate: string) => new Date(`${snDate} GMT`).toISOString();

describe('.servicenow (ITSM)', () => {
  const secrets = { username: USERNAME, password: PASSWORD };
  const h = connectorHarness({
    type: '.servicenow',
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
    limited: {
      settings: () => SHORT_LIMITS,
      connector: (sn) => ({ config: { apiUrl: sn.url }, secrets }),
    },
  });
  /** Basic auth, legacy Table API (usesTableApi defaults to true). */
  let legacy: string;
  /** Basic auth, Elastic application (import set API). */
  let app: string;

  const run = (id: string, params: unknown): Promise<ExecuteEnvelope> => h.run(params, id);
  const since = (before: number) => h.sim.requests.slice(before);

  beforeAll(async () => {
    legacy = await h.create({ config: { apiUrl: h.sim.url }, secrets });
    app = await h.create({ config: { apiUrl: `${h.sim.url}/`, usesTableApi: false }, secrets });
  });

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.servicenow',
      name: 'ServiceNow ITSM',
      minimum_license_required: 'platinum',
      supported_feature_ids: ['alerting', 'cases', 'uptime', 'siem', 'workflows'],
    });
  });

  it('reports a Table API connector deprecated, an application one not', async () => {
    const created = await h.server.api<Record<string, unknown>>('POST', '/api/actions/connector', {
      body: {
        name: 'sn',
        connector_type_id: '.servicenow',
        config: { apiUrl: h.sim.url },
        secrets: { username: USERNAME, password: PASSWORD },
      },
    });
    h.replies.push(created.text);
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: expect.any(String),
      name: 'sn',
      connector_type_id: '.servicenow',
      config: {
        apiUrl: h.sim.url,
        isOAuth: false,
        userIdentifierValue: null,
        clientId: null,
        jwtKeyId: null,
        usesTableApi: true,
      },
      is_preconfigured: false,
      is_system_action: false,
      is_deprecated: true,
      is_missing_secrets: false,
      is_connector_type_deprecated: false,
    });
    const current = await h.server.api<Record<string, unknown>>(
      'GET',
      `/api/actions/connector/${app}`,
    );
    expect(current.body.is_deprecated).toBe(false);
  });

  it('runs the docs example getChoices on sys_choice', async () => {
    const before = h.sim.requests.length;
    const res = await run(legacy, {
      subAction: 'getChoices',
      subActionParams: { fields: ['severity', 'urgency'] },
    });
    expect(res).toEqual({
      status: 'ok',
      connector_id: legacy,
      data: SN_CHOICES.filter((c) => c.element === 'severity' || c.element === 'urgency'),
    });
    expect(res.data).toContainEqual({
      label: '1 - High',
      value: '1',
      element: 'severity',
      dependent_value: '',
    });
    const [sent] = since(before);
    expect(sent?.method).toBe('GET');
    expect(sent?.path).toBe('/api/now/table/sys_choice');
    expect([...(sent?.query ?? [])]).toEqual([
      ['sysparm_query', 'name=task^ORname=incident^element=severity^ORelement=urgency^language=en'],
      ['sysparm_fields', 'label,value,dependent_value,element'],
    ]);
    expect(sent?.headers.authorization).toBe(AUTH);
    expect(sent?.headers.accept).toBe('application/json');
    expect(sent?.text).toBe('');
  });

  it('getFields reads the string fields of task and incident from sys_dictionary', async () => {
    const res = await run(legacy, { subAction: 'getFields', subActionParams: {} });
    expect(res).toEqual({ status: 'ok', connector_id: legacy, data: SN_FIELDS });
    const sent = h.sim.last();
    expect(sent.method).toBe('GET');
    expect(sent.path).toBe('/api/now/table/sys_dictionary');
    expect([...sent.query]).toEqual([
      ['sysparm_query', 'name=task^ORname=incident^internal_type=string'],
      ['active', 'true'],
      ['array', 'false'],
      ['read_only', 'false'],
      ['sysparm_fields', 'max_length,element,column_label,mandatory'],
    ]);
    expect(sent.headers.authorization).toBe(AUTH);
  });

  describe('pushToService with the Table API', () => {
    let sysId: string;

    it('creates the incident, reads it back, then adds each comment as work notes', async () => {
      const before = h.sim.requests.length;
      const res = await run(legacy, {
        subAction: 'pushToService',
        subActionParams: {
          incident: { short_description: 'CPU at 100%', severity: '1', urgency: '2' },
          comments: [
            { comment: 'first note', commentId: 'c-1' },
            { comment: 'second note', commentId: 'c-2' },
          ],
        },
      });
      const sent = since(before);
      sysId = [...(h.sim.records.get('incident')?.keys() ?? [])].at(-1) ?? '';
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        'POST /api/now/v2/table/incident',
        `GET /api/now/v2/table/incident/${sysId}`,
        `PATCH /api/now/v2/table/incident/${sysId}`,
        `GET /api/now/v2/table/incident/${sysId}`,
        `PATCH /api/now/v2/table/incident/${sysId}`,
        `GET /api/now/v2/table/incident/${sysId}`,
      ]);
      const incident = {
        short_description: 'CPU at 100%',
        description: null,
        category: null,
        subcategory: null,
        correlation_id: GROUPING_KEY,
        correlation_display: null,
        severity: '1',
        urgency: '2',
        impact: null,
      };
      expect(sent[0]?.json).toEqual({ ...incident, caller_id: USERNAME, opened_by: USERNAME });
      expect(sent[0]?.headers.authorization).toBe(AUTH);
      expect(sent[0]?.headers['content-type']).toBe('application/json');
      expect(sent[2]?.json).toEqual({ ...incident, work_notes: 'first note' });
      expect(sent[4]?.json).toEqual({ ...incident, work_notes: 'second note' });
      const record = h.sim.records.get('incident')?.get(sysId);
      expect(res).toEqual({
        status: 'ok',
        connector_id: legacy,
        data: {
          title: record?.number,
          id: sysId,
          pushedDate: pushedDate(SN_CREATED_ON),
          url: `${h.sim.url}/nav_to.do?uri=incident.do?sys_id=${sysId}`,
          comments: [
            { commentId: 'c-1', pushedDate: pushedDate(SN_CREATED_ON) },
            { commentId: 'c-2', pushedDate: pushedDate(SN_CREATED_ON) },
          ],
        },
      });
    });

    it('updates an incident with PATCH and reports its update time', async () => {
      const before = h.sim.requests.length;
      const res = await run(legacy, {
        subAction: 'pushToService',
        subActionParams: {
          incident: { short_description: 'CPU back to 40%', externalId: sysId, impact: '3' },
        },
      });
      const sent = since(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        `PATCH /api/now/v2/table/incident/${sysId}`,
        `GET /api/now/v2/table/incident/${sysId}`,
      ]);
      expect(sent[0]?.json).toEqual({
        short_description: 'CPU back to 40%',
        description: null,
        category: null,
        subcategory: null,
        correlation_id: GROUPING_KEY,
        correlation_display: null,
        severity: null,
        urgency: null,
        impact: '3',
      });
      expect(res.data).toEqual({
        title: h.sim.records.get('incident')?.get(sysId)?.number,
        id: sysId,
        pushedDate: pushedDate(SN_UPDATED_ON),
        url: `${h.sim.url}/nav_to.do?uri=incident.do?sys_id=${sysId}`,
      });
    });

    it('getIncident answers the incident record', async () => {
      const res = await run(legacy, {
        subAction: 'getIncident',
        subActionParams: { externalId: sysId },
      });
      expect(h.sim.last().method).toBe('GET');
      expect(h.sim.last().path).toBe(`/api/now/v2/table/incident/${sysId}`);
      expect(h.sim.last().headers.authorization).toBe(AUTH);
      expect(res).toEqual({
        status: 'ok',
        connector_id: legacy,
        data: h.sim.records.get('incident')?.get(sysId),
      });
      expect((res.data as { short_description: string }).short_description).toBe('CPU back to 40%');
    });

    it('refuses additional_fields on the deprecated Table API', async () => {
      const before = h.sim.requests.length;
      expect(
        await run(legacy, {
          subAction: 'pushToService',
          subActionParams: {
            incident: { short_description: 'x', additional_fields: { u_team: 'ops' } },
          },
        }),
      ).toEqual(
        failure(
          legacy,
          '[Action][ServiceNow]: Unable to create incident. Error: ServiceNow additional fields are not supported for deprecated connectors. [status=400] [method=post] [endpoint=table]',
        ),
      );
      expect(h.sim.requests.length).toBe(before);
    });

    it('closeIncident sets state 7 with the close code and notes, once', async () => {
      const before = h.sim.requests.length;
      const res = await run(legacy, {
        subAction: 'closeIncident',
        subActionParams: { incident: { externalId: sysId } },
      });
      const sent = since(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /api/now/v2/table/incident/${sysId}`,
        `PATCH /api/now/v2/table/incident/${sysId}`,
        `GET /api/now/v2/table/incident/${sysId}`,
      ]);
      expect(sent[1]?.json).toEqual({
        state: '7',
        close_code: 'Closed/Resolved by Caller',
        close_notes: 'Closed by Caller',
      });
      const expected = {
        title: h.sim.records.get('incident')?.get(sysId)?.number,
        id: sysId,
        pushedDate: pushedDate(SN_UPDATED_ON),
        url: `${h.sim.url}/nav_to.do?uri=incident.do?sys_id=${sysId}`,
      };
      expect(res).toEqual({ status: 'ok', connector_id: legacy, data: expected });

      const again = h.sim.requests.length;
      expect(
        await run(legacy, {
          subAction: 'closeIncident',
          subActionParams: { incident: { externalId: sysId } },
        }),
      ).toEqual({ status: 'ok', connector_id: legacy, data: expected });
      expect(since(again).map((r) => r.method)).toEqual(['GET']);
    });

    it('closeIncident finds the latest incident by correlation id', async () => {
      await run(legacy, {
        subAction: 'pushToService',
        subActionParams: { incident: { short_description: 'a', correlation_id: 'rule-1:alert-1' } },
      });
      const before = h.sim.requests.length;
      const res = await run(legacy, {
        subAction: 'closeIncident',
        subActionParams: { incident: { correlation_id: 'rule-1:alert-1' } },
      });
      const [lookup, close] = since(before);
      expect(lookup?.method).toBe('GET');
      expect(lookup?.path).toBe('/api/now/v2/table/incident');
      expect([...(lookup?.query ?? [])]).toEqual([
        ['sysparm_query', 'ORDERBYDESCsys_created_on^correlation_id=rule-1:alert-1'],
      ]);
      expect(close?.method).toBe('PATCH');
      expect(res.status).toBe('ok');
      expect((res.data as { id: string }).id).toBe(close?.path.split('/').at(-1));
    });

    it('closeIncident answers {} when nothing matches', async () => {
      expect(
        await run(legacy, {
          subAction: 'closeIncident',
          subActionParams: { incident: { correlation_id: 'no-such-alert' } },
        }),
      ).toEqual({ status: 'ok', connector_id: legacy, data: {} });
      expect(
        await run(legacy, {
          subAction: 'closeIncident',
          subActionParams: { incident: { externalId: 'ffff0000' } },
        }),
      ).toEqual({ status: 'ok', connector_id: legacy, data: {} });
    });

    it('closeIncident needs an id or a correlation id', async () => {
      expect(
        await run(legacy, {
          subAction: 'closeIncident',
          subActionParams: { incident: { externalId: null, correlation_id: null } },
        }),
      ).toEqual(
        failure(
          legacy,
          '[Action][ServiceNow]: Unable to close incident. Error: No correlationId or incidentId found. [status=none] [method=patch] [endpoint=table]',
        ),
      );
    });
  });

  describe('pushToService with the Elastic application (import set API)', () => {
    let sysId: string;

    it('checks the application, imports u_ fields with the additional fields, reads back', async () => {
      const before = h.sim.requests.length;
      const res = await run(app, {
        subAction: 'pushToService',
        subActionParams: {
          incident: {
            short_description: 'Malware found',
            category: 'software',
            additional_fields: JSON.stringify({ u_team: 'secops', assignment_group: 'ops' }),
          },
          comments: [{ comment: 'isolated the host', commentId: 'c-1' }],
        },
      });
      const sent = since(before);
      sysId = [...(h.sim.records.get('incident')?.keys() ?? [])].at(-1) ?? '';
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /api/x_elas2_inc_int/elastic_api/health',
        'POST /api/now/import/x_elas2_inc_int_elastic_incident',
        `GET /api/now/v2/table/incident/${sysId}`,
        'GET /api/x_elas2_inc_int/elastic_api/health',
        'POST /api/now/import/x_elas2_inc_int_elastic_incident',
        `GET /api/now/v2/table/incident/${sysId}`,
      ]);
      const fields = {
        u_short_description: 'Malware found',
        u_description: null,
        u_category: 'software',
        u_subcategory: null,
        u_correlation_id: GROUPING_KEY,
        u_correlation_display: null,
        u_severity: null,
        u_urgency: null,
        u_impact: null,
      };
      expect(sent[1]?.json).toEqual({
        u_team: 'secops',
        assignment_group: 'ops',
        ...fields,
        u_caller_id: USERNAME,
        u_opened_by: USERNAME,
      });
      expect(sent[1]?.headers.authorization).toBe(AUTH);
      expect(sent[4]?.json).toEqual({
        u_team: 'secops',
        assignment_group: 'ops',
        ...fields,
        u_work_notes: 'isolated the host',
        elastic_incident_id: sysId,
      });
      expect(res).toEqual({
        status: 'ok',
        connector_id: app,
        data: {
          title: h.sim.records.get('incident')?.get(sysId)?.number,
          id: sysId,
          pushedDate: pushedDate(SN_CREATED_ON),
          url: `${h.sim.url}/nav_to.do?uri=incident.do?sys_id=${sysId}`,
          comments: [{ commentId: 'c-1', pushedDate: pushedDate(SN_CREATED_ON) }],
        },
      });
    });

    it('updates through the import set with elastic_incident_id', async () => {
      const before = h.sim.requests.length;
      const res = await run(app, {
        subAction: 'pushToService',
        subActionParams: { incident: { short_description: 'Malware removed', externalId: sysId } },
      });
      const sent = since(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /api/x_elas2_inc_int/elastic_api/health',
        'POST /api/now/import/x_elas2_inc_int_elastic_incident',
        `GET /api/now/v2/table/incident/${sysId}`,
      ]);
      expect(sent[1]?.json).toMatchObject({
        u_short_description: 'Malware removed',
        elastic_incident_id: sysId,
      });
      expect((res.data as { pushedDate: string }).pushedDate).toBe(pushedDate(SN_UPDATED_ON));
    });

    it('closeIncident closes through the import set', async () => {
      const before = h.sim.requests.length;
      const res = await run(app, {
        subAction: 'closeIncident',
        subActionParams: { incident: { externalId: sysId } },
      });
      const sent = since(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /api/now/v2/table/incident/${sysId}`,
        'GET /api/x_elas2_inc_int/elastic_api/health',
        'POST /api/now/import/x_elas2_inc_int_elastic_incident',
        `GET /api/now/v2/table/incident/${sysId}`,
      ]);
      expect(sent[2]?.json).toEqual({
        u_state: '7',
        u_close_code: 'Closed/Resolved by Caller',
        u_close_notes: 'Closed by Caller',
        elastic_incident_id: sysId,
      });
      expect(res.status).toBe('ok');
      expect(h.sim.records.get('incident')?.get(sysId)?.state).toBe('7');
    });

    it.each([
      ['respond-with-import-error', 'Unable to resolve target record, coalesce values not present'],
      ['respond-with-no-rows', 'Unexpected result'],
    ])('an import set row failure (%s) is the user’s', async (summary, error) => {
      expect(
        await run(app, {
          subAction: 'pushToService',
          subActionParams: { incident: { short_description: summary } },
        }),
      ).toEqual(
        failure(
          app,
          `[Action][ServiceNow]: Unable to create incident. Error: ${error} [status=201] [method=post] [endpoint=import_set]`,
          'user',
        ),
      );
    });

    it('a missing Elastic application', async () => {
      h.sim.appInstalled = false;
      try {
        const reason = 'Requested URI does not represent any resource';
        expect(
          await run(app, {
            subAction: 'pushToService',
            subActionParams: { incident: { short_description: 'x' } },
          }),
        ).toEqual(
          failure(
            app,
            `[Action][ServiceNow]: Unable to create incident. Error: [Action][ServiceNow]: Unable to get application version. Error: Request failed with status code 400 Reason: ${reason} [status=400] [method=get] [endpoint=health] Reason: ${reason} [status=400] [method=post] [endpoint=import_set]`,
          ),
        );
      } finally {
        h.sim.appInstalled = true;
      }
    });
  });

  describe('OAuth (JWT bearer grant)', () => {
    let oauth: string;

    beforeAll(async () => {
      oauth = await h.create({
        config: {
          apiUrl: h.sim.url,
          usesTableApi: false,
          isOAuth: true,
          clientId: CLIENT_ID,
          jwtKeyId: KEY_ID,
          userIdentifierValue: USER_ID,
        },
        secrets: {
          clientSecret: CLIENT_SECRET,
          privateKey,
          privateKeyPassword: KEY_PASSPHRASE,
        },
      });
    });

    it('gets a token with a signed assertion, then calls with it (cached)', async () => {
      const before = h.sim.requests.length;
      const res = await run(oauth, {
        subAction: 'getChoices',
        subActionParams: { fields: ['impact'] },
      });
      expect(res).toEqual({
        status: 'ok',
        connector_id: oauth,
        data: SN_CHOICES.filter((c) => c.element === 'impact'),
      });
      const [token, call] = since(before);
      expect(token?.method).toBe('POST');
      expect(token?.path).toBe('/oauth_token.do');
      expect(token?.headers['content-type']).toBe(
        'application/x-www-form-urlencoded; charset=UTF-8',
      );
      const form = new URLSearchParams(token?.text);
      expect([...form.keys()]).toEqual(['assertion', 'client_id', 'client_secret', 'grant_type']);
      expect(form.get('client_id')).toBe(CLIENT_ID);
      expect(form.get('client_secret')).toBe(CLIENT_SECRET);
      expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
      const [header, payload] = (form.get('assertion') ?? '')
        .split('.')
        .slice(0, 2)
        .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
      expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: KEY_ID });
      expect(payload).toEqual({
        sub: USER_ID,
        aud: CLIENT_ID,
        iss: CLIENT_ID,
        iat: expect.any(Number),
        exp: payload.iat + 3600,
      });
      expect(Math.abs(payload.iat * 1000 - Date.now())).toBeLessThan(60_000);
      expect(call?.headers.authorization).toBe(`Bearer ${h.sim.tokensIssued.at(-1)}`);

      const next = h.sim.requests.length;
      await run(oauth, { subAction: 'getFields', subActionParams: {} });
      expect(since(next).map((r) => r.path)).toEqual(['/api/now/table/sys_dictionary']);
      expect(h.sim.last().headers.authorization).toBe(`Bearer ${h.sim.tokensIssued.at(-1)}`);
    });

    it('sends a null caller under OAuth, and forgets the token after a 4xx', async () => {
      const before = h.sim.requests.length;
      const res = await run(oauth, {
        subAction: 'pushToService',
        subActionParams: { incident: { short_description: 'via oauth' } },
      });
      expect(res.status).toBe('ok');
      const imported = since(before).find((r) => r.path.startsWith('/api/now/import/'));
      expect(imported?.json).toMatchObject({ u_caller_id: null, u_opened_by: null });

      const issued = h.sim.tokensIssued.length;
      expect(
        await run(oauth, {
          subAction: 'getIncident',
          subActionParams: { externalId: 'respond-with-404' },
        }),
      ).toMatchObject({ status: 'error' });
      const after = h.sim.requests.length;
      await run(oauth, { subAction: 'getFields', subActionParams: {} });
      expect(since(after).map((r) => r.path)).toEqual([
        '/oauth_token.do',
        '/api/now/table/sys_dictionary',
      ]);
      expect(h.sim.tokensIssued.length).toBe(issued + 1);
    });

    it('reports a refused token request with the OAuth error', async () => {
      const refused = await h.create({
        config: {
          apiUrl: h.sim.url,
          isOAuth: true,
          clientId: CLIENT_ID,
          jwtKeyId: KEY_ID,
          userIdentifierValue: 'someone.else@example.com',
        },
        secrets: { clientSecret: CLIENT_SECRET, privateKey, privateKeyPassword: KEY_PASSPHRASE },
      });
      expect(
        await run(refused, { subAction: 'getChoices', subActionParams: { fields: ['impact'] } }),
      ).toEqual(
        failure(
          refused,
          '[Action][ServiceNow]: Unable to get choices. Error: invalid_grant Reason: User not found [status=none] [method=get] [endpoint=table]',
        ),
      );
    });

    it('reports a private key it cannot use', async () => {
      const broken = await h.create({
        config: {
          apiUrl: h.sim.url,
          isOAuth: true,
          clientId: CLIENT_ID,
          jwtKeyId: KEY_ID,
          userIdentifierValue: USER_ID,
        },
        secrets: {
          clientSecret: CLIENT_SECRET,
          privateKey,
          privateKeyPassword: 'wrong-passphrase',
        },
      });
      const res = await run(broken, { subAction: 'getFields', subActionParams: {} });
      expect(res).toMatchObject({ status: 'error', message: RUN_FAILED, retry: true });
      expect(res.service_message).toMatch(
        /^\[Action\]\[ServiceNow\]: Unable to get fields\. Error: Unable to generate JWT token\. Error: .+ \[status=none\] \[method=get\] \[endpoint=table\]$/,
      );
    });
  });

  describe('vendor failures', () => {
    const get = (id: string) => ({ subAction: 'getIncident', subActionParams: { externalId: id } });
    const message = (id: string, error: string, status: string | number) =>
      `[Action][ServiceNow]: Unable to get incident with id ${id}. Error: ${error} [status=${status}] [method=get] [endpoint=table]`;

    const statusFailed = (status: number, reason: string) =>
      failure(
        legacy,
        message(
          `respond-with-${status}`,
          `Request failed with status code ${status} Reason: ${reason}`,
          status,
        ),
      );
    const retriedAt = (id: string, status: number, reason: string) =>
      retryAt(RETRY_AFTER_SECONDS, (retry) => ({
        status: 'error',
        connector_id: legacy,
        message: RUN_FAILED,
        service_message: message(
          id,
          `Request failed with status code ${status} Reason: ${reason}`,
          status,
        ),
        retry,
        errorSource: 'framework',
      }));

    failureClassTests((id) => run(legacy, get(id)), {
      'respond-with-400': () =>
        statusFailed(400, 'Invalid request: Field short_description is not valid'),
      'respond-with-401': () =>
        statusFailed(401, 'User Not Authenticated: Required to provide Auth information'),
      'respond-with-404': () =>
        statusFailed(
          404,
          "No Record found: Record doesn't exist or ACL restricts the record retrieval",
        ),
      'respond-with-500': () => statusFailed(500, 'Internal server error'),
      'respond-with-502': () => statusFailed(502, 'unknown: no error in error response'),
      // Without Retry-After.
      'respond-with-429': () =>
        statusFailed(429, 'Rate limit exceeded: Too many requests from user admin'),
      'respond-with-429-retry-after': retriedAt(
        'respond-with-429-retry-after',
        429,
        'Rate limit exceeded: Too many requests from user admin',
      ),
      'respond-with-503-retry-after': retriedAt(
        'respond-with-503-retry-after',
        503,
        'Internal server error',
      ),
      // An answer without a result (not the instance API).
      'respond-with-html': () =>
        failure(
          legacy,
          message(
            'respond-with-html',
            'There is an issue with your Service Now Instance. Please check .',
            'none',
          ),
        ),
      'respond-with-reset': () =>
        failure(legacy, message('respond-with-reset', 'socket hang up', 'ECONNRESET')),
    });

    it('wrong credentials', async () => {
      const wrong = await h.create({
        config: { apiUrl: h.sim.url },
        secrets: { username: USERNAME, password: 'not-the-password' },
      });
      expect(await run(wrong, { subAction: 'getFields', subActionParams: {} })).toEqual(
        failure(
          wrong,
          '[Action][ServiceNow]: Unable to get fields. Error: Request failed with status code 401 Reason: User Not Authenticated: Required to provide Auth information [status=401] [method=get] [endpoint=table]',
        ),
      );
    });

    it('an empty incident id', async () => {
      expect(await run(legacy, get(' '))).toEqual(
        failure(legacy, message(' ', 'Incident id is empty.', 'none')),
      );
    });

    it('a failed comment after the create', async () => {
      const res = await run(legacy, {
        subAction: 'pushToService',
        subActionParams: {
          incident: { short_description: 'with a bad comment' },
          comments: [{ comment: 'respond-with-500', commentId: 'c-1' }],
        },
      });
      const id = [...(h.sim.records.get('incident')?.keys() ?? [])].at(-1);
      expect(res).toEqual(
        failure(
          legacy,
          `[Action][ServiceNow]: Unable to update incident with id ${id}. Error: Request failed with status code 500 Reason: Internal server error [status=500] [method=patch] [endpoint=table]`,
        ),
      );
    });

    describe('with a short response timeout and a small response cap', () => {
      const strictGet = (id: string) => execute(h.limited.server.api, h.limited.id, get(id));

      failureClassTests(strictGet, {
        'respond-with-timeout': () =>
          failure(
            h.limited.id,
            message('respond-with-timeout', 'timeout of 300ms exceeded', 'ECONNABORTED'),
          ),
      });

      it('an answer larger than maxResponseContentLength is the user’s', async () => {
        const id = 'respond-with-large';
        expect(await strictGet(id)).toEqual(
          failure(
            h.limited.id,
            message(id, 'maxContentLength size of 1024 exceeded', 'ERR_BAD_RESPONSE'),
            'user',
          ),
        );
        expectNoSecrets(h.limited.server, [PASSWORD]);
      });
    });
  });

  it('refuses handshake as Kibana does (not implemented)', async () => {
    expect(await run(legacy, { subAction: 'handshake' })).toEqual(
      failure(legacy, '[Action][ExternalService] subAction handshake not implemented.'),
    );
  });

  describe('validation', () => {
    const create = (config: Record<string, unknown>, secrets: Record<string, unknown>) =>
      h.server.api('POST', '/api/actions/connector', {
        body: { name: 'x', connector_type_id: '.servicenow', config, secrets },
      });

    it.each([
      [
        { apiUrl: 'http://sn.example', isOAuth: true },
        { clientSecret: 'a', privateKey: 'b' },
        'error validating connector type config: userIdentifierValue must be provided when isOAuth = true',
      ],
      [
        { apiUrl: 'http://sn.example', isOAuth: true, userIdentifierValue: 'u' },
        { clientSecret: 'a', privateKey: 'b' },
        'error validating connector type config: clientId must be provided when isOAuth = true',
      ],
      [
        { apiUrl: 'http://sn.example', isOAuth: true, userIdentifierValue: 'u', clientId: 'c' },
        { clientSecret: 'a', privateKey: 'b' },
        'error validating connector type config: jwtKeyId must be provided when isOAuth = true',
      ],
      [
        { apiUrl: 'http://sn.example' },
        {},
        'error validating connector type secrets: Either basic auth or OAuth credentials must be specified',
      ],
      [
        { apiUrl: 'http://sn.example' },
        { username: 'u' },
        'error validating connector type secrets: username and password must both be specified',
      ],
      [
        { apiUrl: 'http://sn.example' },
        { clientSecret: 'a' },
        'error validating connector type secrets: clientSecret and privateKey must both be specified',
      ],
      [
        { apiUrl: 'http://sn.example' },
        { clientSecret: 'a', privateKey: 'b' },
        'error validating action type connector: username must be provided when isOAuth = false',
      ],
      [
        { apiUrl: 'http://sn.example', clientId: 'c' },
        { username: 'u', password: 'p' },
        'error validating action type connector: clientId, clientSecret, userIdentifierValue, jwtKeyId and privateKey should not be provided with isOAuth = false',
      ],
      [
        {
          apiUrl: 'http://sn.example',
          isOAuth: true,
          userIdentifierValue: 'u',
          clientId: 'c',
          jwtKeyId: 'k',
        },
        { username: 'u', password: 'p' },
        'error validating action type connector: clientSecret must be provided when isOAuth = true',
      ],
      [
        {
          apiUrl: 'http://sn.example',
          isOAuth: true,
          userIdentifierValue: 'u',
          clientId: 'c',
          jwtKeyId: 'k',
        },
        { username: 'u', password: 'p', clientSecret: 'a', privateKey: 'b' },
        'error validating action type connector: Username and password should not be provided with isOAuth = true',
      ],
      [
        { apiUrl: 'http://sn.example', table: 'x' },
        { username: 'u', password: 'p' },
        'error validating connector type config: [table]: definition for this key is missing',
      ],
    ])('refuses config %j with secrets %j', async (config, secrets, message) => {
      const res = await create(config, secrets);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(badRequest(message));
    });

    it('refuses an apiUrl outside xpack.actions.allowedHosts', async () => {
      await withServer(
        {
          settings: { 'xpack.actions.allowedHosts': ['instance.service-now.com'] },
        },
        async (guarded) => {
          const res = await guarded.api('POST', '/api/actions/connector', {
            body: {
              name: 'x',
              connector_type_id: '.servicenow',
              config: { apiUrl: h.sim.url },
              secrets: { username: USERNAME, password: PASSWORD },
            },
          });
          expect(res.status).toBe(400);
          expect(res.body).toEqual(
            badRequest(
              `error validating connector type config: error configuring connector action: target url "${h.sim.url}" is not added to the Kibana config xpack.actions.allowedHosts`,
            ),
          );
        },
      );
    });

    it('names every sub-action for an unknown one', async () => {
      expect(await run(legacy, { subAction: 'addEvent', subActionParams: {} })).toEqual({
        status: 'error',
        connector_id: legacy,
        message: [
          'error validating action params: types that failed validation:',
          '- [0.subAction]: expected value to equal [getFields]',
          '- [1.subAction]: expected value to equal [getIncident]',
          '- [2.subAction]: expected value to equal [handshake]',
          '- [3.subAction]: expected value to equal [pushToService]',
          '- [4.subAction]: expected value to equal [getChoices]',
          '- [5.subAction]: expected value to equal [closeIncident]',
        ].join('\n'),
        retry: false,
        errorSource: 'user',
      });
    });

    it.each([
      [
        { subAction: 'getChoices', subActionParams: {} },
        '- [4.subActionParams.fields]: expected value of type [array] but got [undefined]',
      ],
      [
        {
          subAction: 'pushToService',
          subActionParams: {
            incident: { short_description: 'x', additional_fields: { correlation_id: 'y' } },
          },
        },
        '- [3.subActionParams.incident.additional_fields]: The following properties cannot be defined inside additional_fields: correlation_id.',
      ],
      [
        {
          subAction: 'pushToService',
          subActionParams: {
            incident: {
              short_description: 'x',
              additional_fields: Object.fromEntries(
                Array.from({ length: 21 }, (_, i) => [`u_f${i}`, i]),
              ),
            },
          },
        },
        '- [3.subActionParams.incident.additional_fields]: A maximum of 20 fields in additional_fields can be defined at a time.',
      ],
      [
        { subAction: 'pushToService', subActionParams: { incident: { description: 'x' } } },
        '- [3.subActionParams.incident.short_description]: expected value of type [string] but got [undefined]',
      ],
      [
        { subAction: 'closeIncident', subActionParams: { incident: { state: '7' } } },
        '- [5.subActionParams.incident.state]: definition for this key is missing',
      ],
    ])('refuses params %j', async (params, line) => {
      const res = await run(legacy, params);
      expect(res).toMatchObject({ status: 'error', retry: false, errorSource: 'user' });
      expect(res.message?.split('\n')).toContain(line);
    });
  });

  it('never shows a password, client secret, key or token in a reply or a log line', () => {
    expect(h.sim.tokensIssued.length).toBeGreaterThan(0);
    expectNoSecrets(
      h.server,
      [
        PASSWORD,
        CLIENT_SECRET,
        KEY_PASSPHRASE,
        privateKey.split('\n')[1] ?? privateKey,
        AUTH.slice('Basic '.length),
        ...h.sim.tokensIssued,
      ],
      h.replies,
    );
  });
});
