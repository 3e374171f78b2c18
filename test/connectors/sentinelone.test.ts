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
import type { RecordedRequest } from '../simulators/base.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';
import {
  AGENT_FILE_BYTES,
  API,
  SCRIPT_RESULT_BYTES,
  startSentinelOneSimulator,
} from '../simulators/sentinelone.js';

const TOKEN = 's1-api-token-Zq81fK2mV';
const WRONG_TOKEN = 's1-wrong-token-Pw9x';
const TYPE = '.sentinelone';

/** The replies of both servers of this file, for the check that no secret is in them. */
const replies: unknown[] = [];

function queryPairs(req: RecordedRequest): Array<[string, string]> {
  return [...req.query.entries()];
}

function thrown(id: string, serviceMessage: string, retry: boolean | string = true) {
  return thrownEnvelope(id, serviceMessage, retry, 'framework');
}

function s1Body(status: number, title: string) {
  return JSON.stringify({
    errors: [{ code: status * 10000 + 10, detail: 'Simulated failure', title }],
  });
}

describe('.sentinelone', () => {
  const h = connectorHarness({
    type: TYPE,
    simulator: () => startSentinelOneSimulator(TOKEN),
    connector: (sim) => ({ config: { url: sim.url }, secrets: { token: TOKEN } }),
    replies,
  });
  const run = subActionRunner(h);

  afterAll(() => {
    expectNoSecrets(h.server, [TOKEN, WRONG_TOKEN], replies);
  });

  it('is listed with Kibana fields', async () => {
    await expectListedType(
      h.server,
      {
        id: TYPE,
        name: 'Sentinel One',
        minimum_license_required: 'enterprise',
        supported_feature_ids: ['endpointSecurity'],
        sub_feature: 'endpointSecurity',
      },
      'endpointSecurity',
    );
  });

  it('returns the connector without its token', async () => {
    const res = await h.server.api('GET', `/api/actions/connector/${h.id}`);
    h.replies.push(res.body);
    expect(res.body).toEqual({
      id: h.id,
      name: `test ${TYPE}`,
      connector_type_id: TYPE,
      config: { url: h.sim.url },
      is_preconfigured: false,
      is_system_action: false,
      is_deprecated: false,
      is_missing_secrets: false,
      is_connector_type_deprecated: false,
    });
  });

  describe('config and secrets', () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        'a missing url',
        {},
        { token: TOKEN },
        'error validating connector type config: [url]: expected value of type [string] but got [undefined]',
      ],
      [
        'an unknown config key',
        { url: 'http://127.0.0.1:1', apiUrl: 'x' },
        { token: TOKEN },
        'error validating connector type config: [apiUrl]: definition for this key is missing',
      ],
      [
        'a missing token',
        { url: 'http://127.0.0.1:1' },
        {},
        'error validating connector type secrets: [token]: expected value of type [string] but got [undefined]',
      ],
      [
        'a token that is not a string',
        { url: 'http://127.0.0.1:1' },
        { token: 42 },
        'error validating connector type secrets: [token]: expected value of type [string] but got [number]',
      ],
    ];
    it.each(cases)('refuses %s with 400', async (_name, config, secrets, message) => {
      await expectCreateRefused(
        h.server.api,
        { name: 's1', connector_type_id: TYPE, config, secrets },
        message,
      );
    });
  });

  describe('getAgents', () => {
    it('sends the filters and the API token as query parameters', async () => {
      const envelope = await run(h.id, 'getAgents', {
        osTypes: 'linux',
        computerName: 'host-connected',
      });
      const req = h.sim.last();
      expect(req.method).toBe('GET');
      expect(req.path).toBe(`${API}/agents`);
      // In the order of Kibana's filter schema, whatever order the caller used.
      expect(queryPairs(req)).toEqual([
        ['computerName', 'host-connected'],
        ['osTypes', 'linux'],
        ['APIToken', TOKEN],
      ]);
      expect(req.headers.accept).toBe('application/json, text/plain, */*');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.headers.authorization).toBeUndefined();
      expect(req.text).toBe('');
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          pagination: { totalItems: 1, nextCursor: null },
          errors: null,
          data: [
            {
              id: '1913920934584665209',
              uuid: '0f2d4b4c-3b93-4f3c-8c1a-0c8f6c5e2a11',
              computerName: 'host-connected',
              networkStatus: 'connected',
              osType: 'linux',
              isActive: true,
              accountId: '1392053568574369781',
              siteName: 'Default site',
              agentVersion: '23.4.2.14',
            },
          ],
        },
      });
    });

    it('sends alert ids the way axios serialises arrays', async () => {
      await run(h.id, 'getAgents', { uuid: 'u-1', alertIds: ['a1', 'a2'] });
      expect(queryPairs(h.sim.last())).toEqual([
        ['uuid', 'u-1'],
        ['alertIds[]', 'a1'],
        ['alertIds[]', 'a2'],
        ['APIToken', TOKEN],
      ]);
      expect(h.sim.targets.at(-1)).toBe(
        `${API}/agents?uuid=u-1&alertIds[]=a1&alertIds[]=a2&APIToken=${TOKEN}`,
      );
    });

    it('keeps : $ , [ ] readable in query values and encodes spaces as +', async () => {
      await run(h.id, 'getAgents', {
        query: 'name:host a,b',
        createdAt__gte: '2025-01-01T00:00:00Z',
      });
      expect(h.sim.targets.at(-1)).toBe(
        `${API}/agents?createdAt__gte=2025-01-01T00:00:00Z&query=name:host+a,b&APIToken=${TOKEN}`,
      );
    });

    it('accepts no params at all', async () => {
      const envelope = await run(h.id, 'getAgents');
      expect(queryPairs(h.sim.last())).toEqual([['APIToken', TOKEN]]);
      expect(envelope.status).toBe('ok');
    });

    it('refuses an unknown filter before calling SentinelOne', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'getAgents', { hostname: 'x' });
      expect(envelope).toEqual(
        thrownEnvelope(
          h.id,
          'Request validation failed (Error: [hostname]: definition for this key is missing)',
          true,
          'user',
        ),
      );
      expect(h.sim.requests.length).toBe(before);
    });
  });

  describe('isolateHost and releaseHost', () => {
    it('isolates the first agent found, by its id', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'isolateHost', {
        computerName: 'host-connected',
        alertIds: ['alert-1'],
      });
      const [lookup, action] = h.sim.requests.slice(before);
      expect(queryPairs(lookup as RecordedRequest)).toEqual([
        ['computerName', 'host-connected'],
        ['APIToken', TOKEN],
      ]);
      expect(action?.method).toBe('POST');
      expect(action?.path).toBe(`${API}/agents/actions/disconnect`);
      expect(queryPairs(action as RecordedRequest)).toEqual([['APIToken', TOKEN]]);
      expect(action?.headers['content-type']).toBe('application/json');
      expect(action?.json).toEqual({ filter: { ids: '1913920934584665209' } });
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { data: { affected: 1 } },
      });
    });

    it('refuses to isolate an agent already isolated', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'isolateHost', { computerName: 'host-connected' });
      expect(envelope).toEqual(thrown(h.id, 'Agent already isolated'));
      expect(h.sim.requests.length).toBe(before + 1);
    });

    it('releases an isolated agent', async () => {
      const envelope = await run(h.id, 'releaseHost', { computerName: 'host-connected' });
      const action = h.sim.last();
      expect(action.method).toBe('POST');
      expect(action.path).toBe(`${API}/agents/actions/connect`);
      expect(action.json).toEqual({ filter: { ids: '1913920934584665209' } });
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { data: { affected: 1 } },
      });
      expect(h.sim.agents[0]?.networkStatus).toBe('connected');
    });

    it('refuses to release an agent that is not isolated', async () => {
      const envelope = await run(h.id, 'releaseHost', { computerName: 'host-connected' });
      expect(envelope).toEqual(thrown(h.id, 'Agent not isolated'));
    });

    it('says when no agent matches', async () => {
      const envelope = await run(h.id, 'isolateHost', { computerName: 'nobody' });
      expect(envelope).toEqual(thrown(h.id, 'No agents found'));
    });
  });

  describe('scripts', () => {
    it('lists remote scripts with only the filters given', async () => {
      const envelope = await run(h.id, 'getRemoteScripts', {
        osTypes: 'linux',
        limit: 5,
        isAvailableForArs: true,
      });
      const req = h.sim.last();
      expect(req.method).toBe('GET');
      expect(req.path).toBe(`${API}/remote-scripts`);
      expect(queryPairs(req)).toEqual([
        ['osTypes', 'linux'],
        ['isAvailableForArs', 'true'],
        ['limit', '5'],
        ['APIToken', TOKEN],
      ]);
      expect(envelope.data).toEqual({
        pagination: { totalItems: 1, nextCursor: null },
        errors: null,
        data: [
          {
            id: '1466645476786791838',
            scriptName: 'Collect Logs',
            scriptType: 'dataCollection',
            osTypes: ['linux'],
            inputRequired: false,
          },
        ],
      });
    });

    it('refuses a limit above 1000', async () => {
      const envelope = await run(h.id, 'getRemoteScripts', { limit: 1001 });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [limit]: types that failed validation:\n- [limit.0]: Value must be equal to or lower than [1000].\n- [limit.1]: expected value to equal [null])',
      );
    });

    it('executes a script, sending results to the SentinelOne cloud by default', async () => {
      const envelope = await run(h.id, 'executeScript', {
        filter: { ids: '1913920934584665209' },
        script: { scriptId: '1466645476786791838', inputParams: '--verbose', taskDescription: 't' },
        alertIds: ['alert-9'],
      });
      const req = h.sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`${API}/remote-scripts/execute`);
      expect(queryPairs(req)).toEqual([['APIToken', TOKEN]]);
      expect(req.json).toEqual({
        data: {
          outputDestination: 'SentinelCloud',
          scriptId: '1466645476786791838',
          inputParams: '--verbose',
          taskDescription: 't',
        },
        filter: { ids: '1913920934584665209' },
      });
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          data: {
            pendingExecutionId: null,
            affected: 1,
            parentTaskId: '1927371436540716288',
            pending: false,
          },
        },
      });
    });

    it('keeps an output destination the caller chose', async () => {
      await run(h.id, 'executeScript', {
        filter: { uuids: '0f2d4b4c-3b93-4f3c-8c1a-0c8f6c5e2a11' },
        script: { scriptId: 's', outputDestination: 'Local', outputDirectory: '/tmp' },
      });
      expect(h.sim.last().json).toEqual({
        data: { outputDestination: 'Local', scriptId: 's', outputDirectory: '/tmp' },
        filter: { uuids: '0f2d4b4c-3b93-4f3c-8c1a-0c8f6c5e2a11' },
      });
    });

    it('needs ids or uuids in the filter', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'executeScript', {
        filter: {},
        script: { scriptId: 's' },
      });
      expect(envelope).toEqual(thrown(h.id, "A filter must be defined; either 'ids' or 'uuids'"));
      expect(h.sim.requests.length).toBe(before);
    });

    it('needs a script id', async () => {
      const envelope = await run(h.id, 'executeScript', { filter: { ids: '1' }, script: {} });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [script.scriptId]: expected value of type [string] but got [undefined])',
      );
      expect(envelope.errorSource).toBe('user');
    });

    it('reads the status of a script run by its parent task id', async () => {
      const envelope = await run(h.id, 'getRemoteScriptStatus', {
        parentTaskId: '1927371436540716288',
      });
      const req = h.sim.last();
      expect(req.method).toBe('GET');
      expect(req.path).toBe(`${API}/remote-scripts/status`);
      expect(queryPairs(req)).toEqual([
        ['parent_task_id', '1927371436540716288'],
        ['APIToken', TOKEN],
      ]);
      expect(envelope.data).toEqual({
        pagination: { totalItems: 1, nextCursor: null },
        errors: null,
        data: [
          {
            id: '1927371436557493505',
            parentTaskId: '1927371436540716288',
            status: 'completed',
            detailedStatus: 'Completed',
            agentId: '1913920934584665209',
          },
        ],
      });
    });

    it('asks for the download links of script results', async () => {
      const envelope = await run(h.id, 'getRemoteScriptResults', { taskIds: ['t1', 't2'] });
      const req = h.sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`${API}/remote-scripts/fetch-files`);
      expect(req.json).toEqual({ data: { taskIds: ['t1', 't2'] } });
      expect(envelope.data).toEqual({
        data: {
          download_links: ['t1', 't2'].map((taskId) => ({
            taskId,
            fileName: `${taskId}.zip`,
            downloadUrl: `${h.sim.url}/downloads/script-results/${taskId}.zip?signature=sim-signature-1`,
          })),
        },
        errors: [],
      });
    });

    it('streams the script results from the pre-signed link, without the API token', async () => {
      const before = h.sim.requests.length;
      const res = await h.server.api('POST', `/api/actions/connector/${h.id}/_execute`, {
        body: {
          params: { subAction: 'downloadRemoteScriptResults', subActionParams: { taskId: 't7' } },
        },
      });
      h.replies.push(res.text);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/zip');
      expect(Buffer.from(res.text, 'latin1')).toEqual(SCRIPT_RESULT_BYTES);
      const [links, download] = h.sim.requests.slice(before);
      expect(links?.json).toEqual({ data: { taskIds: ['t7'] } });
      expect(download?.method).toBe('GET');
      expect(download?.path).toBe('/downloads/script-results/t7.zip');
      expect(queryPairs(download as RecordedRequest)).toEqual([['signature', 'sim-signature-1']]);
    });

    it('says when SentinelOne gives no download link', async () => {
      const envelope = await run(h.id, 'downloadRemoteScriptResults', { taskId: 'no-link' });
      expect(envelope).toEqual(
        thrown(h.id, 'Download URL for script results of task id [no-link] not found'),
      );
    });

    it('reports a failed download as SentinelOne answered it', async () => {
      const envelope = await run(h.id, 'downloadRemoteScriptResults', {
        taskId: 'expired-link',
      });
      expect(envelope).toEqual(
        thrown(
          h.id,
          `Status code: 403. Message: API Error: [Forbidden] Request failed with status code 403\nResponse body: ${JSON.stringify(
            { errors: [{ code: 4030010, detail: 'Link expired', title: 'Forbidden' }] },
          )}`,
          false,
        ),
      );
    });

    it('needs a task id', async () => {
      const envelope = await run(h.id, 'downloadRemoteScriptResults', { taskId: '' });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [taskId]: value has length [0] but it must have a minimum length of [1].)',
      );
    });
  });

  describe('agent files and activities', () => {
    it('asks the agent to upload files in an archive protected by the pass code', async () => {
      const envelope = await run(h.id, 'fetchAgentFiles', {
        agentId: '1913920934584665209',
        zipPassCode: 'Secret-Zip-123',
        files: ['/var/log/syslog'],
      });
      const req = h.sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe(`${API}/agents/1913920934584665209/actions/fetch-files`);
      expect(queryPairs(req)).toEqual([['APIToken', TOKEN]]);
      expect(req.json).toEqual({
        data: { password: 'Secret-Zip-123', files: ['/var/log/syslog'] },
      });
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { data: { success: true } },
      });
    });

    it('refuses a pass code shorter than 10 characters', async () => {
      const envelope = await run(h.id, 'fetchAgentFiles', {
        agentId: 'a',
        zipPassCode: 'short',
        files: [],
      });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [zipPassCode]: value has length [5] but it must have a minimum length of [10].)',
      );
    });

    it('streams an uploaded agent file', async () => {
      const res = await h.server.api('POST', `/api/actions/connector/${h.id}/_execute`, {
        body: {
          params: {
            subAction: 'downloadAgentFile',
            subActionParams: { agentId: '1913920934584665209', activityId: '1927371436700099841' },
          },
        },
      });
      h.replies.push(res.text);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/zip');
      expect(Buffer.from(res.text, 'latin1')).toEqual(AGENT_FILE_BYTES);
      const req = h.sim.last();
      expect(req.method).toBe('GET');
      expect(req.path).toBe(`${API}/agents/1913920934584665209/uploads/1927371436700099841`);
      expect(queryPairs(req)).toEqual([['APIToken', TOKEN]]);
    });

    it('reports a refused download', async () => {
      const envelope = await run(h.id, 'downloadAgentFile', {
        agentId: 'respond-with-404',
        activityId: '1',
      });
      expect(envelope).toEqual(
        thrown(
          h.id,
          `Status code: 404. Message: API Error: [Not Found] Request failed with status code 404\nResponse body: ${s1Body(404, 'Not Found')}`,
          false,
        ),
      );
    });

    it('lists activities with the filters given', async () => {
      const envelope = await run(h.id, 'getActivities', {
        agentIds: '1913920934584665209',
        activityTypes: '81',
        sortOrder: 'desc',
        limit: 1,
        includeHidden: false,
      });
      const req = h.sim.last();
      expect(req.method).toBe('GET');
      expect(req.path).toBe(`${API}/activities`);
      expect(queryPairs(req)).toEqual([
        ['activityTypes', '81'],
        ['agentIds', '1913920934584665209'],
        ['includeHidden', 'false'],
        ['limit', '1'],
        ['sortOrder', 'desc'],
        ['APIToken', TOKEN],
      ]);
      expect(envelope.data).toEqual({
        pagination: { totalItems: 1, nextCursor: null },
        errors: null,
        data: [
          {
            id: '1927371436700099841',
            activityType: 81,
            agentId: '1913920934584665209',
            primaryDescription: 'The management user started fetching files',
            createdAt: '2025-01-20T10:00:00.000Z',
          },
        ],
      });
    });
  });

  describe('framework rules', () => {
    it('names an unknown sub action', async () => {
      const envelope = await run(h.id, 'unisolate', {});
      expect(envelope).toEqual(
        thrown(
          h.id,
          `Sub action "unisolate" is not registered. Connector id: ${h.id}. Connector name: Sentinel One. Connector type: .sentinelone`,
        ),
      );
    });

    it('refuses sub action params that are not an object', async () => {
      const envelope = await run(h.id, 'getAgents', 'host-1');
      expect(envelope.status).toBe('error');
      expect(envelope.message).toMatch(/^error validating action params: \[subActionParams\]/);
      expect(envelope.retry).toBe(false);
      expect(envelope.errorSource).toBe('user');
    });
  });

  describe('vendor failures', () => {
    // As Kibana does; a proxy's 502 page is answered with its text.
    const statusFailed = (status: number, text: string, retry: boolean) =>
      thrown(
        h.id,
        `Status code: ${status}. Message: API Error: [${text}] Request failed with status code ${status}\nResponse body: ${s1Body(status, text)}`,
        retry,
      );
    failureClassTests((magic) => run(h.id, 'getAgents', { computerName: magic }), {
      'respond-with-400': () => statusFailed(400, 'Bad Request', false),
      'respond-with-403': () => statusFailed(403, 'Forbidden', false),
      'respond-with-404': () => statusFailed(404, 'Not Found', false),
      'respond-with-429': () => statusFailed(429, 'Too Many Requests', true),
      'respond-with-500': () => statusFailed(500, 'Internal Server Error', true),
      'respond-with-503': () => statusFailed(503, 'Service Unavailable', true),
      'respond-with-html-502': () =>
        thrown(
          h.id,
          'Status code: 502. Message: API Error: [Bad Gateway] Request failed with status code 502\nResponse body: "<html><body><h1>502 Bad Gateway</h1></body></html>"',
          true,
        ),
    });

    it('retries a 429 at the moment SentinelOne names', async () => {
      const envelope = await run(h.id, 'getAgents', {
        computerName: 'respond-with-429-retry-after',
      });
      expect(envelope.service_message).toBe(
        `Status code: 429. Message: API Error: [Too Many Requests] Request failed with status code 429\nResponse body: ${s1Body(429, 'Too Many Requests')}`,
      );
      expectRetryAt(envelope.retry, RETRY_AFTER_SECONDS);
    });

    it('answers a wrong API token with its own message', async () => {
      const wrong = await h.create({
        config: { url: h.sim.url },
        secrets: { token: WRONG_TOKEN },
      });
      const envelope = await run(wrong, 'getAgents', {});
      expect(queryPairs(h.sim.last())).toEqual([['APIToken', WRONG_TOKEN]]);
      expect(envelope).toEqual(
        thrown(
          wrong,
          `Status code: 401. Message: Unauthorized API Error (401)\nResponse body: ${JSON.stringify(
            {
              errors: [{ code: 4010010, detail: null, title: 'Authentication Failed' }],
            },
          )}`,
          false,
        ),
      );
    });

    it('answers a console that is not there', async () => {
      const gone = await h.create({
        config: { url: 'http://127.0.0.1:1' },
        secrets: { token: TOKEN },
      });
      const envelope = await run(gone, 'getAgents', {});
      expect(envelope).toEqual(
        thrown(
          gone,
          'Status code: undefined. Message: connect ECONNREFUSED 127.0.0.1:1\nResponse body: {}',
        ),
      );
    });
  });
});

describe('.sentinelone with tight limits', () => {
  const h = connectorHarness({
    type: TYPE,
    simulator: () => startSentinelOneSimulator(TOKEN),
    settings: () => ({ ...SHORT_LIMITS, 'xpack.actions.allowedHosts': ['127.0.0.1'] }),
    connector: (sim) => ({ config: { url: sim.url }, secrets: { token: TOKEN } }),
    replies,
  });
  const run = subActionRunner(h);

  afterAll(() => {
    expectNoSecrets(h.server, [TOKEN], replies);
  });

  // Gives up on a slow answer, reports a dropped connection, stops reading an answer larger
  // than maxResponseContentLength.
  const noAnswer = (message: string) =>
    thrown(h.id, `Status code: undefined. Message: ${message}\nResponse body: {}`);
  failureClassTests((magic) => run(h.id, 'getAgents', { computerName: magic }), {
    'respond-with-timeout': () => noAnswer('timeout of 300ms exceeded'),
    'respond-with-reset': () => noAnswer('socket hang up'),
    'respond-with-large': () => noAnswer('maxContentLength size of 1024 exceeded'),
  });

  it('refuses a console host outside xpack.actions.allowedHosts', async () => {
    h.replies.push(
      await expectCreateRefused(
        h.server.api,
        {
          name: 's1',
          connector_type_id: TYPE,
          config: { url: 'https://usea1.sentinelone.net' },
          secrets: { token: TOKEN },
        },
        'error validating connector type config: error validating url: target url "https://usea1.sentinelone.net" is not added to the Kibana config xpack.actions.allowedHosts',
      ),
    );
  });

  it('refuses a download link outside xpack.actions.allowedHosts', async () => {
    const envelope = await run(h.id, 'downloadRemoteScriptResults', {
      taskId: 'foreign-host',
    });
    expect(envelope).toEqual(
      thrown(
        h.id,
        'error configuring connector action: target url "http://files.s1-cdn.invalid/downloads/script-results/foreign-host.zip?signature=sim-signature-1" is not added to the Kibana config xpack.actions.allowedHosts',
      ),
    );
  });
});
