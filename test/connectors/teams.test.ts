import { describe, expect, it } from 'vitest';
import {
  type ExecuteEnvelope,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  retryAt,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { withServer } from '../helpers/server.js';
import { startTeamsSimulator, TEAMS_GROUP } from '../simulators/teams.js';

const WEBHOOK_SECRET = 'aa11bb22cc33dd44ee55ff6677889900';
const SIGNATURE = 'Teams-Sig-9f8e7d6c5b4a3f2e1d0c';

describe('.teams', () => {
  const h = connectorHarness({
    type: '.teams',
    simulator: () => startTeamsSimulator({ webhookSecret: WEBHOOK_SECRET, signature: SIGNATURE }),
    settings: () => SHORT_LIMITS,
    connector: (teams) => ({ name: 'my teams', secrets: { webhookUrl: teams.webhookUrl } }),
  });
  const run = (message: string, connector = h.id): Promise<ExecuteEnvelope> =>
    h.run({ message }, connector);

  it('is listed among the connector types as Kibana lists it', async () => {
    await expectListedType(
      h.server,
      {
        id: '.teams',
        name: 'Microsoft Teams',
        minimum_license_required: 'gold',
        supported_feature_ids: ['alerting', 'uptime', 'siem', 'workflows', 'agentBuilder'],
      },
      'agentBuilder',
    );
  });

  it('posts {text} to an incoming webhook and answers with what it sent', async () => {
    expect(await run('Alert fired: CPU > 90%')).toEqual({
      status: 'ok',
      connector_id: h.id,
      data: { text: 'Alert fired: CPU > 90%' },
    });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(
      `/webhookb2/${TEAMS_GROUP}/IncomingWebhook/${WEBHOOK_SECRET}/0e2ff5c1-0000-4000-8000-000000000042`,
    );
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ text: 'Alert fired: CPU > 90%' });
    expect(h.sim.messages).toContain('Alert fired: CPU > 90%');
  });

  it('posts to a Workflows trigger URL, query and all', async () => {
    const workflow = await h.create({ secrets: { webhookUrl: h.sim.workflowUrl } });
    expect(await run('via workflows', workflow)).toEqual({
      status: 'ok',
      connector_id: workflow,
      data: { text: 'via workflows' },
    });
    const sent = h.sim.last();
    expect(sent.path).toBe(
      '/workflows/0f1e2d3c4b5a49687766554433221100/triggers/manual/paths/invoke',
    );
    expect(Object.fromEntries(sent.query)).toEqual({
      'api-version': '2016-06-01',
      sp: '/triggers/manual/run',
      sv: '1.0',
      sig: SIGNATURE,
    });
    expect(sent.json).toEqual({ text: 'via workflows' });
  });

  describe('vendor failures', () => {
    // A throttled 200 is retried, at its Retry-After moment when it has one; 4xx answers are
    // invalid responses, 429 included, as Kibana does; 500 and 502 are retried later; a
    // timeout, a reset and an oversized answer are unexpected errors.
    const invalid = (serviceMessage: string) => ({
      status: 'error',
      connector_id: h.id,
      message: 'error posting to Microsoft Teams, invalid response',
      service_message: serviceMessage,
      errorSource: 'user',
    });
    const retryLater = () => ({
      status: 'error',
      connector_id: h.id,
      message: 'error posting a Microsoft Teams message, retry later',
      retry: true,
      errorSource: 'user',
    });
    const unexpected = () => ({
      status: 'error',
      connector_id: h.id,
      message: 'error posting to Microsoft Teams, unexpected error',
      errorSource: 'user',
    });
    failureClassTests(run, {
      'respond-with-throttled': retryAt(30, (at) => ({
        status: 'error',
        connector_id: h.id,
        message: `error posting a Microsoft Teams message, retry at ${at}`,
        service_message: 'respond-with-throttled',
        retry: at,
        errorSource: 'user',
      })),
      'respond-with-throttled-no-retry-after': retryLater,
      'respond-with-400': () => invalid('[400] Bad Request'),
      'respond-with-401': () => invalid('[401] Unauthorized'),
      'respond-with-404': () => invalid('[404] Not Found'),
      'respond-with-429': () => invalid('[429] Too Many Requests'),
      'respond-with-500': retryLater,
      'respond-with-502': retryLater,
      'respond-with-timeout': unexpected,
      'respond-with-reset': unexpected,
      'respond-with-large': unexpected,
    });

    it('reports a wrong Workflows signature as an invalid 401 response', async () => {
      const wrong = await h.create({
        secrets: { webhookUrl: h.sim.workflowUrl.replace(SIGNATURE, 'forged') },
      });
      expect(await run('hi', wrong)).toEqual({
        status: 'error',
        connector_id: wrong,
        message: 'error posting to Microsoft Teams, invalid response',
        service_message: '[401] Unauthorized',
        errorSource: 'user',
      });
    });
  });

  it('refuses bad params with Kibana texts', async () => {
    expect(await run('')).toEqual({
      status: 'error',
      connector_id: h.id,
      message:
        'error validating action params: [message]: value has length [0] but it must have a minimum length of [1].',
      retry: false,
      errorSource: 'user',
    });
    expect(await execute(h.server.api, h.id, {})).toEqual({
      status: 'error',
      connector_id: h.id,
      message:
        'error validating action params: [message]: expected value of type [string] but got [undefined]',
      retry: false,
      errorSource: 'user',
    });
  });

  it('refuses bad secrets and config on create', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { secrets: {} },
        'error validating connector type secrets: [webhookUrl]: expected value of type [string] but got [undefined]',
      ],
      [
        { secrets: { webhookUrl: 'teams.example' } },
        'error validating connector type secrets: error configuring teams action: unable to parse host name from webhookUrl',
      ],
      [
        { config: { x: 1 }, secrets: { webhookUrl: h.sim.webhookUrl } },
        'error validating connector type config: [x]: definition for this key is missing',
      ],
    ];
    for (const [body, message] of cases) {
      await expectCreateRefused(
        h.server.api,
        { name: 'bad', connector_type_id: '.teams', ...body },
        message,
      );
    }
  });

  it('never shows the webhook secrets in a reply or a log line', async () => {
    const list = await h.server.api('GET', '/api/actions/connectors');
    h.replies.push(list.body);
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [WEBHOOK_SECRET, SIGNATURE], h.replies);
  });
});

describe('.teams with xpack.actions.allowedHosts', () => {
  it('refuses a webhook URL whose host is not allowed, with Kibana text', async () => {
    await withServer(
      {
        settings: { 'xpack.actions.allowedHosts': ['outlook.office.com'] },
      },
      async (server) => {
        const url =
          'https://prod-01.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke';
        await expectCreateRefused(
          server.api,
          { name: 'x', connector_type_id: '.teams', secrets: { webhookUrl: url } },
          `error validating connector type secrets: error configuring teams action: target url "${url}" is not added to the Kibana config xpack.actions.allowedHosts`,
        );
        const allowed = await server.api('POST', '/api/actions/connector', {
          body: {
            name: 'y',
            connector_type_id: '.teams',
            secrets: { webhookUrl: 'https://outlook.office.com/webhook/abc' },
          },
        });
        expect(allowed.status).toBe(200);
      },
    );
  });
});
