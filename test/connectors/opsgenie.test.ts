import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { OPSGENIE_API_KEY, startOpsgenieSimulator } from '../simulators/opsgenie.js';

const ACCEPTED = {
  result: 'Request will be processed',
  took: 0.107,
  requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
};

describe('.opsgenie', () => {
  const h = connectorHarness({
    type: '.opsgenie',
    simulator: startOpsgenieSimulator,
    settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    connector: (sim) => ({ config: { apiUrl: sim.url }, secrets: { apiKey: OPSGENIE_API_KEY } }),
  });
  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);
  const create = (message: string, extra: Record<string, unknown> = {}) =>
    run({ subAction: 'createAlert', subActionParams: { message, ...extra } });

  it('is listed with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: '.opsgenie',
      name: 'Opsgenie',
      minimum_license_required: 'platinum',
      supported_feature_ids: ['alerting', 'uptime', 'siem', 'workflows'],
    });
  });

  it('createAlert posts the alert with the GenieKey and returns Opsgenie answer', async () => {
    const params = {
      message: 'CPU high',
      alias: 'cpu-high-host-1',
      description: 'CPU above 90%',
      responders: [
        { name: 'ops', type: 'team' },
        { id: 'u-1', type: 'user' },
        { username: 'jane@example.com', type: 'user' },
      ],
      visibleTo: [{ name: 'ops', type: 'team' }],
      actions: ['restart'],
      tags: ['prod'],
      details: { host: 'host-1' },
      entity: 'host-1',
      source: 'kibana',
      priority: 'P2',
      user: 'elastic',
      note: 'first note',
    };
    const reply = await run({ subAction: 'createAlert', subActionParams: params });
    expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: ACCEPTED });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v2/alerts');
    expect([...sent.query.keys()]).toEqual([]);
    expect(sent.headers.authorization).toBe(`GenieKey ${OPSGENIE_API_KEY}`);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.json).toEqual(params);
  });

  it('truncates the message to 130 characters', async () => {
    const long = 'm'.repeat(200);
    expect((await create(long)).status).toBe('ok');
    expect((h.sim.last().json as { message: string }).message).toBe('m'.repeat(130));
  });

  it('hashes an alias longer than 512 characters, and keeps one of 512', async () => {
    const long = 'a'.repeat(513);
    await create('x', { alias: long });
    const hashed = `sha-${createHash('sha256').update(long).digest('hex')}`;
    expect((h.sim.last().json as { alias: string }).alias).toBe(hashed);
    await create('x', { alias: 'b'.repeat(512) });
    expect((h.sim.last().json as { alias: string }).alias).toBe('b'.repeat(512));

    const closed = await run({ subAction: 'closeAlert', subActionParams: { alias: long } });
    expect(closed.status).toBe('ok');
    expect(h.sim.last().path).toBe(`/v2/alerts/${hashed}/close`);
  });

  it('closeAlert posts to the alias with identifierType=alias and the rest as body', async () => {
    const reply = await run({
      subAction: 'closeAlert',
      subActionParams: { alias: 'cpu-high-host-1', user: 'elastic', source: 'kibana', note: 'ok' },
    });
    expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: ACCEPTED });
    const sent = h.sim.last();
    expect(sent.path).toBe('/v2/alerts/cpu-high-host-1/close');
    expect(sent.query.toString()).toBe('identifierType=alias');
    expect(sent.headers.authorization).toBe(`GenieKey ${OPSGENIE_API_KEY}`);
    expect(sent.json).toEqual({ user: 'elastic', source: 'kibana', note: 'ok' });

    await run({ subAction: 'closeAlert', subActionParams: { alias: 'only' } });
    expect(h.sim.last().text).toBe('{}');
  });

  it('resolves its paths against apiUrl as a relative link, as Kibana does', async () => {
    const prefixed = await h.create({
      config: { apiUrl: `${h.sim.url}/ignored` },
      secrets: { apiKey: OPSGENIE_API_KEY },
    });
    expect(
      (await run({ subAction: 'createAlert', subActionParams: { message: 'x' } }, prefixed)).status,
    ).toBe('ok');
    expect(h.sim.last().path).toBe('/v2/alerts');
  });

  describe('vendor failures', () => {
    const failed = (serviceMessage: string, errorSource: 'user' | 'framework') =>
      thrownEnvelope(h.id, serviceMessage, true, errorSource);

    // 422 names Opsgenie's message and errors; 5xx comes with and without a JSON body.
    failureClassTests(create, {
      'respond-with-422': () =>
        failed(
          'Status code: 422. Message: Request body is not processable. Please check the errors.: {"message":"Message can not be empty."}',
          'user',
        ),
      'respond-with-400': () => failed('Status code: 400. Message: simulated 400', 'framework'),
      'respond-with-404': () => failed('Status code: 404. Message: simulated 404', 'framework'),
      'respond-with-429': () => failed('Status code: 429. Message: simulated 429', 'user'),
      'respond-with-429-retry-after-30': () =>
        failed('Status code: 429. Message: Too many requests', 'user'),
      'respond-with-500': () => failed('Status code: 500. Message: simulated 500', 'framework'),
      'respond-with-502': () => failed('Status code: 502. Message: simulated 502', 'framework'),
      'respond-with-text-503': () =>
        failed('Status code: 503. Message: Request failed with status code 503', 'framework'),
      'respond-with-timeout': () =>
        failed('Status code: undefined. Message: timeout of 300ms exceeded', 'framework'),
      'respond-with-reset': () =>
        failed('Status code: undefined. Message: socket hang up', 'framework'),
      'respond-with-large': () =>
        failed(
          'Status code: undefined. Message: maxContentLength size of 1024 exceeded',
          'framework',
        ),
      'respond-with-odd-body': () =>
        failed(
          'Response validation failed (Error: types that failed validation:\n- [0.took]: expected value of type [number] but got [undefined]\n- [1.took]: expected value of type [number] but got [undefined])',
          'framework',
        ),
    });

    it('401 for a wrong key', async () => {
      const wrong = await h.create({
        config: { apiUrl: h.sim.url },
        secrets: { apiKey: 'wrong-key' },
      });
      expect(
        await run({ subAction: 'createAlert', subActionParams: { message: 'x' } }, wrong),
      ).toEqual({
        ...failed('Status code: 401. Message: Could not authenticate', 'user'),
        connector_id: wrong,
      });
    });
  });

  describe('validation', () => {
    const invalid = (detail: string) => ({
      status: 'error',
      connector_id: h.id,
      message: 'an error occurred while running the action',
      service_message: `Request validation failed (Error: ${detail})`,
      retry: true,
      errorSource: 'user',
    });

    it('checks createAlert params', async () => {
      expect(await run({ subAction: 'createAlert', subActionParams: {} })).toEqual(
        invalid('[message]: expected value of type [string] but got [undefined]'),
      );
      expect(await create('   ')).toEqual(
        invalid('[message]: must be populated with a value other than just whitespace'),
      );
      expect(await create('m'.repeat(15001))).toEqual(
        invalid(
          '[message]: value has length [15001] but it must have a maximum length of [15000].',
        ),
      );
      expect(await create('x', { responders: [{ type: 'team' }] })).toEqual(
        invalid(
          '[responders.0]: Each responder must have a "type" (team|user|escalation|schedule) and one of "name", "id", or "username"',
        ),
      );
      expect(await create('x', { visibleTo: [{ name: 'n', type: 'user' }] })).toEqual(
        invalid(
          '[visibleTo.0]: Each visible target must have a "type" (team|user) and one of "name", "id", or "username"',
        ),
      );
      expect(await create('x', { priority: 'P9' })).toEqual(
        invalid(
          '[priority]: types that failed validation:\n- [priority.0]: expected value to equal [P1]\n- [priority.1]: expected value to equal [P2]\n- [priority.2]: expected value to equal [P3]\n- [priority.3]: expected value to equal [P4]\n- [priority.4]: expected value to equal [P5]',
        ),
      );
      expect(await create('x', { tags: Array.from({ length: 21 }, () => 't') })).toEqual(
        invalid('[tags]: array size is [21], but cannot be greater than [20]'),
      );
      expect(await create('x', { unknown: 1 })).toEqual(
        invalid('[unknown]: definition for this key is missing'),
      );
    });

    it('checks closeAlert params', async () => {
      expect(await run({ subAction: 'closeAlert', subActionParams: { note: 'n' } })).toEqual(
        invalid('[alias]: expected value of type [string] but got [undefined]'),
      );
    });

    it('refuses an unknown sub action', async () => {
      expect(await run({ subAction: 'deleteAlert', subActionParams: {} })).toEqual({
        status: 'error',
        connector_id: h.id,
        message: 'an error occurred while running the action',
        service_message: `Sub action "deleteAlert" is not registered. Connector id: ${h.id}. Connector name: Opsgenie. Connector type: .opsgenie`,
        retry: true,
        errorSource: 'framework',
      });
    });

    it('refuses params that are not the framework shape', async () => {
      expect(await run({ subAction: 'createAlert', subActionParams: 'text' })).toEqual({
        status: 'error',
        connector_id: h.id,
        message: expect.stringMatching(/^error validating action params: \[subActionParams\]: /),
        retry: false,
        errorSource: 'user',
      });
    });

    it('refuses an apiUrl outside xpack.actions.allowedHosts, and a missing key', async () => {
      const res = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 'og',
          connector_type_id: '.opsgenie',
          config: { apiUrl: 'https://api.opsgenie.com' },
          secrets: { apiKey: 'k' },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(
        'error validating connector type config: error validating url: target url "https://api.opsgenie.com" is not added to the Kibana config xpack.actions.allowedHosts',
      );
      const noKey = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 'og',
          connector_type_id: '.opsgenie',
          config: { apiUrl: h.sim.url },
          secrets: {},
        },
      });
      expect(noKey.status).toBe(400);
      expect(noKey.body.message).toBe(
        'error validating connector type secrets: [apiKey]: expected value of type [string] but got [undefined]',
      );
      const noUrl = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: { name: 'og', connector_type_id: '.opsgenie', config: {}, secrets: { apiKey: 'k' } },
      });
      expect(noUrl.body.message).toBe(
        'error validating connector type config: [apiUrl]: expected value of type [string] but got [undefined]',
      );
    });
  });

  it('never shows the API key in a reply or a log line', () => {
    expectNoSecrets(h.server, [OPSGENIE_API_KEY], h.replies);
  });
});
