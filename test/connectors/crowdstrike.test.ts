import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
  expectRetryAt,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import {
  type CrowdStrikeSimulator,
  META,
  startCrowdStrikeSimulator,
} from '../simulators/crowdstrike.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';

const TYPE = '.crowdstrike';
const CLIENT_ID = 'cs-client-4b1e';
const CLIENT_SECRET = 'cs-secret-Yq2r8VnPw';
const OTHER_ID = 'cs-client-77aa';
const OTHER_SECRET = 'cs-secret-Lk0dH3xZe';
const HOST_1 = '5f4ed7ec017c4f6a8fb4e2d6d0ae7a71';
const HOST_2 = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';

const replies: unknown[] = [];

function basic(id: string, secret: string) {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

async function run(
  server: TestServer,
  id: string,
  subAction: string,
  subActionParams?: unknown,
  space = '',
): Promise<ExecuteEnvelope> {
  const params = subActionParams === undefined ? { subAction } : { subAction, subActionParams };
  const envelope = await execute(server.api, id, params, space);
  replies.push(envelope);
  return envelope;
}

function thrown(id: string, serviceMessage: string, retry: boolean | string = true) {
  return thrownEnvelope(id, serviceMessage, retry, 'framework');
}

function tokenRequests(sim: CrowdStrikeSimulator) {
  return sim.requests.filter((r) => r.path === '/oauth2/token');
}

describe('.crowdstrike', () => {
  let sim: CrowdStrikeSimulator;
  let server: TestServer;
  let id: string;

  beforeAll(async () => {
    sim = await startCrowdStrikeSimulator({
      [CLIENT_ID]: CLIENT_SECRET,
      [OTHER_ID]: OTHER_SECRET,
    });
    server = await startServer();
    id = await createConnector(server.api, {
      connector_type_id: TYPE,
      config: { url: sim.url },
      secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(async () => {
    expectNoSecrets(
      server,
      [CLIENT_SECRET, OTHER_SECRET, ...sim.tokens.map((t) => t.token)],
      replies,
    );
    await server.close();
    await sim.close();
  });

  it('is listed with Kibana fields', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === TYPE)).toEqual({
      id: TYPE,
      name: 'CrowdStrike',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'enterprise',
      supported_feature_ids: ['endpointSecurity'],
      is_system_action_type: false,
      is_deprecated: false,
      sub_feature: 'endpointSecurity',
    });
  });

  describe('config and secrets', () => {
    const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        'a missing url',
        {},
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
        'error validating connector type config: [url]: expected value of type [string] but got [undefined]',
      ],
      [
        'a missing client secret',
        { url: 'http://127.0.0.1:1' },
        { clientId: CLIENT_ID },
        'error validating connector type secrets: [clientSecret]: expected value of type [string] but got [undefined]',
      ],
      [
        'an unknown secret',
        { url: 'http://127.0.0.1:1' },
        { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, token: 'x' },
        'error validating connector type secrets: [token]: definition for this key is missing',
      ],
    ];
    it.each(cases)('refuses %s with 400', async (_name, config, secrets, message) => {
      const res = await server.api('POST', '/api/actions/connector', {
        body: { name: 'cs', connector_type_id: TYPE, config, secrets },
      });
      replies.push(res.body);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
    });
  });

  describe('OAuth2 token', () => {
    it('gets a token with Basic client credentials, then calls the API with it', async () => {
      const before = sim.requests.length;
      const envelope = await run(server, id, 'getAgentDetails', { ids: [HOST_1, HOST_2] });
      const [tokenReq, apiReq] = sim.requests.slice(before);
      expect(tokenReq?.method).toBe('POST');
      expect(tokenReq?.path).toBe('/oauth2/token');
      expect(tokenReq?.headers.authorization).toBe(basic(CLIENT_ID, CLIENT_SECRET));
      expect(tokenReq?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(tokenReq?.headers.accept).toBe('application/json');
      expect(tokenReq?.text).toBe('');
      const token = sim.tokens.at(-1)?.token;
      expect(apiReq?.method).toBe('GET');
      expect(apiReq?.headers.authorization).toBe(`Bearer ${token}`);
      expect(apiReq?.headers['content-type']).toBe('application/json');
      expect(apiReq?.headers.accept).toBe('application/json, text/plain, */*');
      expect(sim.targets.at(-1)).toBe(`/devices/entities/devices/v2?ids=${HOST_1}%2C${HOST_2}`);
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: id,
        data: {
          meta: META,
          resources: [
            {
              device_id: HOST_1,
              hostname: 'falcon-host-1',
              platform_name: 'Linux',
              status: 'normal',
            },
            {
              device_id: HOST_2,
              hostname: 'falcon-host-2',
              platform_name: 'Windows',
              status: 'normal',
            },
          ],
          errors: [],
        },
      });
    });

    it('reuses the cached token', async () => {
      const tokens = tokenRequests(sim).length;
      await run(server, id, 'getAgentDetails', { ids: [HOST_1] });
      await run(server, id, 'getAgentOnlineStatus', { ids: [HOST_1] });
      expect(tokenRequests(sim).length).toBe(tokens);
      expect(sim.last().headers.authorization).toBe(`Bearer ${sim.tokens.at(-1)?.token}`);
    });

    it('renews a token CrowdStrike no longer accepts and tries once more', async () => {
      sim.revokeAll();
      const tokens = tokenRequests(sim).length;
      const before = sim.requests.length;
      const envelope = await run(server, id, 'getAgentOnlineStatus', { ids: [HOST_2] });
      const sent = sim.requests.slice(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /devices/entities/online-state/v1',
        'POST /oauth2/token',
        'GET /devices/entities/online-state/v1',
      ]);
      expect(tokenRequests(sim).length).toBe(tokens + 1);
      expect(sent[2]?.headers.authorization).toBe(`Bearer ${sim.tokens.at(-1)?.token}`);
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: id,
        data: {
          meta: META,
          resources: [{ id: HOST_2, state: 'online', last_seen: '2025-01-20T10:00:00Z' }],
          errors: [],
        },
      });
    });

    it('gets a new token when the cached one is about to expire', async () => {
      // A token said to live 5 s is already due for renewal.
      sim.expiresIn = 5;
      sim.revokeAll();
      const tokens = tokenRequests(sim).length;
      await run(server, id, 'getAgentDetails', { ids: [HOST_1] });
      sim.expiresIn = 1799;
      await run(server, id, 'getAgentDetails', { ids: [HOST_1] });
      await run(server, id, 'getAgentDetails', { ids: [HOST_1] });
      expect(tokenRequests(sim).length).toBe(tokens + 2);
    });

    it('forgets the token when the connector is updated', async () => {
      const updated = await server.api('PUT', `/api/actions/connector/${id}`, {
        body: {
          name: 'cs updated',
          config: { url: sim.url },
          secrets: { clientId: OTHER_ID, clientSecret: OTHER_SECRET },
        },
      });
      replies.push(updated.body);
      expect(updated.status).toBe(200);
      const before = sim.requests.length;
      await run(server, id, 'getAgentDetails', { ids: [HOST_1] });
      const [tokenReq] = sim.requests.slice(before);
      expect(tokenReq?.path).toBe('/oauth2/token');
      expect(tokenReq?.headers.authorization).toBe(basic(OTHER_ID, OTHER_SECRET));
      expect(sim.callers.at(-1)).toBe(OTHER_ID);
    });

    it('reports refused client credentials', async () => {
      const bad = await createConnector(server.api, {
        connector_type_id: TYPE,
        config: { url: sim.url },
        secrets: { clientId: CLIENT_ID, clientSecret: 'not-the-secret' },
      });
      const before = sim.requests.length;
      const envelope = await run(server, bad, 'getAgentDetails', { ids: [HOST_1] });
      expect(sim.requests.length).toBe(before + 1);
      expect(envelope).toEqual(thrown(bad, 'access denied, authorization failed', false));
    });
  });

  describe('tokens and spaces', () => {
    it('gives each space its own token, even for the same client credentials', async () => {
      for (const space of ['alpha', 'beta']) {
        const res = await server.api('POST', '/api/spaces/space', {
          body: { id: space, name: space },
        });
        expect(res.status).toBe(200);
      }
      const secrets = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
      const inAlpha = await createConnector(
        server.api,
        { connector_type_id: TYPE, config: { url: sim.url }, secrets },
        '/s/alpha',
      );
      const inBeta = await createConnector(
        server.api,
        { connector_type_id: TYPE, config: { url: sim.url }, secrets },
        '/s/beta',
      );

      const bearerOf = async (connectorId: string, space: string) => {
        const envelope = await run(
          server,
          connectorId,
          'getAgentDetails',
          { ids: [HOST_1] },
          `/s/${space}`,
        );
        expect(envelope.status).toBe('ok');
        return sim.last().headers.authorization;
      };

      const tokens = tokenRequests(sim).length;
      const alphaFirst = await bearerOf(inAlpha, 'alpha');
      const alphaToken = `Bearer ${sim.tokens.at(-1)?.token}`;
      expect(alphaFirst).toBe(alphaToken);
      expect(tokenRequests(sim).length).toBe(tokens + 1);

      const betaFirst = await bearerOf(inBeta, 'beta');
      const betaToken = `Bearer ${sim.tokens.at(-1)?.token}`;
      expect(betaFirst).toBe(betaToken);
      expect(betaToken).not.toBe(alphaToken);
      expect(tokenRequests(sim).length).toBe(tokens + 2);

      expect(await bearerOf(inAlpha, 'alpha')).toBe(alphaToken);
      expect(await bearerOf(inBeta, 'beta')).toBe(betaToken);
      expect(tokenRequests(sim).length).toBe(tokens + 2);

      // A connector of one space is not reachable from another.
      const cross = await server.api('POST', `/s/beta/api/actions/connector/${inAlpha}/_execute`, {
        body: { params: { subAction: 'getAgentDetails', subActionParams: { ids: [HOST_1] } } },
      });
      expect(cross.status).toBe(404);
    });
  });

  describe('host actions', () => {
    it('contains hosts', async () => {
      const envelope = await run(server, id, 'hostActions', {
        command: 'contain',
        ids: [HOST_1],
        comment: 'isolating from Kibana',
        alertIds: ['alert-1'],
      });
      const req = sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/devices/entities/devices-actions/v2');
      expect(sim.targets.at(-1)).toBe('/devices/entities/devices-actions/v2?action_name=contain');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.json).toEqual({ ids: [HOST_1] });
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: id,
        data: {
          meta: META,
          resources: [{ id: HOST_1, path: `/devices/entities/devices/v2?ids=${HOST_1}` }],
          errors: [],
        },
      });
    });

    it('lifts containment with action parameters as name/value pairs', async () => {
      await run(server, id, 'hostActions', {
        command: 'lift_containment',
        ids: [HOST_1, HOST_2],
        actionParameters: { note: 'released', ticket: 42 },
      });
      expect(sim.targets.at(-1)).toBe(
        '/devices/entities/devices-actions/v2?action_name=lift_containment',
      );
      expect(sim.last().json).toEqual({
        ids: [HOST_1, HOST_2],
        action_parameters: [
          { name: 'note', value: 'released' },
          { name: 'ticket', value: 42 },
        ],
      });
    });

    it('refuses another command', async () => {
      const envelope = await run(server, id, 'hostActions', { command: 'reboot', ids: [HOST_1] });
      expect(envelope).toEqual(
        thrownEnvelope(
          id,
          'Request validation failed (Error: [command]: types that failed validation:\n- [command.0]: expected value to equal [contain]\n- [command.1]: expected value to equal [lift_containment])',
          true,
          'user',
        ),
      );
    });

    it('needs device ids', async () => {
      const envelope = await run(server, id, 'getAgentDetails', {});
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [ids]: expected value of type [array] but got [undefined])',
      );
    });
  });

  describe('real-time response', () => {
    const command = 'runscript -CloudFile="collect-triage"';

    it('opens a batch session for the hosts and runs the command in it', async () => {
      const before = sim.requests.length;
      const envelope = await run(server, id, 'executeRTRCommand', {
        command,
        endpoint_ids: [HOST_1, HOST_2],
      });
      const [init, cmd] = sim.requests.slice(before);
      expect(init?.method).toBe('POST');
      expect(init?.path).toBe('/real-time-response/combined/batch-init-session/v1');
      expect(init?.json).toEqual({ host_ids: [HOST_1, HOST_2] });
      expect(cmd?.method).toBe('POST');
      expect(cmd?.path).toBe('/real-time-response/combined/batch-command/v1');
      const batchId = [...sim.sessions.keys()].at(-1);
      expect(cmd?.json).toEqual({
        base_command: 'runscript',
        command_string: command,
        batch_id: batchId,
        hosts: [HOST_1, HOST_2],
        persist_all: false,
      });
      expect(envelope.status).toBe('ok');
      expect(envelope.data).toEqual({
        combined: {
          resources: Object.fromEntries(
            [HOST_1, HOST_2].map((aid) => [
              aid,
              {
                session_id: `session-${aid}`,
                task_id: `task-${aid}`,
                complete: true,
                stdout: `ran on ${aid} via batch-command`,
                stderr: '',
                base_command: 'runscript',
                aid,
                errors: [],
                query_time: 0.7,
                offline_queued: false,
              },
            ]),
          ),
        },
        meta: META,
        errors: [],
      });
    });

    it('keeps using the session of the same hosts, through each command endpoint', async () => {
      const sessions = sim.sessions.size;
      const batchId = [...sim.sessions.keys()].at(-1);
      await run(server, id, 'batchActiveResponderExecuteRTR', {
        command,
        endpoint_ids: [HOST_2, HOST_1],
      });
      expect(sim.last().path).toBe(
        '/real-time-response/combined/batch-active-responder-command/v1',
      );
      expect(sim.last().json).toMatchObject({ batch_id: batchId });
      await run(server, id, 'batchAdminExecuteRTR', { command, endpoint_ids: [HOST_1, HOST_2] });
      expect(sim.last().path).toBe('/real-time-response/combined/batch-admin-command/v1');
      expect(sim.last().json).toMatchObject({ batch_id: batchId });
      expect(sim.sessions.size).toBe(sessions);
    });

    it('opens another session for other hosts', async () => {
      const sessions = sim.sessions.size;
      await run(server, id, 'executeRTRCommand', { command, endpoint_ids: [HOST_1] });
      expect(sim.sessions.size).toBe(sessions + 1);
      expect(sim.sessions.get([...sim.sessions.keys()].at(-1) ?? '')).toEqual([HOST_1]);
    });

    it('refreshes a session older than five minutes and drops one idle for ten', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const hosts = [HOST_2];
      await run(server, id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      const batchId = [...sim.sessions.keys()].at(-1);

      vi.setSystemTime(Date.now() + 6 * 60 * 1000);
      let before = sim.requests.length;
      await run(server, id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      const [refresh, cmd] = sim.requests.slice(before);
      expect(refresh?.path).toBe('/real-time-response/combined/batch-refresh-session/v1');
      expect(refresh?.json).toEqual({ batch_id: batchId });
      expect(cmd?.json).toMatchObject({ batch_id: batchId });

      vi.setSystemTime(Date.now() + 11 * 60 * 1000);
      const sessions = sim.sessions.size;
      before = sim.requests.length;
      const envelope = await run(server, id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      expect(envelope.status).toBe('ok');
      const paths = sim.requests.slice(before).map((r) => r.path);
      expect(paths).toContain('/real-time-response/combined/batch-init-session/v1');
      expect(paths).not.toContain('/real-time-response/combined/batch-refresh-session/v1');
      expect(sim.sessions.size).toBe(sessions + 1);
    });

    it('opens a new session when CrowdStrike no longer knows the old one', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const hosts = ['rtr-host-9'];
      await run(server, id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      const old = [...sim.sessions.keys()].at(-1) ?? '';
      sim.sessions.delete(old);
      vi.setSystemTime(Date.now() + 6 * 60 * 1000);
      const before = sim.requests.length;
      const envelope = await run(server, id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      expect(sim.requests.slice(before).map((r) => r.path)).toEqual([
        '/real-time-response/combined/batch-refresh-session/v1',
        '/real-time-response/combined/batch-init-session/v1',
        '/real-time-response/combined/batch-command/v1',
      ]);
      expect(envelope.status).toBe('ok');
    });

    it('runs only runscript', async () => {
      const before = sim.requests.length;
      const envelope = await run(server, id, 'executeRTRCommand', {
        command: 'ls /etc',
        endpoint_ids: ['rtr-host-7'],
      });
      expect(envelope).toEqual(thrown(id, 'Command not supported'));
      // As in Kibana, the session is opened before the command is looked at.
      expect(sim.requests.slice(before).map((r) => r.path)).toEqual([
        '/real-time-response/combined/batch-init-session/v1',
      ]);
    });

    it('needs the endpoint ids', async () => {
      const envelope = await run(server, id, 'executeRTRCommand', { command });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [endpoint_ids]: expected value of type [array] but got [undefined])',
      );
    });

    it('lists the cloud scripts', async () => {
      const envelope = await run(server, id, 'getRTRCloudScripts', {});
      const req = sim.last();
      expect(req.method).toBe('GET');
      expect(sim.targets.at(-1)).toBe('/real-time-response/entities/scripts/v1');
      expect(envelope.data).toEqual({
        meta: META,
        resources: [
          {
            id: 'script-1',
            name: 'collect-triage',
            platform: ['linux'],
            permission_type: 'public',
            file_type: 'script',
          },
        ],
        errors: [],
      });
    });
  });

  describe('vendor failures', () => {
    const cases: Array<[string, string, boolean]> = [
      ['400', 'simulated Bad Request', false],
      ['404', 'simulated Not Found', false],
      ['429', 'simulated Too Many Requests', true],
      ['500', 'simulated Internal Server Error', true],
      ['503', 'simulated Service Unavailable', true],
    ];
    it.each(cases)(
      'answers %s with the first error CrowdStrike gives',
      async (magic, text, retry) => {
        const envelope = await run(server, id, 'getAgentDetails', {
          ids: [`respond-with-${magic}`],
        });
        expect(envelope).toEqual(thrown(id, text, retry));
      },
    );

    it('reports a 401 that a new token does not cure, after one renewal', async () => {
      const before = sim.requests.length;
      const envelope = await run(server, id, 'getAgentDetails', { ids: ['respond-with-401'] });
      expect(sim.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /devices/entities/devices/v2',
        'POST /oauth2/token',
        'GET /devices/entities/devices/v2',
      ]);
      expect(envelope).toEqual(thrown(id, 'simulated Unauthorized', false));
    });

    it('retries a 429 at the moment CrowdStrike names', async () => {
      const envelope = await run(server, id, 'hostActions', {
        command: 'contain',
        ids: ['respond-with-429-retry-after'],
      });
      expect(envelope.service_message).toBe('simulated Too Many Requests');
      expectRetryAt(envelope.retry, RETRY_AFTER_SECONDS);
    });

    it('answers a body without errors with the body', async () => {
      const envelope = await run(server, id, 'getAgentDetails', { ids: ['respond-with-html-502'] });
      expect(envelope).toEqual(
        thrown(id, 'API Error: "<html><body><h1>502 Bad Gateway</h1></body></html>"', true),
      );
    });

    it('says which address refused the connection', async () => {
      const gone = await createConnector(server.api, {
        connector_type_id: TYPE,
        config: { url: 'http://127.0.0.1:1' },
        secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      });
      const envelope = await run(server, gone, 'getAgentDetails', { ids: [HOST_1] });
      expect(envelope).toEqual(
        thrown(gone, 'Status code: undefined. Message: Connection Refused: 127.0.0.1:1'),
      );
    });

    it('names an unknown sub action', async () => {
      const envelope = await run(server, id, 'getAgents', {});
      expect(envelope).toEqual(
        thrown(
          id,
          `Sub action "getAgents" is not registered. Connector id: ${id}. Connector name: CrowdStrike. Connector type: .crowdstrike`,
        ),
      );
    });
  });
});

describe('.crowdstrike with tight limits', () => {
  let sim: CrowdStrikeSimulator;
  let server: TestServer;
  let id: string;

  beforeAll(async () => {
    sim = await startCrowdStrikeSimulator({ [CLIENT_ID]: CLIENT_SECRET });
    server = await startServer({
      settings: {
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
        'xpack.actions.allowedHosts': ['127.0.0.1'],
      },
    });
    id = await createConnector(server.api, {
      connector_type_id: TYPE,
      config: { url: sim.url },
      secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    });
  });
  afterAll(async () => {
    expectNoSecrets(server, [CLIENT_SECRET, ...sim.tokens.map((t) => t.token)], replies);
    await server.close();
    await sim.close();
  });

  const noAnswer = 'Status code: undefined. Message: Unknown API Error: {}';
  it.each([
    ['timeout', 'a slow answer'],
    ['reset', 'a dropped connection'],
    ['large', 'an answer larger than maxResponseContentLength'],
  ])('reports %s (%s) as an unknown API error', async (magic) => {
    const envelope = await run(server, id, 'getAgentDetails', { ids: [`respond-with-${magic}`] });
    expect(envelope).toEqual(thrown(id, noAnswer));
  });

  it('refuses an API host outside xpack.actions.allowedHosts', async () => {
    const res = await server.api('POST', '/api/actions/connector', {
      body: {
        name: 'cs',
        connector_type_id: TYPE,
        config: { url: 'https://api.crowdstrike.com' },
        secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      },
    });
    replies.push(res.body);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'error validating connector type config: error validating url: target url "https://api.crowdstrike.com" is not added to the Kibana config xpack.actions.allowedHosts',
    });
  });
});
