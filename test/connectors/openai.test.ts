import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  badRequest,
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectCreateRefused,
  expectNoSecrets,
  failureClassTests,
  RUN_FAILED,
  retryAt,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { startServer, tempDir } from '../helpers/server.js';
import { executeRaw, within } from '../helpers/streams.js';
import {
  COMPLETION_TEXT,
  completionBody,
  type OpenAISimulator,
  startOpenAISimulator,
  streamEvents,
  USAGE,
} from '../simulators/openai.js';

const API_KEY = 'sk-test-openai-Zq81xLw7';
const AZURE_KEY = 'azure-test-key-Pp27Hd09';
const ORGANIZATION = 'org-simulated';
const PROJECT = 'proj_simulated';

function chat(content: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ messages: [{ role: 'user', content }], ...extra });
}

function headersOf(sim: OpenAISimulator) {
  const { host: _host, connection: _connection, ...headers } = sim.last().headers;
  return headers;
}

function failure(id: string, serviceMessage: string, errorSource: 'user' | 'framework') {
  return thrownEnvelope(id, serviceMessage, true, errorSource);
}

/** Reads until `until` is found in what arrived so far; returns everything read. */
async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: string,
  already = '',
): Promise<string> {
  const decoder = new TextDecoder();
  let text = already;
  while (!text.includes(until)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>, already = '') {
  const decoder = new TextDecoder();
  let text = already;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
}

describe('.gen-ai (OpenAI)', () => {
  const h = connectorHarness({
    type: '.gen-ai',
    simulator: () => startOpenAISimulator({ apiKey: API_KEY, azureApiKey: AZURE_KEY }),
    settings: (sim) => ({ 'connectors.baseUrls': { '.gen-ai': `${sim.url}/` } }),
  });
  let openAiId: string;
  let azureId: string;
  let otherId: string;

  const run = (id: string, params: unknown) => h.run(params, id);

  beforeAll(async () => {
    openAiId = await h.create({
      config: {
        apiProvider: 'OpenAI',
        apiUrl: `${h.sim.url}/v1/chat/completions`,
        organizationId: ORGANIZATION,
        projectId: PROJECT,
        headers: { 'X-Team': 'search' },
      },
      secrets: { apiKey: API_KEY },
    });
    azureId = await h.create({
      config: {
        apiProvider: 'Azure OpenAI',
        apiUrl: `${h.sim.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-15-preview`,
        defaultModel: 'gpt-4o',
      },
      secrets: { apiKey: AZURE_KEY },
    });
    otherId = await h.create({
      config: {
        apiProvider: 'Other',
        apiUrl: `${h.sim.url}/v1/chat/completions`,
        defaultModel: 'llama-3.1',
      },
      secrets: { apiKey: API_KEY },
    });
  });

  it('is listed among the connector types with Kibana fields', async () => {
    const res = await h.server.api<Array<{ id: string }>>(
      'GET',
      '/api/actions/connector_types?feature_id=generativeAIForSecurity',
    );
    expect(res.status).toBe(200);
    expect(res.body.find((t) => t.id === '.gen-ai')).toEqual({
      id: '.gen-ai',
      name: 'OpenAI',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'enterprise',
      supported_feature_ids: [
        'generativeAIForSecurity',
        'generativeAIForObservability',
        'generativeAIForSearchPlayground',
      ],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  describe('create', () => {
    it('fills in the default model of the OpenAI provider', async () => {
      const res = await h.server.api<Record<string, unknown>>('POST', '/api/actions/connector', {
        body: {
          name: 'openai',
          connector_type_id: '.gen-ai',
          config: { apiProvider: 'OpenAI', apiUrl: 'https://api.openai.com/v1/chat/completions' },
          secrets: { apiKey: API_KEY },
        },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'openai',
        connector_type_id: '.gen-ai',
        config: {
          apiProvider: 'OpenAI',
          apiUrl: 'https://api.openai.com/v1/chat/completions',
          defaultModel: 'gpt-4.1',
        },
        is_preconfigured: false,
        is_system_action: false,
        is_deprecated: false,
        is_missing_secrets: false,
        is_connector_type_deprecated: false,
      });
      h.replies.push(res.body);
    });

    const refusals: Array<[string, Record<string, unknown>, Record<string, unknown>, string]> = [
      [
        'a config without apiProvider',
        { apiUrl: 'https://api.openai.com/v1/chat/completions' },
        { apiKey: API_KEY },
        'error validating connector type config: types that failed validation:\n- [0.apiProvider]: expected value to equal [Azure OpenAI]\n- [1.apiProvider]: expected value to equal [OpenAI]\n- [2.apiProvider]: expected value to equal [Other]',
      ],
      [
        'an OpenAI config without apiUrl',
        { apiProvider: 'OpenAI' },
        { apiKey: API_KEY },
        'error validating connector type config: types that failed validation:\n- [0.apiProvider]: expected value to equal [Azure OpenAI]\n- [1.apiUrl]: expected value of type [string] but got [undefined]\n- [2.apiProvider]: expected value to equal [Other]',
      ],
      [
        'an Other config without defaultModel',
        { apiProvider: 'Other', apiUrl: 'https://llm.example.com/v1/chat/completions' },
        { apiKey: API_KEY },
        'error validating connector type config: types that failed validation:\n- [0.apiProvider]: expected value to equal [Azure OpenAI]\n- [1.apiProvider]: expected value to equal [OpenAI]\n- [2.defaultModel]: expected value of type [string] but got [undefined]',
      ],
      [
        'an apiUrl that is not a URL',
        { apiProvider: 'OpenAI', apiUrl: 'not a url' },
        { apiKey: API_KEY },
        'error validating connector type config: Error configuring OpenAI action: Error: URL Error: Invalid URL',
      ],
      [
        'an apiUrl that is not http(s)',
        { apiProvider: 'OpenAI', apiUrl: 'ftp://api.openai.com/v1' },
        { apiKey: API_KEY },
        'error validating connector type config: Error configuring OpenAI action: Error: URL Error: Invalid protocol',
      ],
      [
        'secrets without apiKey',
        { apiProvider: 'OpenAI', apiUrl: 'https://api.openai.com/v1/chat/completions' },
        {},
        'error validating connector type secrets: [apiKey]: expected value of type [string] but got [undefined]',
      ],
      [
        'PKI secrets without a private key',
        { apiProvider: 'Other', apiUrl: 'https://llm.example.com/v1', defaultModel: 'm' },
        {
          certificateData: Buffer.from(
            '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----',
          ).toString('base64'),
        },
        'error validating connector type secrets: Private key data must be provided for PKI',
      ],
      [
        'PKI certificate data that is not PEM',
        { apiProvider: 'Other', apiUrl: 'https://llm.example.com/v1', defaultModel: 'm' },
        {
          certificateData: Buffer.from('not a certificate').toString('base64'),
          privateKeyData: Buffer.from('-----BEGIN PRIVATE KEY-----').toString('base64'),
        },
        'error validating connector type secrets: Invalid Certificate data file format: The file must be a PEM-encoded certificate beginning with "-----BEGIN CERTIFICATE-----".',
      ],
    ];
    for (const [what, config, secrets, message] of refusals) {
      it(`refuses ${what}`, async () => {
        const res = await h.server.api('POST', '/api/actions/connector', {
          body: { name: 'bad', connector_type_id: '.gen-ai', config, secrets },
        });
        expect(res.status).toBe(400);
        expect(res.body).toEqual(badRequest(message));
      });
    }
  });

  describe('OpenAI provider', () => {
    it('runs a chat completion: the exact request OpenAI receives and Kibana data', async () => {
      const body = chat('Hello world', { tool_choice: 'auto', parallel_tool_calls: true });
      const reply = await run(openAiId, { subAction: 'run', subActionParams: { body } });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: openAiId,
        data: completionBody('gpt-4.1'),
      });
      const sent = h.sim.last();
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe('/v1/chat/completions');
      expect([...sent.query]).toEqual([]);
      expect(headersOf(h.sim)).toEqual({
        'x-team': 'search',
        'openai-organization': ORGANIZATION,
        'openai-project': PROJECT,
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        'content-length': String(sent.body.length),
      });
      // stream forced off, the default model filled in, tool options without tools dropped.
      expect(sent.json).toEqual({
        messages: [{ role: 'user', content: 'Hello world' }],
        stream: false,
        model: 'gpt-4.1',
      });
    });

    it('runs `test` as `run`, keeping the model the body names', async () => {
      const body = chat('Hello world', { model: 'gpt-3.5-turbo' });
      const reply = await run(openAiId, { subAction: 'test', subActionParams: { body } });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: openAiId,
        data: completionBody('gpt-3.5-turbo'),
      });
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'Hello world' }],
        model: 'gpt-3.5-turbo',
        stream: false,
      });
    });

    it('invokeAI answers the trimmed message and the token usage', async () => {
      const reply = await run(openAiId, {
        subAction: 'invokeAI',
        subActionParams: {
          messages: [
            { role: 'system', content: 'Be brief' },
            { role: 'user', content: 'Hello' },
          ],
          temperature: 0.2,
          timeout: 60000,
          telemetryMetadata: { pluginId: 'security' },
        },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: openAiId,
        data: { message: COMPLETION_TEXT, usage: USAGE },
      });
      expect(h.sim.last().json).toEqual({
        messages: [
          { role: 'system', content: 'Be brief' },
          { role: 'user', content: 'Hello' },
        ],
        temperature: 0.2,
        stream: false,
        model: 'gpt-4.1',
      });
    });

    it('the stream sub-action without stream answers the JSON completion', async () => {
      const reply = await run(openAiId, {
        subAction: 'stream',
        subActionParams: { body: chat('Hello') },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: openAiId,
        data: completionBody('gpt-4.1'),
      });
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'Hello' }],
        stream: false,
        model: 'gpt-4.1',
      });
    });

    it('streams: the first event reaches the client before the vendor sends the last', async () => {
      const res = await executeRaw(h.server, openAiId, {
        subAction: 'stream',
        subActionParams: { body: chat('hold-stream please'), stream: true },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      const events = streamEvents('gpt-4.1', true);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await readUntil(reader, '\n\n');
      expect(first).toBe(events[0]);
      // The simulator still holds the rest of the answer.
      expect(h.sim.waiting).toBe(1);
      h.sim.release();
      expect(await readAll(reader, first)).toBe(events.join(''));
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'hold-stream please' }],
        stream: true,
        stream_options: { include_usage: true },
        model: 'gpt-4.1',
      });
      expect(h.sim.last().headers.authorization).toBe(`Bearer ${API_KEY}`);
    });

    it('invokeStream streams the vendor bytes unchanged', async () => {
      const res = await executeRaw(h.server, openAiId, {
        subAction: 'invokeStream',
        subActionParams: { messages: [{ role: 'user', content: 'Hello' }], model: 'gpt-4o' },
      });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(streamEvents('gpt-4o', true).join(''));
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'Hello' }],
        model: 'gpt-4o',
        stream: true,
        stream_options: { include_usage: true },
      });
    });

    it('a client that goes away ends the vendor call', async () => {
      const controller = new AbortController();
      const res = await executeRaw(
        h.server,
        openAiId,
        {
          subAction: 'invokeStream',
          subActionParams: { messages: [{ role: 'user', content: 'hold-stream' }] },
        },
        controller.signal,
      );
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await readUntil(reader, '\n\n');
      const before = h.sim.abandoned;
      const abandoned = h.sim.nextAbandon();
      controller.abort();
      await within(abandoned, 5000);
      expect(h.sim.abandoned).toBe(before + 1);
      expect(h.sim.waiting).toBe(0);
    });

    it('a stream that fails answers the envelope with the vendor error', async () => {
      const reply = await run(openAiId, {
        subAction: 'stream',
        subActionParams: { body: chat('respond-with-500'), stream: true },
      });
      expect(reply).toEqual(
        failure(
          openAiId,
          'Status code: 500. Message: API Error: Internal Server Error - The server had an error while processing your request. Sorry about that!',
          'framework',
        ),
      );
    });

    failureClassTests(
      (word) => run(openAiId, { subAction: 'run', subActionParams: { body: chat(word) } }),
      {
        'respond-with-400': () =>
          failure(
            openAiId,
            "Status code: 400. Message: API Error: Bad Request - This model's maximum context length is 8192 tokens. However, your messages resulted in 11036 tokens. Please reduce the length of the messages.",
            'framework',
          ),
        'respond-with-401': () =>
          failure(
            openAiId,
            'Status code: 401. Message: Unauthorized API Error - Incorrect API key provided: ****wxyz. You can find your API key at https://platform.openai.com/account/api-keys.',
            'user',
          ),
        'respond-with-404': () =>
          failure(
            openAiId,
            'Status code: 404. Message: API Error: Not Found - The model `gpt-4.1` does not exist or you do not have access to it.',
            'framework',
          ),
        'respond-with-422': () =>
          failure(
            openAiId,
            'Status code: 422. Message: API Error: Unprocessable Entity - The model `bad model` does not exist',
            'user',
          ),
        'respond-with-429': () =>
          failure(
            openAiId,
            'Status code: 429. Message: API Error: Too Many Requests - You exceeded your current quota, please check your plan and billing details.',
            'user',
          ),
        'respond-with-500': () =>
          failure(
            openAiId,
            'Status code: 500. Message: API Error: Internal Server Error - The server had an error while processing your request. Sorry about that!',
            'framework',
          ),
        'respond-with-502': () =>
          failure(openAiId, 'Status code: 502. Message: API Error: Bad Gateway', 'framework'),
        'respond-with-503': () =>
          failure(
            openAiId,
            'Status code: 503. Message: API Error: Service Unavailable - The engine is currently overloaded, please try again later',
            'framework',
          ),
        'respond-with-reset': () =>
          failure(
            openAiId,
            'Status code: undefined. Message: Unexpected API Error: ECONNRESET - socket hang up',
            'framework',
          ),
        // The vendor's Retry-After of a 429 is the retry date.
        'respond-with-429-retry-after': retryAt(30, (retry) => ({
          status: 'error',
          connector_id: openAiId,
          message: RUN_FAILED,
          service_message:
            'Status code: 429. Message: API Error: Too Many Requests - Rate limit reached for gpt-4.1 on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 30s.',
          retry,
          errorSource: 'user',
        })),
        'respond-with-bad-shape': () =>
          failure(
            openAiId,
            'Response validation failed (Error: [usage]: expected a plain object value, but found [undefined] instead.)',
            'framework',
          ),
      },
    );

    it('reports a wrong API key with OpenAI 401 text', async () => {
      const id = await createConnector(h.server.api, {
        connector_type_id: '.gen-ai',
        config: { apiProvider: 'OpenAI', apiUrl: `${h.sim.url}/v1/chat/completions` },
        secrets: { apiKey: 'sk-wrong-key-0000abcd' },
      });
      const reply = await run(id, { subAction: 'run', subActionParams: { body: chat('Hi') } });
      expect(reply).toEqual(
        failure(
          id,
          'Status code: 401. Message: Unauthorized API Error - Incorrect API key provided: *****************abcd. You can find your API key at https://platform.openai.com/account/api-keys.',
          'user',
        ),
      );
    });

    it('refuses params without a sub-action', async () => {
      expect(await run(openAiId, {})).toEqual({
        status: 'error',
        connector_id: openAiId,
        message:
          'error validating action params: [subAction]: expected value of type [string] but got [undefined]',
        retry: false,
        errorSource: 'user',
      });
    });

    it('refuses sub-action params that do not match the sub-action', async () => {
      expect(await run(openAiId, { subAction: 'run', subActionParams: { body: 1 } })).toEqual(
        failure(
          openAiId,
          'Request validation failed (Error: [body]: expected value of type [string] but got [number])',
          'user',
        ),
      );
      expect(
        await run(openAiId, {
          subAction: 'invokeAI',
          subActionParams: { messages: [{ role: 'user' }] },
        }),
      ).toEqual(
        failure(
          openAiId,
          'Request validation failed (Error: [messages.0.content]: expected value of type [string] but got [undefined])',
          'user',
        ),
      );
    });

    it('does not know sub-actions that need Kibana saved objects', async () => {
      expect(
        await run(openAiId, { subAction: 'getDashboard', subActionParams: { dashboardId: 'd' } }),
      ).toEqual(
        failure(
          openAiId,
          `Sub action "getDashboard" is not registered. Connector id: ${openAiId}. Connector name: OpenAI. Connector type: .gen-ai`,
          'framework',
        ),
      );
    });

    it('sends the body as written to an endpoint that takes no stream flag', async () => {
      const id = await createConnector(h.server.api, {
        connector_type_id: '.gen-ai',
        config: { apiProvider: 'OpenAI', apiUrl: `${h.sim.url}/v1/chat/completions/` },
        secrets: { apiKey: API_KEY },
      });
      const body = chat('Hello world', { model: 'gpt-3.5-turbo' });
      const reply = await run(id, { subAction: 'test', subActionParams: { body } });
      expect(reply.status).toBe('ok');
      // A trailing slash is dropped from the URL; the stream flag is only set on OpenAI's own URL.
      expect(h.sim.last().path).toBe('/v1/chat/completions');
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'Hello world' }],
        model: 'gpt-3.5-turbo',
      });
    });
  });

  describe('Azure OpenAI provider', () => {
    it('runs with the api-key header and the deployment URL as configured', async () => {
      const reply = await run(azureId, { subAction: 'run', subActionParams: { body: chat('Hi') } });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: azureId,
        data: completionBody('gpt-4o'),
      });
      const sent = h.sim.last();
      expect(sent.path).toBe('/openai/deployments/gpt-4o/chat/completions');
      expect([...sent.query]).toEqual([['api-version', '2024-02-15-preview']]);
      expect(headersOf(h.sim)).toEqual({
        'api-key': AZURE_KEY,
        'content-type': 'application/json',
        'content-length': String(sent.body.length),
      });
      expect(sent.json).toEqual({
        messages: [{ role: 'user', content: 'Hi' }],
        stream: false,
        model: 'gpt-4o',
      });
    });

    it('streams with usage requested', async () => {
      const res = await executeRaw(h.server, azureId, {
        subAction: 'invokeStream',
        subActionParams: { messages: [{ role: 'user', content: 'Hi' }] },
      });
      expect(await res.text()).toBe(streamEvents('gpt-4o', true).join(''));
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_usage: true },
        model: 'gpt-4o',
      });
    });

    it('reports an Azure 401', async () => {
      const id = await createConnector(h.server.api, {
        connector_type_id: '.gen-ai',
        config: {
          apiProvider: 'Azure OpenAI',
          apiUrl: `${h.sim.url}/openai/deployments/gpt-4o/chat/completions?api-version=2024-02-15-preview`,
        },
        secrets: { apiKey: 'wrong' },
      });
      const reply = await run(id, { subAction: 'run', subActionParams: { body: chat('Hi') } });
      expect(reply).toEqual(
        failure(
          id,
          'Status code: 401. Message: Unauthorized API Error - Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
          'user',
        ),
      );
    });
  });

  describe('Other (OpenAI-compatible) provider', () => {
    it('runs with stream off and the model left as written', async () => {
      const reply = await run(otherId, {
        subAction: 'run',
        subActionParams: { body: chat('Hi', { model: 'mistral' }) },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: otherId,
        data: completionBody('mistral'),
      });
      expect(headersOf(h.sim)).toEqual({
        authorization: `Bearer ${API_KEY}`,
        'content-type': 'application/json',
        'content-length': String(h.sim.last().body.length),
      });
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'Hi' }],
        model: 'mistral',
        stream: false,
      });
    });

    it('streams with the default model filled in and no usage option', async () => {
      const res = await executeRaw(h.server, otherId, {
        subAction: 'stream',
        subActionParams: { body: chat('Hi'), stream: true },
      });
      expect(await res.text()).toBe(streamEvents('llama-3.1', false).join(''));
      expect(h.sim.last().json).toEqual({
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        model: 'llama-3.1',
      });
    });
  });

  it('never shows or logs the API keys', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [API_KEY, AZURE_KEY], h.replies);
  });
});

describe('.gen-ai limits and allowed hosts', () => {
  const h = connectorHarness({
    type: '.gen-ai',
    simulator: () => startOpenAISimulator({ apiKey: API_KEY }),
    settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    connector: (sim) => ({
      config: {
        apiProvider: 'Other',
        apiUrl: `${sim.url}/v1/chat/completions`,
        defaultModel: 'm',
      },
      secrets: { apiKey: API_KEY },
    }),
  });

  it('times out after xpack.actions.responseTimeout', async () => {
    // Kibana waits max(responseTimeout, the sub-action timeout) for an answer.
    const reply = await execute(h.server.api, h.id, {
      subAction: 'run',
      subActionParams: { body: chat('respond-with-timeout', { model: 'm' }), timeout: 100 },
    });
    expect(reply).toEqual(
      failure(
        h.id,
        'Status code: undefined. Message: Unexpected API Error: ECONNABORTED - timeout of 300ms exceeded',
        'framework',
      ),
    );
  });

  it('refuses an answer larger than xpack.actions.maxResponseContentLength', async () => {
    const reply = await execute(h.server.api, h.id, {
      subAction: 'run',
      subActionParams: { body: chat('respond-with-large', { model: 'm' }) },
    });
    expect(reply).toEqual(
      failure(
        h.id,
        'Status code: undefined. Message: Unexpected API Error: ERR_BAD_RESPONSE - maxContentLength size of 1024 exceeded',
        'framework',
      ),
    );
  });

  it('refuses an apiUrl whose host is not allowed', async () => {
    await expectCreateRefused(
      h.server.api,
      {
        name: 'elsewhere',
        connector_type_id: '.gen-ai',
        config: { apiProvider: 'OpenAI', apiUrl: 'http://genai.mynonexistent.com' },
        secrets: { apiKey: API_KEY },
      },
      'error validating connector type config: Error configuring OpenAI action: Error: error validating url: target url "http://genai.mynonexistent.com" is not added to the Kibana config xpack.actions.allowedHosts',
    );
  });
});

describe('.gen-ai after xpack.actions.allowedHosts changes', () => {
  it('refuses to run a stored connector whose host is no longer allowed', async () => {
    const dataDir = tempDir();
    const before = await startServer({ dataDir });
    const id = await createConnector(before.api, {
      connector_type_id: '.gen-ai',
      config: { apiProvider: 'OpenAI', apiUrl: 'https://api.openai.com/v1/chat/completions' },
      secrets: { apiKey: API_KEY },
    });
    await before.close();
    const after = await startServer({
      dataDir,
      settings: { 'xpack.actions.allowedHosts': ['127.0.0.1'] },
    });
    try {
      expect(
        await execute(after.api, id, { subAction: 'run', subActionParams: { body: chat('Hi') } }),
      ).toEqual({
        status: 'error',
        connector_id: id,
        message:
          'error validating connector type config: Error configuring OpenAI action: Error: error validating url: target url "https://api.openai.com/v1/chat/completions" is not added to the Kibana config xpack.actions.allowedHosts',
        retry: false,
        errorSource: 'framework',
      });
    } finally {
      await after.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made for this run. */
function makePki(): Pki {
  const dir = tempDir('kcs-pki-');
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...keyArgs,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=test-ca',
    '-days',
    '1',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const name of ['server', 'client']) {
    openssl(
      'req',
      ...keyArgs,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    );
  }
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
  };
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('.gen-ai Other provider with PKI', () => {
  let pki: Pki;
  const h = connectorHarness({
    type: '.gen-ai',
    simulator: () => {
      pki = makePki();
      return startOpenAISimulator({
        apiKey: API_KEY,
        https: {
          key: pki.serverKey,
          cert: pki.serverCert,
          ca: pki.ca,
          requestCert: true,
          rejectUnauthorized: true,
        },
      });
    },
  });
  afterAll(() => {
    rmSync(pki.dir, { recursive: true, force: true });
  });

  const create = (secrets: Record<string, unknown>, url = h.sim.url) =>
    h.create({
      config: {
        apiProvider: 'Other',
        apiUrl: `${url}/v1/chat/completions`,
        defaultModel: 'local',
        verificationMode: 'full',
      },
      secrets,
    });

  it('presents the client certificate and trusts the given CA', async () => {
    const id = await create({
      apiKey: API_KEY,
      certificateData: b64(pki.clientCert),
      privateKeyData: b64(pki.clientKey),
      caData: b64(pki.ca),
    });
    const reply = await execute(h.server.api, id, {
      subAction: 'run',
      subActionParams: { body: chat('Hi', { model: 'local' }) },
    });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: completionBody('local') });
    expect(h.sim.last().headers.authorization).toBe(`Bearer ${API_KEY}`);
  });

  it('cannot reach a server that requires a client certificate without one', async () => {
    const id = await create({ apiKey: API_KEY, caData: b64(pki.ca) });
    const before = h.sim.requests.length;
    const reply = await execute(h.server.api, id, {
      subAction: 'run',
      subActionParams: { body: chat('Hi', { model: 'local' }) },
    });
    expect(reply).toMatchObject({ status: 'error', message: RUN_FAILED, retry: true });
    expect(reply.service_message).toMatch(
      /^Status code: undefined\. Message: Unexpected API Error: /,
    );
    expect(h.sim.requests.length).toBe(before);
  });

  it('explains a server certificate it cannot verify', async () => {
    // This server sends its certificate without the CA that signed it.
    const bare = await startOpenAISimulator({
      apiKey: API_KEY,
      https: { key: pki.serverKey, cert: pki.serverCert },
    });
    const id = await create(
      {
        apiKey: API_KEY,
        certificateData: b64(pki.clientCert),
        privateKeyData: b64(pki.clientKey),
      },
      bare.url,
    );
    const reply: ExecuteEnvelope = await execute(h.server.api, id, {
      subAction: 'run',
      subActionParams: { body: chat('Hi', { model: 'local' }) },
    });
    await bare.close();
    expect(bare.requests).toHaveLength(0);
    expect(reply).toEqual(
      thrownEnvelope(
        id,
        'Certificate error: Status code: undefined. Message: Unexpected API Error: UNABLE_TO_VERIFY_LEAF_SIGNATURE - unable to verify the first certificate. Please check if your PKI certificates are valid or adjust SSL verification mode.',
        true,
        'framework',
      ),
    );
  });

  it('never logs the private key', () => {
    expectNoSecrets(h.server, [b64(pki.clientKey), API_KEY]);
  });
});
