import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
  expectRetryAt,
} from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTeamsSimulator, TEAMS_GROUP, type TeamsSimulator } from '../simulators/teams.js';

const WEBHOOK_SECRET = 'aa11bb22cc33dd44ee55ff6677889900';
const SIGNATURE = 'Teams-Sig-9f8e7d6c5b4a3f2e1d0c';

describe('.teams', () => {
  let teams: TeamsSimulator;
  let server: TestServer;
  let id: string;
  const replies: unknown[] = [];

  const run = async (message: string, connector = id): Promise<ExecuteEnvelope> => {
    const envelope = await execute(server.api, connector, { message });
    replies.push(envelope);
    return envelope;
  };

  beforeAll(async () => {
    teams = await startTeamsSimulator({ webhookSecret: WEBHOOK_SECRET, signature: SIGNATURE });
    server = await startServer({
      settings: {
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
      },
    });
    id = await createConnector(server.api, {
      name: 'my teams',
      connector_type_id: '.teams',
      secrets: { webhookUrl: teams.webhookUrl },
    });
  });
  afterAll(async () => {
    await server.close();
    await teams.close();
  });

  it('is listed among the connector types as Kibana lists it', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.teams')).toEqual({
      id: '.teams',
      name: 'Microsoft Teams',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem', 'workflows', 'agentBuilder'],
      is_system_action_type: false,
      is_deprecated: false,
    });
    const agentBuilder = await server.api<Array<{ id: string }>>(
      'GET',
      '/api/actions/connector_types?feature_id=agentBuilder',
    );
    expect(agentBuilder.body.map((t) => t.id)).toContain('.teams');
  });

  it('posts {text} to an incoming webhook and answers with what it sent', async () => {
    expect(await run('Alert fired: CPU > 90%')).toEqual({
      status: 'ok',
      connector_id: id,
      data: { text: 'Alert fired: CPU > 90%' },
    });
    const sent = teams.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(
      `/webhookb2/${TEAMS_GROUP}/IncomingWebhook/${WEBHOOK_SECRET}/0e2ff5c1-0000-4000-8000-000000000042`,
    );
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ text: 'Alert fired: CPU > 90%' });
    expect(teams.messages).toContain('Alert fired: CPU > 90%');
  });

  it('posts to a Workflows trigger URL, query and all', async () => {
    const workflow = await createConnector(server.api, {
      connector_type_id: '.teams',
      secrets: { webhookUrl: teams.workflowUrl },
    });
    expect(await run('via workflows', workflow)).toEqual({
      status: 'ok',
      connector_id: workflow,
      data: { text: 'via workflows' },
    });
    const sent = teams.last();
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

  it('retries a throttled 200 at its Retry-After moment', async () => {
    const res = await run('respond-with-throttled');
    expectRetryAt(res.retry, 30);
    expect(res).toEqual({
      status: 'error',
      connector_id: id,
      message: `error posting a Microsoft Teams message, retry at ${res.retry}`,
      service_message: 'respond-with-throttled',
      retry: res.retry,
      errorSource: 'user',
    });
  });

  it('retries a throttled 200 without Retry-After later', async () => {
    expect(await run('respond-with-throttled-no-retry-after')).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error posting a Microsoft Teams message, retry later',
      retry: true,
      errorSource: 'user',
    });
  });

  it('reports 4xx answers as invalid responses, 429 included, as Kibana does', async () => {
    for (const [status, text] of [
      [400, 'Bad Request'],
      [401, 'Unauthorized'],
      [404, 'Not Found'],
      [429, 'Too Many Requests'],
    ] as const) {
      expect(await run(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error posting to Microsoft Teams, invalid response',
        service_message: `[${status}] ${text}`,
        errorSource: 'user',
      });
    }
  });

  it('reports a wrong Workflows signature as an invalid 401 response', async () => {
    const wrong = await createConnector(server.api, {
      connector_type_id: '.teams',
      secrets: { webhookUrl: teams.workflowUrl.replace(SIGNATURE, 'forged') },
    });
    expect(await run('hi', wrong)).toEqual({
      status: 'error',
      connector_id: wrong,
      message: 'error posting to Microsoft Teams, invalid response',
      service_message: '[401] Unauthorized',
      errorSource: 'user',
    });
  });

  it('retries 500 and 502 later', async () => {
    for (const status of [500, 502]) {
      expect(await run(`respond-with-${status}`)).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error posting a Microsoft Teams message, retry later',
        retry: true,
        errorSource: 'user',
      });
    }
  });

  it('reports a timeout, a reset and an oversized answer as unexpected errors', async () => {
    for (const word of ['timeout', 'reset', 'large']) {
      expect(await run(`respond-with-${word}`)).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error posting to Microsoft Teams, unexpected error',
        errorSource: 'user',
      });
    }
  });

  it('refuses bad params with Kibana texts', async () => {
    expect(await run('')).toEqual({
      status: 'error',
      connector_id: id,
      message:
        'error validating action params: [message]: value has length [0] but it must have a minimum length of [1].',
      retry: false,
      errorSource: 'user',
    });
    expect(await execute(server.api, id, {})).toEqual({
      status: 'error',
      connector_id: id,
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
        { config: { x: 1 }, secrets: { webhookUrl: teams.webhookUrl } },
        'error validating connector type config: [x]: definition for this key is missing',
      ],
    ];
    for (const [body, message] of cases) {
      const res = await server.api('POST', '/api/actions/connector', {
        body: { name: 'bad', connector_type_id: '.teams', ...body },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ statusCode: 400, error: 'Bad Request', message });
    }
  });

  it('never shows the webhook secrets in a reply or a log line', async () => {
    const list = await server.api('GET', '/api/actions/connectors');
    replies.push(list.body);
    expect(replies.length).toBeGreaterThan(10);
    expectNoSecrets(server, [WEBHOOK_SECRET, SIGNATURE], replies);
  });
});

describe('.teams with xpack.actions.allowedHosts', () => {
  it('refuses a webhook URL whose host is not allowed, with Kibana text', async () => {
    const server = await startServer({
      settings: { 'xpack.actions.allowedHosts': ['outlook.office.com'] },
    });
    try {
      const url = 'https://prod-01.westus.logic.azure.com/workflows/1/triggers/manual/paths/invoke';
      const res = await server.api('POST', '/api/actions/connector', {
        body: { name: 'x', connector_type_id: '.teams', secrets: { webhookUrl: url } },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: `error validating connector type secrets: error configuring teams action: target url "${url}" is not added to the Kibana config xpack.actions.allowedHosts`,
      });
      const allowed = await server.api('POST', '/api/actions/connector', {
        body: {
          name: 'y',
          connector_type_id: '.teams',
          secrets: { webhookUrl: 'https://outlook.office.com/webhook/abc' },
        },
      });
      expect(allowed.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
