import { describe, expect, it } from 'vitest';
import {
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import {
  startTinesSimulator,
  TINES_EMAIL,
  TINES_TOKEN,
  WEBHOOK_PATH,
  WEBHOOK_SECRET,
} from '../simulators/tines.js';

const WEBHOOK = { id: 11, name: 'alert webhook', storyId: 1 };

describe('.tines', () => {
  const h = connectorHarness({
    type: '.tines',
    simulator: startTinesSimulator,
    settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    connector: (sim) => ({
      config: { url: sim.url },
      secrets: { email: TINES_EMAIL, token: TINES_TOKEN },
    }),
  });
  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);
  const runBody = (body: string) =>
    run({ subAction: 'run', subActionParams: { webhook: WEBHOOK, body } });

  it('is listed with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: '.tines',
      name: 'Tines',
      minimum_license_required: 'gold',
      supported_feature_ids: ['siem'],
    });
  });

  it('stories lists id, name and published', async () => {
    expect(await run({ subAction: 'stories' })).toEqual({
      status: 'ok',
      connector_id: h.id,
      data: {
        stories: [
          { id: 1, name: 'story 1', published: true },
          { id: 2, name: 'story 2', published: false },
        ],
        incompleteResponse: false,
      },
    });
    const sent = h.sim.last();
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
      connector_id: h.id,
      data: { webhooks: [WEBHOOK], incompleteResponse: false },
    });
    const sent = h.sim.last();
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
      connector_id: h.id,
      data: { webhooks: [{ ...WEBHOOK, storyId: 7 }], incompleteResponse: true },
    });
    expect(h.sim.last().query.get('story_id')).toBe('7');
  });

  it('run reads the webhook path and secret from Tines, then posts the body to it', async () => {
    const before = h.sim.requests.length;
    const body = '{"alert":{"id":"a-1"}}';
    expect(await run({ subAction: 'run', subActionParams: { webhook: WEBHOOK, body } })).toEqual({
      status: 'ok',
      connector_id: h.id,
      data: { status: 'ok' },
    });
    const [lookup, post] = h.sim.requests.slice(before);
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
      const before = h.sim.requests.length;
      const reply = await run({
        subAction,
        subActionParams: {
          webhookUrl: `${h.sim.url}/webhook/${WEBHOOK_PATH}/${WEBHOOK_SECRET}`,
          body: '{"x":1}',
        },
      });
      expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: { status: 'ok' } });
      expect(h.sim.requests.length).toBe(before + 1);
      expect(h.sim.last().text).toBe('{"x":1}');
    }
  });

  const failed = (serviceMessage: string, errorSource: 'user' | 'framework') =>
    thrownEnvelope(h.id, serviceMessage, true, errorSource);

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
    // 422 and 429 (with or without Retry-After) are user errors.
    failureClassTests(runBody, {
      'respond-with-400': () =>
        failed('Status code: 400. Message: API Error: Bad Request', 'framework'),
      'respond-with-422': () =>
        failed('Status code: 422. Message: API Error: Unprocessable Entity', 'user'),
      'respond-with-429': () =>
        failed('Status code: 429. Message: API Error: Too Many Requests', 'user'),
      'respond-with-429-retry-after-30': () =>
        failed('Status code: 429. Message: API Error: Too Many Requests', 'user'),
      'respond-with-500': () =>
        failed('Status code: 500. Message: API Error: Internal Server Error', 'framework'),
      'respond-with-502': () =>
        failed('Status code: 502. Message: API Error: Bad Gateway', 'framework'),
      'respond-with-timeout': () =>
        failed(
          'Status code: undefined. Message: AxiosError: timeout of 300ms exceeded',
          'framework',
        ),
      'respond-with-reset': () =>
        failed('Status code: undefined. Message: AxiosError: socket hang up', 'framework'),
      'respond-with-large': () =>
        failed(
          'Status code: undefined. Message: AxiosError: maxContentLength size of 1024 exceeded',
          'framework',
        ),
      // A webhook answer that is not an object.
      'respond-with-text': () =>
        failed(
          'Response validation failed (Error: expected a plain object value, but found [string] instead.)',
          'framework',
        ),
    });

    it('404 for a webhook secret Tines does not know', async () => {
      const wrongSecret = await run({
        subAction: 'run',
        subActionParams: { webhookUrl: `${h.sim.url}/webhook/${WEBHOOK_PATH}/nope`, body: '{}' },
      });
      expect(wrongSecret).toEqual(
        failed('Status code: 404. Message: API Error: Not Found', 'framework'),
      );
    });

    it('401 for wrong credentials', async () => {
      const wrong = await h.create({
        config: { url: h.sim.url },
        secrets: { email: TINES_EMAIL, token: 'wrong-token' },
      });
      expect(await run({ subAction: 'stories' }, wrong)).toEqual({
        ...failed('Status code: 401. Message: API Error: Unauthorized', 'user'),
        connector_id: wrong,
      });
    });

    it('503 from the agents list', async () => {
      expect(await run({ subAction: 'webhooks', subActionParams: { storyId: 503 } })).toEqual(
        failed('Status code: 503. Message: API Error: Service Unavailable', 'framework'),
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
          `Sub action "agents" is not registered. Connector id: ${h.id}. Connector name: Tines. Connector type: .tines`,
          'framework',
        ),
      );
    });

    it('refuses a url outside xpack.actions.allowedHosts and missing secrets', async () => {
      const res = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
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
      const noToken = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 't',
          connector_type_id: '.tines',
          config: { url: h.sim.url },
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
    expectNoSecrets(h.server, [TINES_TOKEN, WEBHOOK_SECRET], h.replies);
  });
});
