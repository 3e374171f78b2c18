import { describe, expect, it } from 'vitest';
import {
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { D3_PATH, D3_TOKEN, startD3SecuritySimulator } from '../simulators/d3security.js';

const REFID = expect.stringMatching(/^[0-9a-f-]{36}$/);

describe('.d3security', () => {
  const h = connectorHarness({
    type: '.d3security',
    simulator: startD3SecuritySimulator,
    settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    connector: (sim) => ({ config: { url: `${sim.url}${D3_PATH}` }, secrets: { token: D3_TOKEN } }),
  });
  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);
  const runBody = (body: string) => run({ subAction: 'run', subActionParams: { body } });

  it('is listed with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: '.d3security',
      name: 'D3 Security',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'siem', 'workflows'],
    });
  });

  it('run wraps a JSON body with event type and severity and returns D3 answer', async () => {
    const reply = await run({
      subAction: 'run',
      subActionParams: { body: '{"rule":"r-1","count":2}', severity: 'high', eventType: 'alert' },
    });
    expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: { refid: REFID } });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe(D3_PATH);
    expect(sent.headers.d3key).toBe(D3_TOKEN);
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.text).toBe(
      '{"hits":{"hits":{"_source":{"rawData":{"rule":"r-1","count":2},"event.type":"alert","kibana.alert.severity":"high"}}}}',
    );
  });

  it('sends a body that is not JSON as text, with empty defaults; test does the same', async () => {
    for (const subAction of ['run', 'test']) {
      const reply = await run({ subAction, subActionParams: { body: 'plain words' } });
      expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: { refid: REFID } });
      expect(h.sim.last().json).toEqual({
        hits: {
          hits: {
            _source: { rawData: 'plain words', 'event.type': '', 'kibana.alert.severity': '' },
          },
        },
      });
    }
    await run({ subAction: 'run', subActionParams: {} });
    expect(h.sim.last().json).toEqual({
      hits: { hits: { _source: { rawData: '', 'event.type': '', 'kibana.alert.severity': '' } } },
    });
  });

  const failed = (serviceMessage: string, errorSource: 'user' | 'framework') =>
    thrownEnvelope(h.id, serviceMessage, true, errorSource);

  describe('vendor failures', () => {
    const noAnswer = () =>
      failed('Status code: undefined. Message: Unknown API Error', 'framework');
    failureClassTests(runBody, {
      'respond-with-400': () =>
        failed('Status code: 400. Message: API Error: 400 - Bad Request', 'framework'),
      'respond-with-429': () =>
        failed('Status code: 429. Message: API Error: 429 - Too Many Requests', 'user'),
      'respond-with-429-retry-after-30': () =>
        failed('Status code: 429. Message: API Error: 429 - Too Many Requests', 'user'),
      'respond-with-500': () =>
        failed('Status code: 500. Message: API Error: 500 - Internal Server Error', 'framework'),
      'respond-with-502': () =>
        failed('Status code: 502. Message: API Error: 502 - Bad Gateway', 'framework'),
      'respond-with-timeout': noAnswer,
      'respond-with-reset': noAnswer,
      'respond-with-large': noAnswer,
      'respond-with-no-refid': () =>
        failed(
          'Response validation failed (Error: [refid]: expected value of type [string] but got [undefined])',
          'framework',
        ),
    });

    it('404 for a path D3 does not serve', async () => {
      const elsewhere = await h.create({
        config: { url: `${h.sim.url}/wrong/path` },
        secrets: { token: D3_TOKEN },
      });
      expect(await run({ subAction: 'run', subActionParams: {} }, elsewhere)).toEqual({
        ...failed('Status code: 404. Message: API Error: 404 - Not Found', 'framework'),
        connector_id: elsewhere,
      });
    });

    it('401 for a wrong token', async () => {
      const wrong = await h.create({
        config: { url: `${h.sim.url}${D3_PATH}` },
        secrets: { token: 'wrong-token' },
      });
      expect(await run({ subAction: 'run', subActionParams: {} }, wrong)).toEqual({
        ...failed('Status code: 401. Message: Unauthorized API Error', 'user'),
        connector_id: wrong,
      });
    });
  });

  describe('validation', () => {
    it('checks run params', async () => {
      expect(await run({ subAction: 'run', subActionParams: { body: 1 } })).toEqual(
        failed(
          'Request validation failed (Error: [body]: expected value of type [string] but got [number])',
          'user',
        ),
      );
      expect(await run({ subAction: 'run', subActionParams: { level: 'x' } })).toEqual(
        failed(
          'Request validation failed (Error: [level]: definition for this key is missing)',
          'user',
        ),
      );
    });

    it('refuses an unknown sub action', async () => {
      expect(await run({ subAction: 'stories' })).toEqual(
        failed(
          `Sub action "stories" is not registered. Connector id: ${h.id}. Connector name: D3 Security. Connector type: .d3security`,
          'framework',
        ),
      );
    });

    it('refuses a url outside xpack.actions.allowedHosts and a missing token', async () => {
      const res = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 'd3',
          connector_type_id: '.d3security',
          config: { url: 'https://d3.example/VSOAPI' },
          secrets: { token: 't' },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(
        'error validating connector type config: error validating url: target url "https://d3.example/VSOAPI" is not added to the Kibana config xpack.actions.allowedHosts',
      );
      const noToken = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 'd3',
          connector_type_id: '.d3security',
          config: { url: h.sim.url },
          secrets: {},
        },
      });
      expect(noToken.status).toBe(400);
      expect(noToken.body.message).toBe(
        'error validating connector type secrets: [token]: expected value of type [string] but got [undefined]',
      );
    });
  });

  it('never shows the token in a reply or a log line', () => {
    expectNoSecrets(h.server, [D3_TOKEN], h.replies);
  });
});
