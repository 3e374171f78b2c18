import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectNoSecrets,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';
import type { Simulator } from '../simulators/base.js';
import {
  startTinesSimulator,
  TINES_EMAIL,
  TINES_TOKEN,
  WEBHOOK_PATH,
  WEBHOOK_SECRET,
} from '../simulators/tines.js';

const WEBHOOK = { id: 11, name: 'alert webhook', storyId: 1 };

describe('.tines', () => {
  let sim: Simulator;
  let server: TestServer;
  let id: string;
  const replies: unknown[] = [];

  const run = async (params: unknown, connectorId = id): Promise<ExecuteEnvelope> => {
    const reply = await execute(server.api, connectorId, params);
    replies.push(reply);
    return reply;
  };
  const runBody = (body: string) =>
    run({ subAction: 'run', subActionParams: { webhook: WEBHOOK, body } });

  beforeAll(async () => {
    sim = await startTinesSimulator();
    server = await startServer({
      settings: {
        'xpack.actions.allowedHosts': ['127.0.0.1'],
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
      },
    });
    id = await createConnector(server.api, {
      connector_type_id: '.tines',
      config: { url: sim.url },
      secrets: { email: TINES_EMAIL, token: TINES_TOKEN },
    });
  });
  afterAll(async () => {
    await server.close();
    await sim.close();
  });

  it('is listed with Kibana fields', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.tines')).toEqual({
      id: '.tines',
      name: 'Tines',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['siem'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  it('stories lists id, name and published', async () => {
    expect(await run({ subAction: 'stories' })).toEqual({
      status: 'ok',
      connector_id: id,
      data: {
        stories: [
          { id: 1, name: 'story 1', published: true },
          { id: 2, name: 'story 2', published: false },
        ],
        incompleteResponse: false,
      },
    });
    const sent = sim.last();
    expect(sent.method).toBe('GET');
    expect(sent.path).toBe('/api/v1/stories');
    expect([...sent.query.entries()]).toEqual([['per_page', '500']]);
    expect(sent.headers['x-user-email']).toBe(TINES_EMAIL);
    expect(sent.headers['x-user-token']).toBe(TINES_TOKEN);
    expect(sent.headers['content-type']).toBe('application/json');
  });

  it('webhooks keeps webhook agents of the story only', async () => {
    expect(await run({ subAction: 'webhooks', subActionParams: { storyId: 1 } })).toEqual({
      status: 'ok',
      connector_id: id,
      data: { webhooks: [WEBHOOK], incompleteResponse: false },
    });
    const sent = sim.last();
    expect(sent.path).toBe('/api/v1/agents');
    expect([...sent.query.entries()]).toEqual([
      ['story_id', '1'],
      ['action_type', 'Agents::WebhookAgent'],
      ['per_page', '500'],
    ]);
    expect(sent.headers['x-user-token']).toBe(TINES_TOKEN);
  });

  it('webhooks takes a story id as text and flags more pages', async () => {
    expect(await run({ subAction: 'webhooks', subActionParams: { storyId: '7' } })).toEqual({
      status: 'ok',
      connector_id: id,
      data: { webhooks: [{ ...WEBHOOK, storyId: 7 }], incompleteResponse: true },
    });
    expect(sim.last().query.get('story_id')).toBe('7');
  });

  it('run reads the webhook path and secret from Tines, then posts the body to it', async () => {
    const before = sim.requests.length;
    const body = '{"alert":{"id":"a-1"}}';
    expect(await run({ subAction: 'run', subActionParams: { webhook: WEBHOOK, body } })).toEqual({
      status: 'ok',
      connector_id: id,
      data: { status: 'ok' },
    });
    const [lookup, post] = sim.requests.slice(before);
    expect(lookup?.method).toBe('GET');
    expect(lookup?.path).toBe('/api/v1/actions/11');
    expect(lookup?.headers['x-user-token']).toBe(TINES_TOKEN);
    expect(post?.method).toBe('POST');
    expect(post?.path).toBe(`/webhook/${WEBHOOK_PATH}/${WEBHOOK_SECRET}`);
    expect(post?.text).toBe(body);
    expect(post?.headers['content-type']).toBe('application/json');
    expect(post?.headers['x-user-token']).toBeUndefined();
    expect(post?.headers['x-user-email']).toBeUndefined();
  });

  it('run and test post straight to a webhookUrl', async () => {
    for (const subAction of ['run', 'test']) {
      const before = sim.requests.length;
      const reply = await run({
        subAction,
        subActionParams: {
          webhookUrl: `${sim.url}/webhook/${WEBHOOK_PATH}/${WEBHOOK_SECRET}`,
          body: '{"x":1}',
        },
      });
      expect(reply).toEqual({ status: 'ok', connector_id: id, data: { status: 'ok' } });
      expect(sim.requests.length).toBe(before + 1);
      expect(sim.last().text).toBe('{"x":1}');
    }
  });

  const failed = (serviceMessage: string, errorSource: 'user' | 'framework') =>
    thrownEnvelope(id, serviceMessage, true, errorSource);

  it('run refuses a webhook Tines does not know as a webhook', async () => {
    expect(
      await run({
        subAction: 'run',
        subActionParams: { webhook: { ...WEBHOOK, id: 12 }, body: '{}' },
      }),
    ).toEqual(
      failed(
        'Invalid configuration for webhook id: 12. Verify webhook exists in Tines.',
        'framework',
      ),
    );
    expect(
      await run({
        subAction: 'run',
        subActionParams: { webhook: { ...WEBHOOK, storyId: 2 }, body: '{}' },
      }),
    ).toEqual(
      failed(
        'Invalid configuration for webhook id: 11. Verify webhook exists in Tines.',
        'framework',
      ),
    );
    expect(
      await run({
        subAction: 'run',
        subActionParams: { webhook: { ...WEBHOOK, id: 99 }, body: '{}' },
      }),
    ).toEqual(failed('Status code: 404. Message: API Error: Not Found', 'framework'));
  });

  it('run needs a webhook or a webhookUrl', async () => {
    expect(await run({ subAction: 'run', subActionParams: { body: '{}' } })).toEqual(
      failed(
        'Invalid subActionsParams: [webhook] or [webhookUrl] expected but got none',
        'framework',
      ),
    );
  });

  describe('vendor failures', () => {
    it('400 and 404', async () => {
      expect(await runBody('respond-with-400')).toEqual(
        failed('Status code: 400. Message: API Error: Bad Request', 'framework'),
      );
      const wrongSecret = await run({
        subAction: 'run',
        subActionParams: { webhookUrl: `${sim.url}/webhook/${WEBHOOK_PATH}/nope`, body: '{}' },
      });
      expect(wrongSecret).toEqual(
        failed('Status code: 404. Message: API Error: Not Found', 'framework'),
      );
    });

    it('401 for wrong credentials', async () => {
      const wrong = await createConnector(server.api, {
        connector_type_id: '.tines',
        config: { url: sim.url },
        secrets: { email: TINES_EMAIL, token: 'wrong-token' },
      });
      expect(await run({ subAction: 'stories' }, wrong)).toEqual({
        ...failed('Status code: 401. Message: API Error: Unauthorized', 'user'),
        connector_id: wrong,
      });
    });

    it('422 and 429 (with or without Retry-After) are user errors', async () => {
      expect(await runBody('respond-with-422')).toEqual(
        failed('Status code: 422. Message: API Error: Unprocessable Entity', 'user'),
      );
      expect(await runBody('respond-with-429')).toEqual(
        failed('Status code: 429. Message: API Error: Too Many Requests', 'user'),
      );
      expect(await runBody('respond-with-429-retry-after-30')).toEqual(
        failed('Status code: 429. Message: API Error: Too Many Requests', 'user'),
      );
    });

    it('5xx', async () => {
      expect(await runBody('respond-with-500')).toEqual(
        failed('Status code: 500. Message: API Error: Internal Server Error', 'framework'),
      );
      expect(await runBody('respond-with-502')).toEqual(
        failed('Status code: 502. Message: API Error: Bad Gateway', 'framework'),
      );
      expect(await run({ subAction: 'webhooks', subActionParams: { storyId: 503 } })).toEqual(
        failed('Status code: 503. Message: API Error: Service Unavailable', 'framework'),
      );
    });

    it('a timeout, a reset and an oversized answer', async () => {
      expect(await runBody('respond-with-timeout')).toEqual(
        failed(
          'Status code: undefined. Message: AxiosError: timeout of 300ms exceeded',
          'framework',
        ),
      );
      expect(await runBody('respond-with-reset')).toEqual(
        failed('Status code: undefined. Message: AxiosError: socket hang up', 'framework'),
      );
      expect(await runBody('respond-with-large')).toEqual(
        failed(
          'Status code: undefined. Message: AxiosError: maxContentLength size of 1024 exceeded',
          'framework',
        ),
      );
    });

    it('a webhook answer that is not an object', async () => {
      expect(await runBody('respond-with-text')).toEqual(
        failed(
          'Response validation failed (Error: expected a plain object value, but found [string] instead.)',
          'framework',
        ),
      );
    });
  });

  describe('validation', () => {
    const invalid = (detail: string) =>
      failed(`Request validation failed (Error: ${detail})`, 'user');

    it('checks sub action params', async () => {
      expect(await run({ subAction: 'webhooks', subActionParams: { storyId: 'abc' } })).toEqual(
        invalid('[storyId]: expected value of type [number] but got [string]'),
      );
      expect(await run({ subAction: 'webhooks', subActionParams: {} })).toEqual(
        invalid('[storyId]: expected value of type [number] but got [undefined]'),
      );
      expect(await run({ subAction: 'run', subActionParams: { webhook: WEBHOOK } })).toEqual(
        invalid('[body]: expected value of type [string] but got [undefined]'),
      );
      expect(
        await run({ subAction: 'run', subActionParams: { body: '{}', webhookUrl: 1 } }),
      ).toEqual(invalid('[webhookUrl]: expected value of type [string] but got [number]'));
    });

    it('refuses a webhookUrl outside xpack.actions.allowedHosts', async () => {
      expect(
        await run({
          subAction: 'run',
          subActionParams: { webhookUrl: 'https://tenant.tines.com/webhook/a/b', body: '{}' },
        }),
      ).toEqual(
        failed(
          'error configuring connector action: target url "https://tenant.tines.com/webhook/a/b" is not added to the Kibana config xpack.actions.allowedHosts',
          'framework',
        ),
      );
      expect(
        await run({
          subAction: 'run',
          subActionParams: { webhookUrl: 'ftp://127.0.0.1/x', body: '{}' },
        }),
      ).toEqual(failed('URL Error: Invalid protocol', 'framework'));
    });

    it('refuses an unknown sub action', async () => {
      expect(await run({ subAction: 'agents' })).toEqual(
        failed(
          `Sub action "agents" is not registered. Connector id: ${id}. Connector name: Tines. Connector type: .tines`,
          'framework',
        ),
      );
    });

    it('refuses a url outside xpack.actions.allowedHosts and missing secrets', async () => {
      const res = await server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 't',
          connector_type_id: '.tines',
          config: { url: 'https://tenant.tines.com' },
          secrets: { email: 'e', token: 't' },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(
        'error validating connector type config: error validating url: target url "https://tenant.tines.com" is not added to the Kibana config xpack.actions.allowedHosts',
      );
      const noToken = await server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 't',
          connector_type_id: '.tines',
          config: { url: sim.url },
          secrets: { email: 'e' },
        },
      });
      expect(noToken.status).toBe(400);
      expect(noToken.body.message).toBe(
        'error validating connector type secrets: [token]: expected value of type [string] but got [undefined]',
      );
    });
  });

  it('never shows the token or the webhook secret in a reply or a log line', () => {
    expectNoSecrets(server, [TINES_TOKEN, WEBHOOK_SECRET], replies);
  });
});
