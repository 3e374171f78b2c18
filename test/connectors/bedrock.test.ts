import { describe, expect, it } from 'vitest';
import { canonicalQuery, canonicalUri, signV4 } from '../../src/connectors/bedrock/sigv4.js';
import {
  badRequest,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  RUN_FAILED,
  retryAt,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { executeRaw, within } from '../helpers/streams.js';
import type { RecordedRequest } from '../simulators/base.js';
import {
  COMPLETION_TEXT,
  CONVERSE_ANSWER,
  converseStreamFrames,
  decodeFrames,
  LEGACY_ANSWER,
  messageStreamEvents,
  messageStreamFrames,
  messagesAnswer,
  startBedrockSimulator,
  USAGE,
  verifySigV4,
} from '../simulators/bedrock.js';

const ACCESS_KEY = 'AKIASIMULATED7Q2W';
const SECRET = 'sImUlAtEd/SeCrEt+KeY0123456789abcdefGHIJ';
const DEFAULT_MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const DEFAULT_MODEL_PATH = '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0';
const AMZ_DATE = /^\d{8}T\d{6}Z$/;

function failure(id: string, serviceMessage: string, errorSource: 'user' | 'framework') {
  return thrownEnvelope(id, serviceMessage, true, errorSource);
}

function signedBy(req: RecordedRequest, signedHeaders: string): void {
  const day = String(req.headers['x-amz-date']).slice(0, 8);
  expect(req.headers.authorization).toMatch(
    new RegExp(
      `^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/${day}/us-east-1/bedrock/aws4_request, SignedHeaders=${signedHeaders}, Signature=[0-9a-f]{64}$`,
    ),
  );
}

function headersOf(req: RecordedRequest) {
  const { connection: _connection, authorization: _authorization, ...headers } = req.headers;
  return headers;
}

async function readBytes(reader: ReadableStreamDefaultReader<Uint8Array>, atLeast: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  while (size < atLeast) {
    const { value, done } = await reader.read();
    if (done) break;
    chunks.push(Buffer.from(value));
    size += value.length;
  }
  return Buffer.concat(chunks);
}

describe('SigV4 signing', () => {
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const date = new Date('2015-08-30T12:36:00Z');
  const sign = (input: { method: string; host: string; query?: string; service: string }) =>
    signV4({
      ...input,
      path: '/',
      headers:
        input.service === 'iam'
          ? { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' }
          : {},
      body: '',
      region: 'us-east-1',
      credentials,
      date,
    });

  // AWS's published examples: the IAM ListUsers walkthrough and the sigv4 test suite.
  it.each([
    [
      'iam ListUsers',
      {
        method: 'GET',
        host: 'iam.amazonaws.com',
        query: 'Action=ListUsers&Version=2010-05-08',
        service: 'iam',
      },
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    ],
    [
      'get-vanilla',
      { method: 'GET', host: 'example.amazonaws.com', service: 'service' },
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    ],
    [
      'post-vanilla',
      { method: 'POST', host: 'example.amazonaws.com', service: 'service' },
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    ],
    [
      'get-vanilla-query-order-key-case',
      {
        method: 'GET',
        host: 'example.amazonaws.com',
        query: 'Param2=value2&Param1=value1',
        service: 'service',
      },
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    ],
  ])('matches the %s example', (_name, input, authorization) => {
    const headers = sign(input);
    expect(headers.Authorization).toBe(authorization);
    expect(headers['X-Amz-Date']).toBe('20150830T123600Z');
    expect(headers.Host).toBe(input.host);
  });

  it('encodes path segments once more, except for S3', () => {
    expect(canonicalUri('/model/a.b-v1%3A0/invoke', 'bedrock')).toBe('/model/a.b-v1%253A0/invoke');
    expect(canonicalUri('//a/./b/../c', 'bedrock')).toBe('/a/c');
    expect(canonicalUri('/a%20b/c', 's3')).toBe('/a%20b/c');
    expect(canonicalQuery('b=2&a=%2A&a=1')).toBe('a=%2A&a=1&b=2');
  });

  it('adds and signs Content-Length when there is a body', () => {
    const headers = signV4({
      method: 'POST',
      host: 'bedrock-runtime.us-east-1.amazonaws.com',
      path: '/model/m/invoke',
      headers: { 'Content-Type': 'application/json' },
      body: '{"a":"é"}',
      region: 'us-east-1',
      service: 'bedrock',
      credentials,
      date,
    });
    expect(headers['Content-Length']).toBe('10');
    expect(headers.Authorization).toContain(
      'SignedHeaders=content-length;content-type;host;x-amz-date,',
    );
  });

  it('is accepted by the simulator verification, and a changed byte is not', () => {
    const body = '{"messages":[]}';
    const headers = signV4({
      method: 'POST',
      host: '127.0.0.1:9',
      path: '/model/x%3A0/invoke',
      headers: { 'Content-Type': 'application/json' },
      body,
      region: 'us-east-1',
      service: 'bedrock',
      credentials,
    });
    const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    const request = {
      method: 'POST',
      path: '/model/x%3A0/invoke',
      query: new URLSearchParams(),
      headers: lower,
      body: Buffer.from(body),
    };
    const secrets = { AKIDEXAMPLE: credentials.secretAccessKey };
    const scope = { region: 'us-east-1', service: 'bedrock' };
    expect(verifySigV4(request, secrets, scope)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE' });
    expect(
      verifySigV4({ ...request, body: Buffer.from('{"messages":[1]}') }, secrets, scope),
    ).toMatchObject({
      ok: false,
      type: 'InvalidSignatureException',
    });
    expect(verifySigV4({ ...request, path: '/model/y%3A0/invoke' }, secrets, scope)).toMatchObject({
      ok: false,
    });
    expect(
      verifySigV4(request, secrets, { ...scope, now: Date.now() + 10 * 60 * 1000 }),
    ).toMatchObject({
      ok: false,
      message: expect.stringMatching(/^Signature expired: /),
    });
  });
});

describe('.bedrock (Amazon Bedrock)', () => {
  const h = connectorHarness({
    type: '.bedrock',
    simulator: () => startBedrockSimulator({ credentials: { [ACCESS_KEY]: SECRET } }),
    connector: (sim) => ({
      config: { apiUrl: sim.url },
      secrets: { accessKey: ACCESS_KEY, secret: SECRET },
    }),
  });
  const run = (connectorId: string, params: unknown) => h.run(params, connectorId);

  it('is listed among the connector types with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: '.bedrock',
      name: 'Amazon Bedrock',
      minimum_license_required: 'enterprise',
      supported_feature_ids: [
        'generativeAIForSecurity',
        'generativeAIForObservability',
        'generativeAIForSearchPlayground',
        'workflows',
      ],
    });
  });

  describe('create', () => {
    it('falls back to the default model', async () => {
      const res = await h.server.api<Record<string, unknown>>('POST', '/api/actions/connector', {
        body: {
          name: 'bedrock',
          connector_type_id: '.bedrock',
          config: { apiUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com' },
          secrets: { accessKey: ACCESS_KEY, secret: SECRET },
        },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'bedrock',
        connector_type_id: '.bedrock',
        config: {
          apiUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com',
          defaultModel: DEFAULT_MODEL,
        },
        is_preconfigured: false,
        is_system_action: false,
        is_deprecated: false,
        is_missing_secrets: false,
        is_connector_type_deprecated: false,
      });
      h.replies.push(res.body);
    });

    it.each([
      [
        'a config without apiUrl',
        {},
        { accessKey: ACCESS_KEY, secret: SECRET },
        'error validating connector type config: [apiUrl]: expected value of type [string] but got [undefined]',
      ],
      [
        'an apiUrl that is not a URL',
        { apiUrl: 'bedrock' },
        { accessKey: ACCESS_KEY, secret: SECRET },
        'error validating connector type config: Error configuring Amazon Bedrock action: Error: URL Error: Invalid URL',
      ],
      [
        'secrets without accessKey',
        { apiUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com' },
        { secret: SECRET },
        'error validating connector type secrets: [accessKey]: expected value of type [string] but got [undefined]',
      ],
      [
        'secrets without secret',
        { apiUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com' },
        { accessKey: ACCESS_KEY },
        'error validating connector type secrets: [secret]: expected value of type [string] but got [undefined]',
      ],
      [
        'unknown config keys',
        { apiUrl: 'https://bedrock-runtime.us-east-1.amazonaws.com', model: 'x' },
        { accessKey: ACCESS_KEY, secret: SECRET },
        'error validating connector type config: [model]: definition for this key is missing',
      ],
    ])('refuses %s', async (_what, config, secrets, message) => {
      const res = await h.server.api('POST', '/api/actions/connector', {
        body: { name: 'bad', connector_type_id: '.bedrock', config, secrets },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(badRequest(message));
    });
  });

  describe('sub-actions', () => {
    const MESSAGES_BODY = {
      anthropic_version: 'bedrock-2023-05-31',
      messages: [{ role: 'user', content: 'Hello world' }],
      max_tokens: 8191,
      stop_sequences: ['\n\nHuman:'],
    };

    it('runs a Messages API body, signed, and answers Kibana data', async () => {
      const body = JSON.stringify(MESSAGES_BODY);
      const reply = await run(h.id, { subAction: 'run', subActionParams: { body } });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { completion: COMPLETION_TEXT, stop_reason: 'end_turn', usage: USAGE },
      });
      const sent = h.sim.last();
      expect(sent.method).toBe('POST');
      expect(sent.path).toBe(`${DEFAULT_MODEL_PATH}/invoke`);
      expect([...sent.query]).toEqual([]);
      expect(sent.text).toBe(body);
      expect(headersOf(sent)).toEqual({
        'content-type': 'application/json',
        accept: '*/*',
        host: new URL(h.sim.url).host,
        'content-length': String(Buffer.byteLength(body)),
        'x-amz-date': expect.stringMatching(AMZ_DATE),
      });
      signedBy(sent, 'accept;content-length;content-type;host;x-amz-date');
    });

    it('runs `test` with another model and a legacy prompt body', async () => {
      const body = JSON.stringify({
        prompt: '\n\nHuman: Hello world!\n\nAssistant:',
        max_tokens_to_sample: 300,
        stop_sequences: ['\n\nHuman:'],
      });
      const reply = await run(h.id, {
        subAction: 'test',
        subActionParams: { body, model: 'anthropic.claude-v2:1' },
      });
      expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: LEGACY_ANSWER });
      expect(h.sim.last().path).toBe('/model/anthropic.claude-v2%3A1/invoke');
      expect(h.sim.last().text).toBe(body);
    });

    it('encodes an inference-profile ARN once, even when given encoded', async () => {
      const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc';
      for (const model of [arn, encodeURIComponent(arn)]) {
        const reply = await run(h.id, {
          subAction: 'run',
          subActionParams: { body: JSON.stringify(MESSAGES_BODY), model },
        });
        expect(reply.status).toBe('ok');
        expect(h.sim.last().path).toBe(`/model/${encodeURIComponent(arn)}/invoke`);
      }
    });

    it('answers the raw Bedrock response with raw: true', async () => {
      const reply = await run(h.id, {
        subAction: 'run',
        subActionParams: { body: JSON.stringify(MESSAGES_BODY), raw: true },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: messagesAnswer(DEFAULT_MODEL),
      });
    });

    it('invokeAI formats messages for Bedrock and answers message and usage', async () => {
      const reply = await run(h.id, {
        subAction: 'invokeAI',
        subActionParams: {
          messages: [
            { role: 'system', content: 'Be a good chatbot' },
            { role: 'user', content: 'Hello world' },
            { role: 'user', content: 'Are you there?' },
            { role: 'assistant', content: 'Hi, I am a good chatbot' },
            { role: 'human', content: 'What is 2+2?' },
          ],
          stopSequences: ['STOP'],
          timeout: 60000,
          telemetryMetadata: { pluginId: 'security' },
        },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { message: COMPLETION_TEXT, usage: USAGE },
      });
      expect(h.sim.last().json).toEqual({
        anthropic_version: 'bedrock-2023-05-31',
        system: 'Be a good chatbot',
        messages: [
          { role: 'user', content: 'Hello world\nAre you there?' },
          { role: 'assistant', content: 'Hi, I am a good chatbot' },
          { role: 'user', content: 'What is 2+2?' },
        ],
        max_tokens: 8191,
        stop_sequences: ['STOP'],
        temperature: 0,
      });
    });

    it('invokeAIRaw sends the messages as given and answers the raw response', async () => {
      const messages = [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }];
      const reply = await run(h.id, {
        subAction: 'invokeAIRaw',
        subActionParams: {
          messages,
          system: 'Be brief',
          temperature: 0.5,
          anthropicVersion: 'bedrock-2023-05-31',
          toolChoice: { type: 'auto' },
        },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: messagesAnswer(DEFAULT_MODEL),
      });
      expect(h.sim.last().json).toEqual({
        messages,
        system: 'Be brief',
        temperature: 0.5,
        max_tokens: 8191,
        tool_choice: { type: 'auto' },
        anthropic_version: 'bedrock-2023-05-31',
      });
    });

    it('converse sends a Converse request and answers it as Bedrock sent it', async () => {
      const messages = [{ role: 'user', content: [{ text: 'Hi' }] }];
      const reply = await run(h.id, {
        subAction: 'converse',
        subActionParams: {
          messages,
          system: [{ text: 'Be brief' }],
          maxTokens: 100,
          tools: [{ toolSpec: { name: 't', inputSchema: { json: {} } } }],
        },
      });
      expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: CONVERSE_ANSWER });
      const sent = h.sim.last();
      expect(sent.path).toBe(`${DEFAULT_MODEL_PATH}/converse`);
      expect(sent.json).toEqual({
        messages,
        inferenceConfig: { maxTokens: 100 },
        toolConfig: { tools: [{ toolSpec: { name: 't', inputSchema: { json: {} } } }] },
        system: [{ text: 'Be brief' }],
        modelId: DEFAULT_MODEL,
      });
      // Kibana signs converse with the streaming headers.
      expect(sent.headers.accept).toBe('application/vnd.amazon.eventstream');
      expect(sent.headers['x-amzn-bedrock-accept']).toBe('*/*');
      signedBy(sent, 'accept;content-length;content-type;host;x-amz-date;x-amzn-bedrock-accept');
    });

    it('invokeStream passes the event stream through as it arrives', async () => {
      const res = await executeRaw(h.server, h.id, {
        subAction: 'invokeStream',
        subActionParams: { messages: [{ role: 'user', content: 'hold-stream' }], maxTokens: 5 },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
      const frames = messageStreamFrames(DEFAULT_MODEL);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await readBytes(reader, (frames[0] as Buffer).length);
      expect(first.equals(frames[0] as Buffer)).toBe(true);
      expect(h.sim.waiting).toBe(1);
      h.sim.release();
      const rest = await readBytes(reader, Number.POSITIVE_INFINITY);
      const all = Buffer.concat([first, rest]);
      expect(all.equals(Buffer.concat(frames))).toBe(true);
      const events = decodeFrames(all).map((frame) => {
        expect(frame.headers[':event-type']).toBe('chunk');
        const { bytes } = JSON.parse(frame.payload.toString()) as { bytes: string };
        return JSON.parse(Buffer.from(bytes, 'base64').toString());
      });
      expect(events).toEqual(messageStreamEvents(DEFAULT_MODEL));
      const sent = h.sim.last();
      expect(sent.path).toBe(`${DEFAULT_MODEL_PATH}/invoke-with-response-stream`);
      expect(headersOf(sent)).toEqual({
        accept: 'application/vnd.amazon.eventstream',
        'content-type': 'application/json',
        'x-amzn-bedrock-accept': '*/*',
        host: new URL(h.sim.url).host,
        'content-length': String(sent.body.length),
        'x-amz-date': expect.stringMatching(AMZ_DATE),
      });
      signedBy(sent, 'accept;content-length;content-type;host;x-amz-date;x-amzn-bedrock-accept');
      // Kibana's invokeStream keeps the default token limit.
      expect(sent.json).toEqual({
        anthropic_version: 'bedrock-2023-05-31',
        messages: [{ role: 'user', content: 'hold-stream' }],
        max_tokens: 8191,
        temperature: 0,
      });
    });

    it('converseStream passes the event stream through', async () => {
      const res = await executeRaw(h.server, h.id, {
        subAction: 'converseStream',
        subActionParams: { messages: [{ role: 'user', content: [{ text: 'Hi' }] }], model: 'm' },
      });
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(bytes.equals(Buffer.concat(converseStreamFrames()))).toBe(true);
      expect(h.sim.last().path).toBe('/model/m/converse-stream');
    });

    it('a client that goes away ends the vendor call', async () => {
      const controller = new AbortController();
      const res = await executeRaw(
        h.server,
        h.id,
        {
          subAction: 'invokeStream',
          subActionParams: { messages: [{ role: 'user', content: 'hold-stream' }] },
        },
        controller.signal,
      );
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await readBytes(reader, 1);
      const before = h.sim.abandoned;
      const abandoned = h.sim.nextAbandon();
      controller.abort();
      await within(abandoned, 5000);
      expect(h.sim.abandoned).toBe(before + 1);
    });
  });

  describe('failures', () => {
    const body = (word: string) =>
      JSON.stringify({
        anthropic_version: 'bedrock-2023-05-31',
        messages: [{ role: 'user', content: word }],
        max_tokens: 10,
      });

    failureClassTests(
      (word) => run(h.id, { subAction: 'run', subActionParams: { body: body(word) } }),
      {
        'respond-with-400': () =>
          failure(
            h.id,
            'Status code: 400. Message: API Error: Bad Request - The provided model identifier is invalid.',
            'framework',
          ),
        'respond-with-401': () =>
          failure(h.id, 'Status code: 401. Message: Unauthorized API Error: Unauthorized', 'user'),
        'respond-with-404': () =>
          failure(
            h.id,
            'Status code: 404. Message: API Error: Not Found - Could not resolve the foundation model from the provided model identifier.',
            'framework',
          ),
        'respond-with-422': () =>
          failure(
            h.id,
            'Status code: 422. Message: API Error: Unprocessable Entity - Malformed input request: extraneous key [ooooo] is not permitted, please reformat your input and try again.',
            'user',
          ),
        'respond-with-429': () =>
          failure(
            h.id,
            'Status code: 429. Message: API Error: Too Many Requests - Too many requests, please wait before trying again.',
            'user',
          ),
        // The vendor's Retry-After of a 429 is the retry date.
        'respond-with-429-retry-after': retryAt(30, (retry) => ({
          status: 'error',
          connector_id: h.id,
          message: RUN_FAILED,
          service_message:
            'Status code: 429. Message: API Error: Too Many Requests - Too many requests, please wait before trying again.',
          retry,
          errorSource: 'user',
        })),
        'respond-with-500': () =>
          failure(
            h.id,
            'Status code: 500. Message: API Error: Internal Server Error - The system encountered an unexpected error during processing. Try your request again.',
            'framework',
          ),
        'respond-with-502': () =>
          failure(h.id, 'Status code: 502. Message: API Error: Bad Gateway', 'framework'),
        'respond-with-503': () =>
          failure(
            h.id,
            'Status code: 503. Message: API Error: Service Unavailable - Bedrock is unable to process your request.',
            'framework',
          ),
        'respond-with-reset': () =>
          failure(
            h.id,
            'Status code: undefined. Message: Unexpected API Error: ECONNRESET - socket hang up',
            'framework',
          ),
        'respond-with-bad-shape': () =>
          failure(
            h.id,
            'Response validation failed (Error: [content]: expected value of type [array] but got [undefined])',
            'framework',
          ),
      },
    );

    it('reports a body Bedrock refuses', async () => {
      const reply = await run(h.id, {
        subAction: 'run',
        subActionParams: { body: JSON.stringify({ ...JSON.parse(body('Hi')), ooooo: 1 }) },
      });
      expect(reply).toEqual(
        failure(
          h.id,
          'Status code: 400. Message: API Error: Bad Request - Malformed input request: #: extraneous key [ooooo] is not permitted, please reformat your input and try again.',
          'framework',
        ),
      );
    });

    it('is refused by AWS when signed with the wrong secret', async () => {
      const wrong = await h.create({
        config: { apiUrl: h.sim.url },
        secrets: { accessKey: ACCESS_KEY, secret: 'not-the-secret' },
      });
      expect(await run(wrong, { subAction: 'run', subActionParams: { body: body('Hi') } })).toEqual(
        failure(
          wrong,
          'Status code: 403. Message: API Error: Forbidden - The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
          'user',
        ),
      );
    });

    it('is refused by AWS with an unknown access key', async () => {
      const unknown = await h.create({
        config: { apiUrl: h.sim.url },
        secrets: { accessKey: 'AKIAUNKNOWN', secret: SECRET },
      });
      expect(
        await run(unknown, { subAction: 'run', subActionParams: { body: body('Hi') } }),
      ).toEqual(
        failure(
          unknown,
          'Status code: 403. Message: API Error: Forbidden - The security token included in the request is invalid.',
          'user',
        ),
      );
    });

    it('signs for the configured region', async () => {
      const other = await h.create({
        config: { apiUrl: h.sim.url, region: 'eu-west-3' },
        secrets: { accessKey: ACCESS_KEY, secret: SECRET },
      });
      expect(await run(other, { subAction: 'run', subActionParams: { body: body('Hi') } })).toEqual(
        failure(
          other,
          'Status code: 403. Message: API Error: Forbidden - Credential should be scoped to a valid region. ',
          'user',
        ),
      );
      expect(h.sim.last().headers.authorization).toContain(`/eu-west-3/bedrock/aws4_request`);
    });

    it('explains an endpoint that is not the Bedrock runtime', async () => {
      const control = await h.create({
        config: { apiUrl: `${h.sim.url}/v1` },
        secrets: { accessKey: ACCESS_KEY, secret: SECRET },
      });
      expect(
        await run(control, { subAction: 'run', subActionParams: { body: body('Hi') } }),
      ).toEqual(
        failure(
          control,
          'Status code: 400. Message: API Error: The requested operation is not recognized by the service.\n\nThe Kibana Connector in use may need to be reconfigured with an updated Amazon Bedrock endpoint, like `bedrock-runtime`.',
          'framework',
        ),
      );
    });

    it('refuses a stream the vendor fails', async () => {
      const reply = await run(h.id, {
        subAction: 'invokeStream',
        subActionParams: { messages: [{ role: 'user', content: 'respond-with-503' }] },
      });
      expect(reply).toEqual(
        failure(
          h.id,
          'Status code: 503. Message: API Error: Service Unavailable - Bedrock is unable to process your request.',
          'framework',
        ),
      );
    });

    it('refuses messages without content', async () => {
      expect(
        await run(h.id, {
          subAction: 'invokeAI',
          subActionParams: { messages: [{ role: 'user' }] },
        }),
      ).toEqual(
        failure(
          h.id,
          'Request validation failed (Error: [messages.0]: Must specify either content or rawContent)',
          'user',
        ),
      );
    });

    it('refuses params without a sub-action, and unknown sub-actions', async () => {
      expect(await run(h.id, { subActionParams: {} })).toEqual({
        status: 'error',
        connector_id: h.id,
        message:
          'error validating action params: [subAction]: expected value of type [string] but got [undefined]',
        retry: false,
        errorSource: 'user',
      });
      expect(await run(h.id, { subAction: 'bedrockClientSend', subActionParams: {} })).toEqual(
        failure(
          h.id,
          `Sub action "bedrockClientSend" is not registered. Connector id: ${h.id}. Connector name: Amazon Bedrock. Connector type: .bedrock`,
          'framework',
        ),
      );
    });
  });

  it('never shows or logs the AWS keys', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [SECRET, ACCESS_KEY], h.replies);
  });
});

describe('.bedrock limits and allowed hosts', () => {
  const h = connectorHarness({
    type: '.bedrock',
    simulator: () => startBedrockSimulator({ credentials: { [ACCESS_KEY]: SECRET } }),
    settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    connector: (sim) => ({
      config: { apiUrl: sim.url },
      secrets: { accessKey: ACCESS_KEY, secret: SECRET },
    }),
  });

  const messages = (word: string) => ({
    messages: [{ role: 'user', content: word }],
    timeout: 100,
  });

  // Times out after xpack.actions.responseTimeout; refuses an answer larger than
  // xpack.actions.maxResponseContentLength.
  failureClassTests(
    (word) =>
      execute(h.server.api, h.id, { subAction: 'invokeAI', subActionParams: messages(word) }),
    {
      'respond-with-timeout': () =>
        failure(
          h.id,
          'Status code: undefined. Message: Unexpected API Error: ECONNABORTED - timeout of 300ms exceeded',
          'framework',
        ),
      'respond-with-large': () =>
        failure(
          h.id,
          'Status code: undefined. Message: Unexpected API Error: ERR_BAD_RESPONSE - maxContentLength size of 1024 exceeded',
          'framework',
        ),
    },
  );

  it('refuses an apiUrl whose host is not allowed', async () => {
    await expectCreateRefused(
      h.server.api,
      {
        name: 'elsewhere',
        connector_type_id: '.bedrock',
        config: { apiUrl: 'http://bedrock.mynonexistent.com' },
        secrets: { accessKey: ACCESS_KEY, secret: SECRET },
      },
      'error validating connector type config: Error configuring Amazon Bedrock action: Error: error validating url: target url "http://bedrock.mynonexistent.com" is not added to the Kibana config xpack.actions.allowedHosts',
    );
  });
});
