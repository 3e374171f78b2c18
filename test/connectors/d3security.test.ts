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
import { D3_PATH, D3_TOKEN, startD3SecuritySimulator } from '../simulators/d3security.js';

const REFID = expect.stringMatching(/^[0-9a-f-]{36}$/);

describe('.d3security', () => {
  let sim: Simulator;
  let server: TestServer;
  let id: string;
  const replies: unknown[] = [];

  const run = async (params: unknown, connectorId = id): Promise<ExecuteEnvelope> => {
    const reply = await execute(server.api, connectorId, params);
    replies.push(reply);
    return reply;
  };
  const runBody = (body: string) => run({ subAction: 'run', subActionParams: { body } });

  beforeAll(async () => {
    sim = await startD3SecuritySimulator();
    server = await startServer({
      settings: {
        'xpack.actions.allowedHosts': ['127.0.0.1'],
        'xpack.actions.responseTimeout': '300ms',
        'xpack.actions.maxResponseContentLength': '1kb',
      },
    });
    id = await createConnector(server.api, {
      connector_type_id: '.d3security',
      config: { url: `${sim.url}${D3_PATH}` },
      secrets: { token: D3_TOKEN },
    });
  });
  afterAll(async () => {
    await server.close();
    await sim.close();
  });

  it('is listed with Kibana fields', async () => {
    const res = await server.api<Array<{ id: string }>>('GET', '/api/actions/connector_types');
    expect(res.body.find((t) => t.id === '.d3security')).toEqual({
      id: '.d3security',
      name: 'D3 Security',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'siem', 'workflows'],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  it('run wraps a JSON body with event type and severity and returns D3 answer', async () => {
    const reply = await run({
      subAction: 'run',
      subActionParams: { body: '{"rule":"r-1","count":2}', severity: 'high', eventType: 'alert' },
    });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: { refid: REFID } });
    const sent = sim.last();
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
      expect(reply).toEqual({ status: 'ok', connector_id: id, data: { refid: REFID } });
      expect(sim.last().json).toEqual({
        hits: {
          hits: {
            _source: { rawData: 'plain words', 'event.type': '', 'kibana.alert.severity': '' },
          },
        },
      });
    }
    await run({ subAction: 'run', subActionParams: {} });
    expect(sim.last().json).toEqual({
      hits: { hits: { _source: { rawData: '', 'event.type': '', 'kibana.alert.severity': '' } } },
    });
  });

  const failed = (serviceMessage: string, errorSource: 'user' | 'framework') =>
    thrownEnvelope(id, serviceMessage, true, errorSource);

  describe('vendor failures', () => {
    it('400 and 404', async () => {
      expect(await runBody('respond-with-400')).toEqual(
        failed('Status code: 400. Message: API Error: 400 - Bad Request', 'framework'),
      );
      const elsewhere = await createConnector(server.api, {
        connector_type_id: '.d3security',
        config: { url: `${sim.url}/wrong/path` },
        secrets: { token: D3_TOKEN },
      });
      expect(await run({ subAction: 'run', subActionParams: {} }, elsewhere)).toEqual({
        ...failed('Status code: 404. Message: API Error: 404 - Not Found', 'framework'),
        connector_id: elsewhere,
      });
    });

    it('401 for a wrong token', async () => {
      const wrong = await createConnector(server.api, {
        connector_type_id: '.d3security',
        config: { url: `${sim.url}${D3_PATH}` },
        secrets: { token: 'wrong-token' },
      });
      expect(await run({ subAction: 'run', subActionParams: {} }, wrong)).toEqual({
        ...failed('Status code: 401. Message: Unauthorized API Error', 'user'),
        connector_id: wrong,
      });
    });

    it('429 with and without Retry-After', async () => {
      expect(await runBody('respond-with-429')).toEqual(
        failed('Status code: 429. Message: API Error: 429 - Too Many Requests', 'user'),
      );
      expect(await runBody('respond-with-429-retry-after-30')).toEqual(
        failed('Status code: 429. Message: API Error: 429 - Too Many Requests', 'user'),
      );
    });

    it('5xx', async () => {
      expect(await runBody('respond-with-500')).toEqual(
        failed('Status code: 500. Message: API Error: 500 - Internal Server Error', 'framework'),
      );
      expect(await runBody('respond-with-502')).toEqual(
        failed('Status code: 502. Message: API Error: 502 - Bad Gateway', 'framework'),
      );
    });

    it('a timeout, a reset and an oversized answer', async () => {
      for (const magic of ['respond-with-timeout', 'respond-with-reset', 'respond-with-large']) {
        expect(await runBody(magic)).toEqual(
          failed('Status code: undefined. Message: Unknown API Error', 'framework'),
        );
      }
    });

    it('an answer without refid', async () => {
      expect(await runBody('respond-with-no-refid')).toEqual(
        failed(
          'Response validation failed (Error: [refid]: expected value of type [string] but got [undefined])',
          'framework',
        ),
      );
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
          `Sub action "stories" is not registered. Connector id: ${id}. Connector name: D3 Security. Connector type: .d3security`,
          'framework',
        ),
      );
    });

    it('refuses a url outside xpack.actions.allowedHosts and a missing token', async () => {
      const res = await server.api<{ message: string }>('POST', '/api/actions/connector', {
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
      const noToken = await server.api<{ message: string }>('POST', '/api/actions/connector', {
        body: {
          name: 'd3',
          connector_type_id: '.d3security',
          config: { url: sim.url },
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
    expectNoSecrets(server, [D3_TOKEN], replies);
  });
});
