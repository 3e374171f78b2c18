import { afterAll, describe, expect, it } from 'vitest';
import {
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  expectRetryAt,
  failureClassTests,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS, subActionRunner } from '../helpers/harness.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';
import {
  type DefenderApp,
  type DefenderSimulator,
  RESULT_BYTES,
  startDefenderSimulator,
} from '../simulators/microsoft_defender_endpoint.js';

const TYPE = '.microsoft_defender_endpoint';
const APP: DefenderApp = {
  tenantId: 'tenant-7f3e21',
  clientId: 'mde-client-0c4d',
  clientSecret: 'mde-secret-Xs91kQv7',
  scope: 'https://securitycenter.onmicrosoft.com/windowsatpservice/.default',
};
const HOST_1 = '1e5bc9d7e413ddd7902c2932e418702b84d0cc07';
const HOST_2 = '7d1f7b3c0b6c4c1b8f4d6d9d2e3a4b5c6d7e8f90';
const TARGET = '6a2b4a8c-0d4f-4d7e-9c3e-sim000000001';

/** The replies of both servers of this file, for the check that no secret is in them. */
const replies: unknown[] = [];

function config(sim: DefenderSimulator) {
  return {
    clientId: APP.clientId,
    tenantId: APP.tenantId,
    oAuthServerUrl: sim.url,
    oAuthScope: APP.scope,
    apiUrl: sim.url,
  };
}

function thrown(id: string, serviceMessage: string, retry: boolean | string = true) {
  return thrownEnvelope(id, serviceMessage, retry, 'framework');
}

function mdeBody(code: string, message: string) {
  return JSON.stringify({ error: { code, message, target: TARGET } });
}

describe('.microsoft_defender_endpoint', () => {
  const h = connectorHarness({
    type: TYPE,
    simulator: () => startDefenderSimulator(APP),
    connector: (sim) => ({ config: config(sim), secrets: { clientSecret: APP.clientSecret } }),
    replies,
  });
  const run = subActionRunner(h);
  const tokenRequests = () => h.sim.requests.filter((r) => r.path.endsWith('/oauth2/v2.0/token'));

  afterAll(() => {
    expectNoSecrets(h.server, [APP.clientSecret, ...h.sim.tokens.map((t) => t.token)], replies);
  });

  it('is listed with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: TYPE,
      name: 'Microsoft Defender for Endpoint',
      minimum_license_required: 'enterprise',
      supported_feature_ids: ['endpointSecurity'],
      sub_feature: 'endpointSecurity',
    });
  });

  describe('config and secrets', () => {
    it.each([
      [
        'a missing tenant',
        { tenantId: undefined },
        {},
        'error validating connector type config: [tenantId]: expected value of type [string] but got [undefined]',
      ],
      [
        // Kibana's connector route refuses blank strings before the type sees them.
        'an empty client id',
        { clientId: '' },
        {},
        "[request body.config.clientId]: value '' is not valid",
      ],
      [
        'an unknown config key',
        { url: 'https://api.securitycenter.microsoft.com' },
        {},
        'error validating connector type config: [url]: definition for this key is missing',
      ],
      [
        'an empty client secret',
        {},
        { clientSecret: '' },
        "[request body.secrets.clientSecret]: value '' is not valid",
      ],
      [
        'a client secret that is not a string',
        {},
        { clientSecret: 7 },
        'error validating connector type secrets: [clientSecret]: expected value of type [string] but got [number]',
      ],
    ])('refuses %s with 400', async (_name, configChange, secretsChange, message) => {
      replies.push(
        await expectCreateRefused(
          h.server.api,
          {
            name: 'mde',
            connector_type_id: TYPE,
            config: { ...config(h.sim), ...configChange },
            secrets: { clientSecret: APP.clientSecret, ...secretsChange },
          },
          message,
        ),
      );
    });
  });

  describe('token and machines', () => {
    it('gets an Entra ID token for the tenant, then calls the API with it', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'getAgentDetails', { id: HOST_1 });
      const [tokenReq, apiReq] = h.sim.requests.slice(before);
      expect(tokenReq?.method).toBe('POST');
      expect(tokenReq?.path).toBe(`/${APP.tenantId}/oauth2/v2.0/token`);
      expect(tokenReq?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(tokenReq?.headers.authorization).toBeUndefined();
      expect(tokenReq?.text).toBe(
        `grant_type=client_credentials&client_id=${APP.clientId}&scope=${encodeURIComponent(APP.scope)}&client_secret=${APP.clientSecret}`,
      );
      expect(apiReq?.method).toBe('GET');
      expect(apiReq?.path).toBe(`/api/machines/${HOST_1}`);
      expect(apiReq?.headers.authorization).toBe(`Bearer ${h.sim.tokens.at(-1)?.token}`);
      expect(apiReq?.headers['content-type']).toBe('application/json');
      expect(apiReq?.headers.accept).toBe('application/json, text/plain, */*');
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          '@odata.context': `${h.sim.url}/api/$metadata#Machines/$entity`,
          id: HOST_1,
          computerDnsName: 'mde-host-1.contoso.local',
          osPlatform: 'Windows11',
          healthStatus: 'Active',
          lastIpAddress: '10.0.0.4',
        },
      });
    });

    it('reuses the cached token', async () => {
      const tokens = tokenRequests().length;
      await run(h.id, 'getAgentDetails', { id: HOST_2 });
      await run(h.id, 'getLibraryFiles', {});
      expect(tokenRequests().length).toBe(tokens);
    });

    it('renews a token Defender no longer accepts and tries once more', async () => {
      h.sim.revokeAll();
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'getAgentDetails', { id: HOST_2 });
      expect(h.sim.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /api/machines/${HOST_2}`,
        `POST /${APP.tenantId}/oauth2/v2.0/token`,
        `GET /api/machines/${HOST_2}`,
      ]);
      expect(h.sim.last().headers.authorization).toBe(`Bearer ${h.sim.tokens.at(-1)?.token}`);
      expect(envelope.status).toBe('ok');
    });

    it('lists machines with an OData query built from the filters', async () => {
      const envelope = await run(h.id, 'getAgentList', {
        osPlatform: 'Linux',
        id: [HOST_1, HOST_2],
        page: 1,
        pageSize: 5,
      });
      expect(h.sim.last().method).toBe('GET');
      // axios leaves the quotes bare; a URL parser sends them as %27, which means the same.
      expect(h.sim.targets.at(-1)).toBe(
        `/api/machines?$count=true&$top=5&$filter=id+in+(%27${HOST_1}%27,%27${HOST_2}%27)+AND+osPlatform+eq+%27Linux%27`,
      );
      expect(h.sim.last().query.get('$filter')).toBe(
        `id in ('${HOST_1}','${HOST_2}') AND osPlatform eq 'Linux'`,
      );
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          '@odata.context': `${h.sim.url}/api/$metadata#Machines`,
          '@odata.count': 1,
          value: [
            {
              id: HOST_2,
              computerDnsName: 'mde-host-2.contoso.local',
              osPlatform: 'Linux',
              healthStatus: 'Inactive',
              lastIpAddress: '10.0.0.4',
            },
          ],
          page: 1,
          pageSize: 5,
          total: 1,
        },
      });
    });

    it('pages with $skip and defaults to 20 per page', async () => {
      await run(h.id, 'getAgentList', { page: 3 });
      expect(h.sim.targets.at(-1)).toBe('/api/machines?$count=true&$top=20&$skip=40');
      const envelope = await run(h.id, 'getAgentList', {});
      expect(h.sim.targets.at(-1)).toBe('/api/machines?$count=true&$top=20');
      expect(envelope.data).toMatchObject({ page: 1, pageSize: 20, total: 2 });
    });

    it('refuses a page larger than 1000', async () => {
      const envelope = await run(h.id, 'getAgentList', { pageSize: 1001 });
      expect(envelope).toEqual(
        thrownEnvelope(
          h.id,
          'Request validation failed (Error: [pageSize]: Value must be equal to or lower than [1000].)',
          true,
          'user',
        ),
      );
    });

    it('refuses an unknown health status', async () => {
      const envelope = await run(h.id, 'getAgentList', { healthStatus: 'Sleeping' });
      expect(envelope.service_message).toMatch(
        /^Request validation failed \(Error: \[healthStatus\]: types that failed validation:\n- \[healthStatus\.0\]: types that failed validation:/,
      );
    });
  });

  describe('response actions', () => {
    let isolation: string;

    it('isolates a machine fully', async () => {
      const envelope = await run(h.id, 'isolateHost', { id: HOST_1, comment: 'case 42' });
      const req = h.sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`/api/machines/${HOST_1}/isolate`);
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.json).toEqual({ Comment: 'case 42', IsolationType: 'Full' });
      const action = h.sim.actions.at(-1);
      isolation = String(action?.id);
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { '@odata.context': `${h.sim.url}/api/$metadata#MachineActions/$entity`, ...action },
      });
      expect(action).toMatchObject({ type: 'Isolate', machineId: HOST_1, status: 'Pending' });
    });

    it('says to wait or cancel when an action is already running', async () => {
      const envelope = await run(h.id, 'releaseHost', { id: HOST_1, comment: 'too soon' });
      expect(h.sim.last().path).toBe(`/api/machines/${HOST_1}/unisolate`);
      expect(envelope).toEqual(
        thrown(
          h.id,
          "Status code: 400. Message: Action is already in progress. Please wait or force clear with 'cancel' response action",
          false,
        ),
      );
    });

    it('cancels the running action', async () => {
      const envelope = await run(h.id, 'cancelAction', {
        actionId: isolation,
        comment: 'clearing',
      });
      const req = h.sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`/api/machineactions/${isolation}/cancel`);
      expect(req.json).toEqual({ Comment: 'clearing' });
      expect(envelope.data).toMatchObject({ id: isolation, status: 'Cancelled' });
    });

    it('releases a machine', async () => {
      const envelope = await run(h.id, 'releaseHost', { id: HOST_1, comment: 'all clear' });
      const req = h.sim.last();
      expect(req.path).toBe(`/api/machines/${HOST_1}/unisolate`);
      expect(req.json).toEqual({ Comment: 'all clear' });
      expect(envelope.data).toMatchObject({ type: 'Unisolate', requestorComment: 'all clear' });
      await run(h.id, 'cancelAction', { actionId: h.sim.actions.at(-1)?.id, comment: 'x' });
    });

    it('needs a comment to isolate', async () => {
      const envelope = await run(h.id, 'isolateHost', { id: HOST_1 });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [comment]: expected value of type [string] but got [undefined])',
      );
    });

    it('runs a library script through live response, with --noargs by default', async () => {
      const envelope = await run(h.id, 'runScript', {
        id: HOST_2,
        parameters: { scriptName: 'collect.ps1' },
      });
      const req = h.sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`/api/machines/${HOST_2}/runliveresponse`);
      expect(req.json).toEqual({
        Commands: [
          {
            type: 'RunScript',
            params: [
              { key: 'ScriptName', value: 'collect.ps1' },
              { key: 'Args', value: '--noargs' },
            ],
          },
        ],
      });
      expect(envelope.data).toMatchObject({ type: 'LiveResponse', machineId: HOST_2 });
      await run(h.id, 'cancelAction', { actionId: h.sim.actions.at(-1)?.id, comment: 'x' });
    });

    it('passes script arguments and the comment', async () => {
      await run(h.id, 'runScript', {
        id: HOST_2,
        comment: 'triage',
        parameters: { scriptName: 'collect.ps1', args: '-Days 3' },
      });
      expect(h.sim.last().json).toEqual({
        Comment: 'triage',
        Commands: [
          {
            type: 'RunScript',
            params: [
              { key: 'ScriptName', value: 'collect.ps1' },
              { key: 'Args', value: '-Days 3' },
            ],
          },
        ],
      });
    });

    it('lists machine actions, filtered and sorted', async () => {
      const envelope = await run(h.id, 'getActions', {
        status: 'Cancelled',
        type: ['Isolate', 'LiveResponse'],
        sortField: 'creationDateTimeUtc',
        sortDirection: 'asc',
        pageSize: 2,
      });
      expect(h.sim.targets.at(-1)).toBe(
        '/api/machineactions?$count=true&$top=2&$orderby=creationDateTimeUtc+asc&$filter=status+eq+%27Cancelled%27+AND+type+in+(%27Isolate%27,%27LiveResponse%27)',
      );
      const cancelled = h.sim.actions.filter(
        (a) => a.status === 'Cancelled' && (a.type === 'Isolate' || a.type === 'LiveResponse'),
      );
      expect(envelope.data).toEqual({
        '@odata.context': `${h.sim.url}/api/$metadata#MachineActions`,
        '@odata.count': cancelled.length,
        value: cancelled.slice(0, 2),
        page: 1,
        pageSize: 2,
        total: cancelled.length,
      });
    });

    it('streams the result of a live response command from its download link', async () => {
      const actionId = String(h.sim.actions.at(-1)?.id);
      const before = h.sim.requests.length;
      const res = await h.server.api('POST', `/api/actions/connector/${h.id}/_execute`, {
        body: { params: { subAction: 'getActionResults', subActionParams: { id: actionId } } },
      });
      h.replies.push(res.text);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/octet-stream');
      expect(Buffer.from(res.text)).toEqual(RESULT_BYTES);
      const [link, blob] = h.sim.requests.slice(before);
      expect(link?.method).toBe('GET');
      expect(link?.path).toBe(
        `/api/machineactions/${actionId}/GetLiveResponseResultDownloadLink(index=0)`,
      );
      expect(link?.headers.authorization).toMatch(/^Bearer /);
      expect(blob?.path).toBe(`/blobs/live-response/${actionId}/result.json`);
      expect(blob?.headers.authorization).toBeUndefined();
    });

    it('says when there is no result to download', async () => {
      const envelope = await run(h.id, 'getActionResults', { id: 'no-result' });
      expect(envelope).toEqual(
        thrown(h.id, 'Download URL for script results of machineId [no-result] not found'),
      );
    });

    it('lists the live response library', async () => {
      const envelope = await run(h.id, 'getLibraryFiles', {});
      expect(h.sim.last().method).toBe('GET');
      expect(h.sim.targets.at(-1)).toBe('/api/libraryfiles');
      expect(envelope.data).toEqual({
        '@odata.context': `${h.sim.url}/api/$metadata#LibraryFiles`,
        value: [
          {
            fileName: 'collect.ps1',
            sha256: 'a3b1c7d9e5f2a3b1c7d9e5f2a3b1c7d9e5f2a3b1c7d9e5f2a3b1c7d9e5f2a3b1',
            description: 'Collects triage data',
            creationTime: '2024-11-05T09:00:00.000Z',
            lastUpdatedTime: '2024-11-05T09:00:00.000Z',
            createdBy: 'secops@contoso.com',
            hasParameters: true,
            parametersDescription: '-Days <n>',
          },
        ],
      });
    });

    it('refuses params for the library listing', async () => {
      const envelope = await run(h.id, 'getLibraryFiles', { all: true });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [all]: definition for this key is missing)',
      );
    });
  });

  describe('testConnector', () => {
    it('calls each API with a test machine and counts ResourceNotFound as access', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'testConnector', {});
      expect(h.sim.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /api/machines/elastic-connector-test',
        'POST /api/machines/elastic-connector-test/isolate',
        'POST /api/machines/elastic-connector-test/unisolate',
        'GET /api/machineactions',
        'POST /api/machines/elastic-connector-test/runliveresponse',
      ]);
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          results: [
            'API call to Machines API was successful',
            'API call to Machine Isolate was successful',
            'API call to Machine Release was successful',
            'API call to Machine Actions was successful',
            'API call to Machine RunScript was successful',
          ],
        },
      });
    });
  });

  describe('vendor failures', () => {
    // As Kibana does; a proxy's 502 page is answered with its text.
    const statusFailed = (status: number, text: string, retry: boolean) =>
      thrown(
        h.id,
        `Status code: ${status}. Message: API Error: [${text}] Request failed with status code ${status}\nURL called:[get] ${h.sim.url}/api/machines/respond-with-${status}\nResponse body: ${mdeBody(text.replace(/ /g, ''), `simulated ${text}`)}`,
        retry,
      );
    failureClassTests((machine) => run(h.id, 'getAgentDetails', { id: machine }), {
      'respond-with-400': () => statusFailed(400, 'Bad Request', false),
      'respond-with-403': () => statusFailed(403, 'Forbidden', false),
      'respond-with-429': () => statusFailed(429, 'Too Many Requests', true),
      'respond-with-500': () => statusFailed(500, 'Internal Server Error', true),
      'respond-with-503': () => statusFailed(503, 'Service Unavailable', true),
      'respond-with-html-502': () =>
        thrown(
          h.id,
          `Status code: 502. Message: API Error: [Bad Gateway] Request failed with status code 502\nURL called:[get] ${h.sim.url}/api/machines/respond-with-html-502\nResponse body: "<html><body><h1>502 Bad Gateway</h1></body></html>"`,
          true,
        ),
    });

    it('reports a 401 that a new token does not cure, after one renewal', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'getAgentDetails', { id: 'respond-with-401' });
      expect(h.sim.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /api/machines/respond-with-401',
        `POST /${APP.tenantId}/oauth2/v2.0/token`,
        'GET /api/machines/respond-with-401',
      ]);
      expect(envelope).toEqual(
        thrown(
          h.id,
          `Status code: 401. Message: Unauthorized API Error (401)\nURL called:[get] ${h.sim.url}/api/machines/respond-with-401\nResponse body: ${mdeBody('Unauthorized', 'simulated Unauthorized')}`,
          false,
        ),
      );
    });

    it('answers an unknown machine with ResourceNotFound', async () => {
      const envelope = await run(h.id, 'getAgentDetails', { id: 'nope' });
      expect(envelope).toEqual(
        thrown(
          h.id,
          `Status code: 404. Message: API Error: [Not Found] Request failed with status code 404\nURL called:[get] ${h.sim.url}/api/machines/nope\nResponse body: ${mdeBody('ResourceNotFound', 'Machine nope was not found')}`,
          false,
        ),
      );
    });

    it('retries a 429 at the moment Defender names', async () => {
      const envelope = await run(h.id, 'isolateHost', {
        id: 'respond-with-429-retry-after',
        comment: 'c',
      });
      expect(envelope.service_message).toMatch(
        /^Status code: 429\. Message: API Error: \[Too Many Requests\] Request failed with status code 429\nURL called:\[post\] /,
      );
      expectRetryAt(envelope.retry, RETRY_AFTER_SECONDS);
    });

    it('reports refused client credentials', async () => {
      const bad = await h.create({
        config: config(h.sim),
        secrets: { clientSecret: 'not-the-secret' },
      });
      const envelope = await run(bad, 'getAgentDetails', { id: HOST_1 });
      expect(envelope).toEqual(
        thrown(
          bad,
          `Status code: 401. Message: Unauthorized API Error (401)\nURL called:[post] ${h.sim.url}/${APP.tenantId}/oauth2/v2.0/token\nResponse body: ${JSON.stringify(
            {
              error: 'invalid_client',
              error_description: 'AADSTS7000215: Invalid client secret provided.',
              error_codes: [7000215],
            },
          )}`,
          false,
        ),
      );
    });

    it('reports an unknown tenant', async () => {
      const bad = await h.create({
        config: { ...config(h.sim), tenantId: 'other-tenant' },
        secrets: { clientSecret: APP.clientSecret },
      });
      const envelope = await run(bad, 'getLibraryFiles', {});
      expect(envelope.service_message).toBe(
        `Status code: 400. Message: API Error: [Bad Request] Request failed with status code 400\nURL called:[post] ${h.sim.url}/other-tenant/oauth2/v2.0/token\nResponse body: ${JSON.stringify(
          {
            error: 'invalid_request',
            error_description: "AADSTS90002: Tenant 'other-tenant' not found.",
            error_codes: [90002],
          },
        )}`,
      );
      expect(envelope.retry).toBe(false);
    });

    it('answers a login host that is not there', async () => {
      const gone = await h.create({
        config: { ...config(h.sim), oAuthServerUrl: 'http://127.0.0.1:1' },
        secrets: { clientSecret: APP.clientSecret },
      });
      const envelope = await run(gone, 'getAgentDetails', { id: HOST_1 });
      expect(envelope).toEqual(
        thrown(
          gone,
          'Status code: undefined. Message: connect ECONNREFUSED 127.0.0.1:1\nURL called:[undefined] undefined\nResponse body: {}',
        ),
      );
    });
  });
});

describe('.microsoft_defender_endpoint with tight limits', () => {
  const h = connectorHarness({
    type: TYPE,
    simulator: () => startDefenderSimulator(APP),
    settings: () => ({ ...SHORT_LIMITS, 'xpack.actions.allowedHosts': ['127.0.0.1'] }),
    connector: (sim) => ({ config: config(sim), secrets: { clientSecret: APP.clientSecret } }),
    replies,
  });
  const run = subActionRunner(h);

  afterAll(() => {
    expectNoSecrets(h.server, [APP.clientSecret, ...h.sim.tokens.map((t) => t.token)], replies);
  });

  // As axios words them.
  const noAnswer = (text: string) =>
    thrown(
      h.id,
      `Status code: undefined. Message: ${text}\nURL called:[undefined] undefined\nResponse body: {}`,
    );
  failureClassTests((machine) => run(h.id, 'getAgentDetails', { id: machine }), {
    'respond-with-timeout': () => noAnswer('timeout of 300ms exceeded'),
    'respond-with-reset': () => noAnswer('socket hang up'),
    'respond-with-large': () => noAnswer('maxContentLength size of 1024 exceeded'),
  });

  it.each([
    ['oAuthServerUrl', 'https://login.microsoftonline.com'],
    ['apiUrl', 'https://api.securitycenter.microsoft.com'],
  ])('refuses a %s outside xpack.actions.allowedHosts', async (key, url) => {
    replies.push(
      await expectCreateRefused(
        h.server.api,
        {
          name: 'mde',
          connector_type_id: TYPE,
          config: { ...config(h.sim), [key]: url },
          secrets: { clientSecret: APP.clientSecret },
        },
        `error validating connector type config: error validating url: target url "${url}" is not added to the Kibana config xpack.actions.allowedHosts`,
      ),
    );
  });
});
