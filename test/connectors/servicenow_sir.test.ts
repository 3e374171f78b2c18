import { beforeAll, describe, expect, it } from 'vitest';
import {
  badRequest,
  type ExecuteEnvelope,
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
import {
  SN_CHOICES,
  SN_CREATED_ON,
  SN_FIELDS,
  startServiceNowSimulator,
} from '../simulators/servicenow.js';

const USERNAME = 'secops-integration';
const PASSWORD = 'sir-Pa55word-secret';
const AUTH = basicAuth(USERNAME, PASSWORD);
const GROUPING_KEY = '{{rule.id}}:{{alert.id}}';
const HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

function failure(connectorId: string, serviceMessage: string, errorSource = 'framework') {
  return thrownEnvelope(connectorId, serviceMessage, true, errorSource);
}

const incidentFields = {
  short_description: 'Lateral movement',
  description: null,
  category: null,
  subcategory: null,
  correlation_id: GROUPING_KEY,
  correlation_display: null,
  priority: '1',
};

describe('.servicenow-sir (SecOps)', () => {
  const secrets = { username: USERNAME, password: PASSWORD };
  const h = connectorHarness({
    type: '.servicenow-sir',
    simulator: () => startServiceNowSimulator({ username: USERNAME, password: PASSWORD }),
    limited: {
      settings: () => SHORT_LIMITS,
      connector: (sn) => ({ config: { apiUrl: sn.url, usesTableApi: false }, secrets }),
    },
  });
  let legacy: string;
  let app: string;

  const run = (id: string, params: unknown): Promise<ExecuteEnvelope> => h.run(params, id);
  const since = (before: number) => h.sim.requests.slice(before);
  const lastSysId = () => [...(h.sim.records.get('sn_si_incident')?.keys() ?? [])].at(-1) ?? '';

  beforeAll(async () => {
    legacy = await h.create({ config: { apiUrl: h.sim.url, usesTableApi: true }, secrets });
    app = await h.create({ config: { apiUrl: h.sim.url, usesTableApi: false }, secrets });
  });

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.servicenow-sir',
      name: 'ServiceNow SecOps',
      minimum_license_required: 'platinum',
      supported_feature_ids: ['alerting', 'cases', 'siem', 'workflows'],
    });
  });

  it('reports the Table API connector deprecated, the application one not', async () => {
    const list = await h.server.api<Array<{ id: string; is_deprecated: boolean }>>(
      'GET',
      '/api/actions/connectors',
    );
    h.replies.push(list.text);
    expect(list.body.find((c) => c.id === legacy)?.is_deprecated).toBe(true);
    expect(list.body.find((c) => c.id === app)?.is_deprecated).toBe(false);
  });

  it('getChoices and getFields query the security incident table', async () => {
    const choices = await run(app, {
      subAction: 'getChoices',
      subActionParams: { fields: ['priority', 'category'] },
    });
    expect(choices).toEqual({
      status: 'ok',
      connector_id: app,
      data: SN_CHOICES.filter((c) => c.element === 'priority' || c.element === 'category'),
    });
    expect(h.sim.last().path).toBe('/api/now/table/sys_choice');
    expect(h.sim.last().query.get('sysparm_query')).toBe(
      'name=task^ORname=sn_si_incident^element=priority^ORelement=category^language=en',
    );
    expect(h.sim.last().headers.authorization).toBe(AUTH);

    expect(await run(app, { subAction: 'getFields', subActionParams: {} })).toEqual({
      status: 'ok',
      connector_id: app,
      data: SN_FIELDS,
    });
    expect(h.sim.last().query.get('sysparm_query')).toBe(
      'name=task^ORname=sn_si_incident^internal_type=string',
    );
  });

  it('Table API: sends the observables comma-joined in the incident', async () => {
    const before = h.sim.requests.length;
    const res = await run(legacy, {
      subAction: 'pushToService',
      subActionParams: {
        incident: {
          short_description: 'Lateral movement',
          priority: '1',
          dest_ip: ['10.0.0.1', '10.0.0.2'],
          source_ip: '192.168.1.5',
          malware_hash: [HASH],
          malware_url: null,
        },
      },
    });
    const sysId = lastSysId();
    const sent = since(before);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/now/v2/table/sn_si_incident',
      `GET /api/now/v2/table/sn_si_incident/${sysId}`,
    ]);
    expect(sent[0]?.json).toEqual({
      ...incidentFields,
      dest_ip: '10.0.0.1,10.0.0.2',
      malware_hash: HASH,
      malware_url: null,
      source_ip: '192.168.1.5',
      caller_id: USERNAME,
      opened_by: USERNAME,
    });
    expect(sent[0]?.headers.authorization).toBe(AUTH);
    expect(res).toEqual({
      status: 'ok',
      connector_id: legacy,
      data: {
        title: h.sim.records.get('sn_si_incident')?.get(sysId)?.number,
        id: sysId,
        pushedDate: new Date(`${SN_CREATED_ON} GMT`).toISOString(),
        url: `${h.sim.url}/nav_to.do?uri=sn_si_incident.do?sys_id=${sysId}`,
      },
    });
  });

  it('application: imports the incident, then adds the observables in bulk', async () => {
    const before = h.sim.requests.length;
    const res = await run(app, {
      subAction: 'pushToService',
      subActionParams: {
        incident: {
          short_description: 'Lateral movement',
          priority: '1',
          dest_ip: '10.0.0.1, 10.0.0.2|10.0.0.1',
          source_ip: ['10.0.0.2', '192.168.1.5'],
          malware_hash: HASH,
          malware_url: 'https://bad.example/a\nhttps://bad.example/b',
        },
        comments: [{ comment: 'contained', commentId: 'c-1' }],
      },
    });
    const sysId = lastSysId();
    const sent = since(before);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /api/x_elas2_sir_int/elastic_api/health',
      'POST /api/now/import/x_elas2_sir_int_elastic_si_incident',
      `GET /api/now/v2/table/sn_si_incident/${sysId}`,
      'GET /api/x_elas2_sir_int/elastic_api/health',
      'POST /api/now/import/x_elas2_sir_int_elastic_si_incident',
      `GET /api/now/v2/table/sn_si_incident/${sysId}`,
      'GET /api/x_elas2_sir_int/elastic_api/health',
      `POST /api/x_elas2_sir_int/elastic_api/incident/${sysId}/observables/bulk`,
    ]);
    const imported = {
      u_short_description: 'Lateral movement',
      u_description: null,
      u_category: null,
      u_subcategory: null,
      u_correlation_id: GROUPING_KEY,
      u_correlation_display: null,
      u_dest_ip: null,
      u_malware_hash: null,
      u_malware_url: null,
      u_source_ip: null,
      u_priority: '1',
    };
    expect(sent[1]?.json).toEqual({ ...imported, u_caller_id: USERNAME, u_opened_by: USERNAME });
    expect(sent[4]?.json).toEqual({
      ...imported,
      u_work_notes: 'contained',
      elastic_incident_id: sysId,
    });
    expect(sent[7]?.headers.authorization).toBe(AUTH);
    expect(sent[7]?.json).toEqual([
      { value: '10.0.0.1', type: 'ipv4-addr' },
      { value: '10.0.0.2', type: 'ipv4-addr' },
      { value: '192.168.1.5', type: 'ipv4-addr' },
      { value: HASH, type: 'SHA256' },
      { value: 'https://bad.example/a', type: 'URL' },
      { value: 'https://bad.example/b', type: 'URL' },
    ]);
    expect(res).toEqual({
      status: 'ok',
      connector_id: app,
      data: {
        title: h.sim.records.get('sn_si_incident')?.get(sysId)?.number,
        id: sysId,
        pushedDate: new Date(`${SN_CREATED_ON} GMT`).toISOString(),
        url: `${h.sim.url}/nav_to.do?uri=sn_si_incident.do?sys_id=${sysId}`,
        comments: [
          { commentId: 'c-1', pushedDate: new Date(`${SN_CREATED_ON} GMT`).toISOString() },
        ],
      },
    });
  });

  it('application: no observables, no bulk call', async () => {
    const before = h.sim.requests.length;
    await run(app, {
      subAction: 'pushToService',
      subActionParams: { incident: { short_description: 'quiet', dest_ip: [] } },
    });
    expect(since(before).some((r) => r.path.includes('/observables'))).toBe(false);
  });

  it('getIncident answers the security incident record', async () => {
    const sysId = lastSysId();
    const res = await run(app, {
      subAction: 'getIncident',
      subActionParams: { externalId: sysId },
    });
    expect(h.sim.last().path).toBe(`/api/now/v2/table/sn_si_incident/${sysId}`);
    expect(res).toEqual({
      status: 'ok',
      connector_id: app,
      data: h.sim.records.get('sn_si_incident')?.get(sysId),
    });
  });

  it('a failed observables call, after the incident was created', async () => {
    const res = await run(app, {
      subAction: 'pushToService',
      subActionParams: {
        incident: { short_description: 'bad url', malware_url: 'respond-with-500' },
      },
    });
    expect(res).toEqual(
      failure(
        app,
        `[Action][ServiceNow]: Unable to add observables to security incident with id ${lastSysId()}. Error: Request failed with status code 500 Reason: Internal server error [status=500] [method=post] [endpoint=other]`,
      ),
    );
  });

  it('refuses handshake as Kibana does (not implemented)', async () => {
    expect(await run(app, { subAction: 'handshake', subActionParams: {} })).toEqual(
      failure(app, '[Action][ExternalService] subAction handshake not implemented.'),
    );
  });

  describe('vendor failures', () => {
    const create = (summary: string) => ({
      subAction: 'pushToService',
      subActionParams: { incident: { short_description: summary } },
    });
    const message = (error: string, status: string | number) =>
      `[Action][ServiceNow]: Unable to create incident. Error: ${error} [status=${status}] [method=post] [endpoint=import_set]`;
    const statusFailed = (status: number, reason: string) =>
      failure(app, message(`Request failed with status code ${status} Reason: ${reason}`, status));

    failureClassTests((magic) => run(app, create(magic)), {
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
      'respond-with-429-retry-after': retryAt(RETRY_AFTER_SECONDS, (retry) => ({
        status: 'error',
        connector_id: app,
        message: RUN_FAILED,
        service_message: message(
          'Request failed with status code 429 Reason: Rate limit exceeded: Too many requests from user admin',
          429,
        ),
        retry,
        errorSource: 'framework',
      })),
      'respond-with-reset': () => failure(app, message('socket hang up', 'ECONNRESET')),
    });

    // On the server with a short response timeout and a small response cap; an answer larger
    // than it is the user's.
    failureClassTests((magic) => execute(h.limited.server.api, h.limited.id, create(magic)), {
      'respond-with-timeout': () =>
        failure(h.limited.id, message('timeout of 300ms exceeded', 'ECONNABORTED')),
      'respond-with-large': () =>
        failure(
          h.limited.id,
          message('maxContentLength size of 1024 exceeded', 'ERR_BAD_RESPONSE'),
          'user',
        ),
    });
  });

  describe('validation', () => {
    it('names every sub-action for an unknown one (no closeIncident here)', async () => {
      expect(
        await run(app, { subAction: 'closeIncident', subActionParams: { incident: {} } }),
      ).toEqual({
        status: 'error',
        connector_id: app,
        message: [
          'error validating action params: types that failed validation:',
          '- [0.subAction]: expected value to equal [getFields]',
          '- [1.subAction]: expected value to equal [getIncident]',
          '- [2.subAction]: expected value to equal [handshake]',
          '- [3.subAction]: expected value to equal [pushToService]',
          '- [4.subAction]: expected value to equal [getChoices]',
        ].join('\n'),
        retry: false,
        errorSource: 'user',
      });
    });

    it('refuses an observable that is neither text nor a list of texts', async () => {
      const res = await run(app, {
        subAction: 'pushToService',
        subActionParams: { incident: { short_description: 'x', dest_ip: 5 } },
      });
      expect(res).toMatchObject({ status: 'error', retry: false, errorSource: 'user' });
      expect(res.message).toContain(
        '- [3.subActionParams.incident.dest_ip]: types that failed validation:',
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
              connector_type_id: '.servicenow-sir',
              config: { apiUrl: h.sim.url },
              secrets: { username: USERNAME, password: PASSWORD },
            },
            `error validating connector type config: error configuring connector action: target url "${h.sim.url}" is not added to the Kibana config xpack.actions.allowedHosts`,
          );
        },
      );
    });

    it('refuses incomplete basic credentials', async () => {
      const res = await h.server.api('POST', '/api/actions/connector', {
        body: {
          name: 'x',
          connector_type_id: '.servicenow-sir',
          config: { apiUrl: h.sim.url },
          secrets: { password: PASSWORD },
        },
      });
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type secrets: username and password must both be specified',
        ),
      );
    });
  });

  it('never shows the password in a reply or a log line', () => {
    expectNoSecrets(h.server, [PASSWORD, AUTH.slice('Basic '.length)], h.replies);
  });
});
