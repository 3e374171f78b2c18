import { describe, expect, it } from 'vitest';
import {
  type ExecuteEnvelope,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  expectRetryAt,
  failureClassTests,
  RUN_FAILED,
  retryAt,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { startSlackSimulator } from '../simulators/slack.js';

const WEBHOOK_SECRET = 'wEbHoOkSeCrEt9876543210zz';

describe('.slack (incoming webhook)', () => {
  const h = connectorHarness({
    type: '.slack',
    simulator: () => startSlackSimulator({ webhookSecret: WEBHOOK_SECRET }),
    settings: () => SHORT_LIMITS,
    connector: (slack) => ({ name: 'my slack', secrets: { webhookUrl: slack.webhookUrl } }),
  });
  const run = (message: string): Promise<ExecuteEnvelope> => h.run({ message });

  it('is listed among the connector types as Kibana lists it', async () => {
    await expectListedType(h.server, {
      id: '.slack',
      name: 'Slack',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem'],
    });
  });

  it('posts the message as {text} to the webhook URL and answers {text: "ok"}', async () => {
    const res = await run('Hello from Kibana :tada:');
    expect(res).toEqual({ status: 'ok', connector_id: h.id, data: { text: 'ok' } });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(`/services/T0SIMTEAM1/B0SIMBOT01/${WEBHOOK_SECRET}`);
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.json).toEqual({ text: 'Hello from Kibana :tada:' });
    expect(h.sim.webhookMessages).toContain('Hello from Kibana :tada:');
  });

  describe('vendor failures', () => {
    // A 400 or a 404 is an unexpected http response, without retry; 401 and 403 are thrown as
    // user errors, as Kibana 9 does; 429 is retried at the Retry-After moment or later; 500 and
    // 502 later, as framework errors; a timeout, a reset and an oversized answer are request
    // errors.
    const unexpected = (status: string) => ({
      status: 'error',
      connector_id: h.id,
      message: `unexpected http response from slack: ${status}`,
      errorSource: 'user',
    });
    const thrown = (status: number) => ({
      status: 'error',
      connector_id: h.id,
      message: RUN_FAILED,
      service_message: `Request failed with status code ${status}`,
      retry: true,
      errorSource: 'user',
    });
    const retryLater = (status: number, errorSource: string) => ({
      status: 'error',
      connector_id: h.id,
      message: 'error posting a slack message, retry later',
      service_message: `An HTTP protocol error occurred: statusCode = ${status}`,
      retry: true,
      errorSource,
    });
    const requestError = (serviceMessage: string) => ({
      status: 'error',
      connector_id: h.id,
      message: 'error posting slack message',
      service_message: `A request error occurred: ${serviceMessage}`,
      errorSource: 'user',
    });
    failureClassTests(run, {
      'respond-with-400': () => unexpected('400 Bad Request'),
      invalid_payload: () => unexpected('400 Bad Request'),
      'respond-with-404': () => unexpected('404 Not Found'),
      'respond-with-401': () => thrown(401),
      'respond-with-403': () => thrown(403),
      'respond-with-429': retryAt(30, (at) => ({
        status: 'error',
        connector_id: h.id,
        message: `error posting a slack message, retry at ${at}`,
        service_message: 'An HTTP protocol error occurred: statusCode = 429',
        retry: at,
        errorSource: 'user',
      })),
      'respond-with-429-no-retry-after': () => retryLater(429, 'user'),
      'respond-with-500': () => retryLater(500, 'framework'),
      'respond-with-502': () => retryLater(502, 'framework'),
      'respond-with-timeout': () => requestError('timeout of 300ms exceeded'),
      'respond-with-reset': () => requestError('socket hang up'),
      'respond-with-large': () => requestError('maxContentLength size of 1024 exceeded'),
    });

    it('answers a webhook whose secret Slack does not know with a 403 user error', async () => {
      const wrong = await h.create({
        secrets: { webhookUrl: `${h.sim.url}/services/T0SIMTEAM1/B0SIMBOT01/not-the-secret` },
      });
      const res = await execute(h.server.api, wrong, { message: 'hi' });
      h.replies.push(res);
      expect(res).toEqual({
        status: 'error',
        connector_id: wrong,
        message: RUN_FAILED,
        service_message: 'Request failed with status code 403',
        retry: true,
        errorSource: 'user',
      });
    });

    it("retries Slack's own rate_limit answer at its Retry-After moment", async () => {
      const kibanaWord = await run('rate_limit');
      expectRetryAt(kibanaWord.retry, 1);
    });
  });

  it('reports a 2xx answer other than "ok" with its text', async () => {
    expect(await run('respond-with-text')).toEqual({
      status: 'error',
      connector_id: h.id,
      message: 'error posting slack message',
      service_message: 'message accepted with warnings',
      errorSource: 'user',
    });
  });

  it('refuses an empty message with Kibana text', async () => {
    expect(await run('')).toEqual({
      status: 'error',
      connector_id: h.id,
      message:
        'error validating action params: [message]: value has length [0] but it must have a minimum length of [1].',
      retry: false,
      errorSource: 'user',
    });
    const extra = await execute(h.server.api, h.id, { message: 'x', channel: '#general' });
    expect(extra).toEqual({
      status: 'error',
      connector_id: h.id,
      message: 'error validating action params: [channel]: definition for this key is missing',
      retry: false,
      errorSource: 'user',
    });
  });

  it('refuses bad secrets and config on create', async () => {
    const { webhookUrl } = h.sim;
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        { secrets: {} },
        'error validating connector type secrets: [webhookUrl]: expected value of type [string] but got [undefined]',
      ],
      [
        { secrets: { webhookUrl: 'not a url' } },
        'error validating connector type secrets: error configuring slack action: unable to parse host name from webhookUrl',
      ],
      [
        { secrets: { webhookUrl, extra: 1 } },
        'error validating connector type secrets: [extra]: definition for this key is missing',
      ],
      [
        { config: { channel: '#x' }, secrets: { webhookUrl } },
        'error validating connector type config: [channel]: definition for this key is missing',
      ],
    ];
    for (const [body, message] of cases) {
      await expectCreateRefused(
        h.server.api,
        { name: 'bad', connector_type_id: '.slack', ...body },
        message,
      );
    }
  });

  it('never shows the webhook secret in a reply or a log line', async () => {
    const got = await h.server.api('GET', `/api/actions/connector/${h.id}`);
    h.replies.push(got.body);
    expect(got.body).toEqual({
      id: h.id,
      name: 'my slack',
      connector_type_id: '.slack',
      config: {},
      is_preconfigured: false,
      is_deprecated: false,
      is_connector_type_deprecated: false,
      is_missing_secrets: false,
      is_system_action: false,
    });
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [WEBHOOK_SECRET], h.replies);
  });
});

describe('.slack with xpack.actions.allowedHosts', () => {
  const h = connectorHarness({
    type: '.slack',
    simulator: () => startSlackSimulator(),
    settings: () => ({ 'xpack.actions.allowedHosts': ['hooks.slack.com'] }),
  });

  it('refuses a webhook URL whose host is not allowed, with Kibana text', async () => {
    const { webhookUrl } = h.sim;
    await expectCreateRefused(
      h.server.api,
      { name: 'x', connector_type_id: '.slack', secrets: { webhookUrl } },
      `error validating connector type secrets: error configuring slack action: target url "${webhookUrl}" is not added to the Kibana config xpack.actions.allowedHosts`,
    );
    expect(h.sim.requests).toHaveLength(0);
    // The refusal quotes the URL back to its sender, as Kibana does; the log never holds it.
    expectNoSecrets(h.server, [new URL(webhookUrl).pathname]);
  });

  it('accepts a webhook URL on an allowed host', async () => {
    const created = await h.create({
      secrets: { webhookUrl: 'https://hooks.slack.com/services/T0/B0/abc' },
    });
    expect(created).toMatch(/^[0-9a-f-]{36}$/);
  });
});
