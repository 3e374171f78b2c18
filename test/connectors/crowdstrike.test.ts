import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  createConnector,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  expectRetryAt,
  failureClassTests,
  subActionCall,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS, subActionRunner } from '../helpers/harness.js';
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

/** The replies of both servers of this file, for the check that no secret is in them. */
const replies: unknown[] = [];

function basic(id: string, secret: string) {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

function thrown(id: string, serviceMessage: string, retry: boolean | string = true) {
  return thrownEnvelope(id, serviceMessage, retry, 'framework');
}

function tokenRequests(sim: CrowdStrikeSimulator) {
  return sim.requests.filter((r) => r.path === '/oauth2/token');
}

describe('.crowdstrike', () => {
  const h = connectorHarness({
    type: TYPE,
    simulator: () =>
      startCrowdStrikeSimulator({ [CLIENT_ID]: CLIENT_SECRET, [OTHER_ID]: OTHER_SECRET }),
    connector: (sim) => ({
      config: { url: sim.url },
      secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    }),
    replies,
  });
  const run = subActionRunner(h);

  afterEach(() => {
    vi.useRealTimers();
  });
  afterAll(() => {
    expectNoSecrets(
      h.server,
      [CLIENT_SECRET, OTHER_SECRET, ...h.sim.tokens.map((t) => t.token)],
      replies,
    );
  });

  it('is listed with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: TYPE,
      name: 'CrowdStrike',
      minimum_license_required: 'enterprise',
      supported_feature_ids: ['endpointSecurity'],
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
      h.replies.push(
        await expectCreateRefused(
          h.server.api,
          { name: 'cs', connector_type_id: TYPE, config, secrets },
          message,
        ),
      );
    });
  });

  describe('OAuth2 token', () => {
    it('gets a token with Basic client credentials, then calls the API with it', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'getAgentDetails', { ids: [HOST_1, HOST_2] });
      const [tokenReq, apiReq] = h.sim.requests.slice(before);
      expect(tokenReq?.method).toBe('POST');
      expect(tokenReq?.path).toBe('/oauth2/token');
      expect(tokenReq?.headers.authorization).toBe(basic(CLIENT_ID, CLIENT_SECRET));
      expect(tokenReq?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(tokenReq?.headers.accept).toBe('application/json');
      expect(tokenReq?.text).toBe('');
      const token = h.sim.tokens.at(-1)?.token;
      expect(apiReq?.method).toBe('GET');
      expect(apiReq?.headers.authorization).toBe(`Bearer ${token}`);
      expect(apiReq?.headers['content-type']).toBe('application/json');
      expect(apiReq?.headers.accept).toBe('application/json, text/plain, */*');
      expect(h.sim.targets.at(-1)).toBe(`/devices/entities/devices/v2?ids=${HOST_1}%2C${HOST_2}`);
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
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
      const tokens = tokenRequests(h.sim).length;
      await run(h.id, 'getAgentDetails', { ids: [HOST_1] });
      await run(h.id, 'getAgentOnlineStatus', { ids: [HOST_1] });
      expect(tokenRequests(h.sim).length).toBe(tokens);
      expect(h.sim.last().headers.authorization).toBe(`Bearer ${h.sim.tokens.at(-1)?.token}`);
    });

    it('renews a token CrowdStrike no longer accepts and tries once more', async () => {
      h.sim.revokeAll();
      const tokens = tokenRequests(h.sim).length;
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'getAgentOnlineStatus', { ids: [HOST_2] });
      const sent = h.sim.requests.slice(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /devices/entities/online-state/v1',
        'POST /oauth2/token',
        'GET /devices/entities/online-state/v1',
      ]);
      expect(tokenRequests(h.sim).length).toBe(tokens + 1);
      expect(sent[2]?.headers.authorization).toBe(`Bearer ${h.sim.tokens.at(-1)?.token}`);
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          meta: META,
          resources: [{ id: HOST_2, state: 'online', last_seen: '2025-01-20T10:00:00Z' }],
          errors: [],
        },
      });
    });

    it('gets a new token when the cached one is about to expire', async () => {
      // A token said to live 5 s is already due for renewal.
      h.sim.expiresIn = 5;
      h.sim.revokeAll();
      const tokens = tokenRequests(h.sim).length;
      await run(h.id, 'getAgentDetails', { ids: [HOST_1] });
      h.sim.expiresIn = 1799;
      await run(h.id, 'getAgentDetails', { ids: [HOST_1] });
      await run(h.id, 'getAgentDetails', { ids: [HOST_1] });
      expect(tokenRequests(h.sim).length).toBe(tokens + 2);
    });

    it('forgets the token when the connector is updated', async () => {
      const updated = await h.server.api('PUT', `/api/actions/connector/${h.id}`, {
        body: {
          name: 'cs updated',
          config: { url: h.sim.url },
          secrets: { clientId: OTHER_ID, clientSecret: OTHER_SECRET },
        },
      });
      h.replies.push(updated.body);
      expect(updated.status).toBe(200);
      const before = h.sim.requests.length;
      await run(h.id, 'getAgentDetails', { ids: [HOST_1] });
      const [tokenReq] = h.sim.requests.slice(before);
      expect(tokenReq?.path).toBe('/oauth2/token');
      expect(tokenReq?.headers.authorization).toBe(basic(OTHER_ID, OTHER_SECRET));
      expect(h.sim.callers.at(-1)).toBe(OTHER_ID);
    });

    it('reports refused client credentials', async () => {
      const bad = await h.create({
        config: { url: h.sim.url },
        secrets: { clientId: CLIENT_ID, clientSecret: 'not-the-secret' },
      });
      const before = h.sim.requests.length;
      const envelope = await run(bad, 'getAgentDetails', { ids: [HOST_1] });
      expect(h.sim.requests.length).toBe(before + 1);
      expect(envelope).toEqual(thrown(bad, 'access denied, authorization failed', false));
    });
  });

  describe('tokens and spaces', () => {
    it('gives each space its own token, even for the same client credentials', async () => {
      for (const space of ['alpha', 'beta']) {
        const res = await h.server.api('POST', '/api/spaces/space', {
          body: { id: space, name: space },
        });
        expect(res.status).toBe(200);
      }
      const secrets = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
      const inAlpha = await createConnector(
        h.server.api,
        { connector_type_id: TYPE, config: { url: h.sim.url }, secrets },
        '/s/alpha',
      );
      const inBeta = await createConnector(
        h.server.api,
        { connector_type_id: TYPE, config: { url: h.sim.url }, secrets },
        '/s/beta',
      );

      const bearerOf = async (connectorId: string, space: string) => {
        const envelope = await execute(
          h.server.api,
          connectorId,
          subActionCall('getAgentDetails', { ids: [HOST_1] }),
          `/s/${space}`,
        );
        h.replies.push(envelope);
        expect(envelope.status).toBe('ok');
        return h.sim.last().headers.authorization;
      };

      const tokens = tokenRequests(h.sim).length;
      const alphaFirst = await bearerOf(inAlpha, 'alpha');
      const alphaToken = `Bearer ${h.sim.tokens.at(-1)?.token}`;
      expect(alphaFirst).toBe(alphaToken);
      expect(tokenRequests(h.sim).length).toBe(tokens + 1);

      const betaFirst = await bearerOf(inBeta, 'beta');
      const betaToken = `Bearer ${h.sim.tokens.at(-1)?.token}`;
      expect(betaFirst).toBe(betaToken);
      expect(betaToken).not.toBe(alphaToken);
      expect(tokenRequests(h.sim).length).toBe(tokens + 2);

      expect(await bearerOf(inAlpha, 'alpha')).toBe(alphaToken);
      expect(await bearerOf(inBeta, 'beta')).toBe(betaToken);
      expect(tokenRequests(h.sim).length).toBe(tokens + 2);

      // A connector of one space is not reachable from another.
      const cross = await h.server.api(
        'POST',
        `/s/beta/api/actions/connector/${inAlpha}/_execute`,
        {
          body: { params: { subAction: 'getAgentDetails', subActionParams: { ids: [HOST_1] } } },
        },
      );
      expect(cross.status).toBe(404);
    });
  });

  describe('host actions', () => {
    it('contains hosts', async () => {
      const envelope = await run(h.id, 'hostActions', {
        command: 'contain',
        ids: [HOST_1],
        comment: 'isolating from Kibana',
        alertIds: ['alert-1'],
      });
      const req = h.sim.last();
      expect(req.method).toBe('POST');
      expect(req.path).toBe('/devices/entities/devices-actions/v2');
      expect(h.sim.targets.at(-1)).toBe('/devices/entities/devices-actions/v2?action_name=contain');
      expect(req.headers['content-type']).toBe('application/json');
      expect(req.json).toEqual({ ids: [HOST_1] });
      expect(envelope).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          meta: META,
          resources: [{ id: HOST_1, path: `/devices/entities/devices/v2?ids=${HOST_1}` }],
          errors: [],
        },
      });
    });

    it('lifts containment with action parameters as name/value pairs', async () => {
      await run(h.id, 'hostActions', {
        command: 'lift_containment',
        ids: [HOST_1, HOST_2],
        actionParameters: { note: 'released', ticket: 42 },
      });
      expect(h.sim.targets.at(-1)).toBe(
        '/devices/entities/devices-actions/v2?action_name=lift_containment',
      );
      expect(h.sim.last().json).toEqual({
        ids: [HOST_1, HOST_2],
        action_parameters: [
          { name: 'note', value: 'released' },
          { name: 'ticket', value: 42 },
        ],
      });
    });

    it('refuses another command', async () => {
      const envelope = await run(h.id, 'hostActions', { command: 'reboot', ids: [HOST_1] });
      expect(envelope).toEqual(
        thrownEnvelope(
          h.id,
          'Request validation failed (Error: [command]: types that failed validation:\n- [command.0]: expected value to equal [contain]\n- [command.1]: expected value to equal [lift_containment])',
          true,
          'user',
        ),
      );
    });

    it('needs device ids', async () => {
      const envelope = await run(h.id, 'getAgentDetails', {});
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [ids]: expected value of type [array] but got [undefined])',
      );
    });
  });

  describe('real-time response', () => {
    const command = 'runscript -CloudFile="collect-triage"';

    it('opens a batch session for the hosts and runs the command in it', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'executeRTRCommand', {
        command,
        endpoint_ids: [HOST_1, HOST_2],
      });
      const [init, cmd] = h.sim.requests.slice(before);
      expect(init?.method).toBe('POST');
      expect(init?.path).toBe('/real-time-response/combined/batch-init-session/v1');
      expect(init?.json).toEqual({ host_ids: [HOST_1, HOST_2] });
      expect(cmd?.method).toBe('POST');
      expect(cmd?.path).toBe('/real-time-response/combined/batch-command/v1');
      const batchId = [...h.sim.sessions.keys()].at(-1);
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
      const sessions = h.sim.sessions.size;
      const batchId = [...h.sim.sessions.keys()].at(-1);
      await run(h.id, 'batchActiveResponderExecuteRTR', {
        command,
        endpoint_ids: [HOST_2, HOST_1],
      });
      expect(h.sim.last().path).toBe(
        '/real-time-response/combined/batch-active-responder-command/v1',
      );
      expect(h.sim.last().json).toMatchObject({ batch_id: batchId });
      await run(h.id, 'batchAdminExecuteRTR', { command, endpoint_ids: [HOST_1, HOST_2] });
      expect(h.sim.last().path).toBe('/real-time-response/combined/batch-admin-command/v1');
      expect(h.sim.last().json).toMatchObject({ batch_id: batchId });
      expect(h.sim.sessions.size).toBe(sessions);
    });

    it('opens another session for other hosts', async () => {
      const sessions = h.sim.sessions.size;
      await run(h.id, 'executeRTRCommand', { command, endpoint_ids: [HOST_1] });
      expect(h.sim.sessions.size).toBe(sessions + 1);
      expect(h.sim.sessions.get([...h.sim.sessions.keys()].at(-1) ?? '')).toEqual([HOST_1]);
    });

    it('refreshes a session older than five minutes and drops one idle for ten', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const hosts = [HOST_2];
      await run(h.id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      const batchId = [...h.sim.sessions.keys()].at(-1);

      vi.setSystemTime(Date.now() + 6 * 60 * 1000);
      let before = h.sim.requests.length;
      await run(h.id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      const [refresh, cmd] = h.sim.requests.slice(before);
      expect(refresh?.path).toBe('/real-time-response/combined/batch-refresh-session/v1');
      expect(refresh?.json).toEqual({ batch_id: batchId });
      expect(cmd?.json).toMatchObject({ batch_id: batchId });

      vi.setSystemTime(Date.now() + 11 * 60 * 1000);
      const sessions = h.sim.sessions.size;
      before = h.sim.requests.length;
      const envelope = await run(h.id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      expect(envelope.status).toBe('ok');
      const paths = h.sim.requests.slice(before).map((r) => r.path);
      expect(paths).toContain('/real-time-response/combined/batch-init-session/v1');
      expect(paths).not.toContain('/real-time-response/combined/batch-refresh-session/v1');
      expect(h.sim.sessions.size).toBe(sessions + 1);
    });

    it('opens a new session when CrowdStrike no longer knows the old one', async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const hosts = ['rtr-host-9'];
      await run(h.id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      const old = [...h.sim.sessions.keys()].at(-1) ?? '';
      h.sim.sessions.delete(old);
      vi.setSystemTime(Date.now() + 6 * 60 * 1000);
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'executeRTRCommand', { command, endpoint_ids: hosts });
      expect(h.sim.requests.slice(before).map((r) => r.path)).toEqual([
        '/real-time-response/combined/batch-refresh-session/v1',
        '/real-time-response/combined/batch-init-session/v1',
        '/real-time-response/combined/batch-command/v1',
      ]);
      expect(envelope.status).toBe('ok');
    });

    it('runs only runscript', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'executeRTRCommand', {
        command: 'ls /etc',
        endpoint_ids: ['rtr-host-7'],
      });
      expect(envelope).toEqual(thrown(h.id, 'Command not supported'));
      // As in Kibana, the session is opened before the command is looked at.
      expect(h.sim.requests.slice(before).map((r) => r.path)).toEqual([
        '/real-time-response/combined/batch-init-session/v1',
      ]);
    });

    it('needs the endpoint ids', async () => {
      const envelope = await run(h.id, 'executeRTRCommand', { command });
      expect(envelope.service_message).toBe(
        'Request validation failed (Error: [endpoint_ids]: expected value of type [array] but got [undefined])',
      );
    });

    it('lists the cloud scripts', async () => {
      const envelope = await run(h.id, 'getRTRCloudScripts', {});
      const req = h.sim.last();
      expect(req.method).toBe('GET');
      expect(h.sim.targets.at(-1)).toBe('/real-time-response/entities/scripts/v1');
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
    // The first error CrowdStrike gives; a body without errors is answered with the body.
    failureClassTests((magic) => run(h.id, 'getAgentDetails', { ids: [magic] }), {
      'respond-with-400': () => thrown(h.id, 'simulated Bad Request', false),
      'respond-with-404': () => thrown(h.id, 'simulated Not Found', false),
      'respond-with-429': () => thrown(h.id, 'simulated Too Many Requests', true),
      'respond-with-500': () => thrown(h.id, 'simulated Internal Server Error', true),
      'respond-with-503': () => thrown(h.id, 'simulated Service Unavailable', true),
      'respond-with-html-502': () =>
        thrown(h.id, 'API Error: "<html><body><h1>502 Bad Gateway</h1></body></html>"', true),
    });

    it('reports a 401 that a new token does not cure, after one renewal', async () => {
      const before = h.sim.requests.length;
      const envelope = await run(h.id, 'getAgentDetails', { ids: ['respond-with-401'] });
      expect(h.sim.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /devices/entities/devices/v2',
        'POST /oauth2/token',
        'GET /devices/entities/devices/v2',
      ]);
      expect(envelope).toEqual(thrown(h.id, 'simulated Unauthorized', false));
    });

    it('retries a 429 at the moment CrowdStrike names', async () => {
      const envelope = await run(h.id, 'hostActions', {
        command: 'contain',
        ids: ['respond-with-429-retry-after'],
      });
      expect(envelope.service_message).toBe('simulated Too Many Requests');
      expectRetryAt(envelope.retry, RETRY_AFTER_SECONDS);
    });

    it('says which address refused the connection', async () => {
      const gone = await h.create({
        config: { url: 'http://127.0.0.1:1' },
        secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      });
      const envelope = await run(gone, 'getAgentDetails', { ids: [HOST_1] });
      expect(envelope).toEqual(
        thrown(gone, 'Status code: undefined. Message: Connection Refused: 127.0.0.1:1'),
      );
    });

    it('names an unknown sub action', async () => {
      const envelope = await run(h.id, 'getAgents', {});
      expect(envelope).toEqual(
        thrown(
          h.id,
          `Sub action "getAgents" is not registered. Connector id: ${h.id}. Connector name: CrowdStrike. Connector type: .crowdstrike`,
        ),
      );
    });
  });
});

describe('.crowdstrike with tight limits', () => {
  const h = connectorHarness({
    type: TYPE,
    simulator: () => startCrowdStrikeSimulator({ [CLIENT_ID]: CLIENT_SECRET }),
    settings: () => ({ ...SHORT_LIMITS, 'xpack.actions.allowedHosts': ['127.0.0.1'] }),
    connector: (sim) => ({
      config: { url: sim.url },
      secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
    }),
    replies,
  });
  const run = subActionRunner(h);

  afterAll(() => {
    expectNoSecrets(h.server, [CLIENT_SECRET, ...h.sim.tokens.map((t) => t.token)], replies);
  });

  // A slow answer, a dropped connection and an answer larger than maxResponseContentLength are
  // unknown API errors.
  const noAnswer = () => thrown(h.id, 'Status code: undefined. Message: Unknown API Error: {}');
  failureClassTests((magic) => run(h.id, 'getAgentDetails', { ids: [magic] }), {
    'respond-with-timeout': noAnswer,
    'respond-with-reset': noAnswer,
    'respond-with-large': noAnswer,
  });

  it('refuses an API host outside xpack.actions.allowedHosts', async () => {
    replies.push(
      await expectCreateRefused(
        h.server.api,
        {
          name: 'cs',
          connector_type_id: TYPE,
          config: { url: 'https://api.crowdstrike.com' },
          secrets: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
        },
        'error validating connector type config: error validating url: target url "https://api.crowdstrike.com" is not added to the Kibana config xpack.actions.allowedHosts',
      ),
    );
  });
});
