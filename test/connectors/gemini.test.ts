import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  badRequest,
  execute,
  expectCreateRefused,
  expectNoSecrets,
  failureClassTests,
  RUN_FAILED,
  retryAt,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { withServer } from '../helpers/server.js';
import { executeRaw, within } from '../helpers/streams.js';
import {
  COMPLETION_TEXT,
  generateAnswer,
  startGeminiSimulator,
  streamEvents,
  USAGE_METADATA,
} from '../simulators/gemini.js';

const EMAIL = 'kibana-connector@sim-project.iam.gserviceaccount.com';
const PROJECT = 'sim-project';
const REGION = 'us-central1';
const MODEL = 'gemini-2.5-pro';
const UNABLE =
  'Unable to retrieve access token. Ensure the service account has the right permissions and the Vertex AI endpoint is enabled in the GCP project. Error: ';

function rsaKeys() {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

const keys = rsaKeys();
const otherKeys = rsaKeys();

function credentials(tokenUri: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    type: 'service_account',
    project_id: PROJECT,
    private_key_id: 'key-1',
    private_key: keys.privateKey,
    client_email: EMAIL,
    client_id: '1234567890',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    ...extra,
  });
}

function failure(id: string, serviceMessage: string, errorSource: 'user' | 'framework') {
  return thrownEnvelope(id, serviceMessage, true, errorSource);
}

function decodeJwt(jwt: string) {
  const [header = '', claims = ''] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()),
  };
}

async function readUntil(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: string,
  already = '',
) {
  const decoder = new TextDecoder();
  let text = already;
  while (!text.includes(until)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe('.gemini (Google Gemini on Vertex AI)', () => {
  const h = connectorHarness({
    type: '.gemini',
    simulator: () => startGeminiSimulator({ accounts: { [EMAIL]: keys.publicKey } }),
    settings: (sim) => ({ 'connectors.baseUrls': { '.gemini': `${sim.url}/` } }),
    connector: (sim) => ({
      config: { apiUrl: sim.url, gcpRegion: REGION, gcpProjectID: PROJECT },
      secrets: { credentialsJson: credentials(sim.tokenUrl) },
    }),
  });
  const modelPath = (model = MODEL, method = 'generateContent') =>
    `/v1/projects/${PROJECT}/locations/${REGION}/publishers/google/models/${model}:${method}`;

  const run = (connectorId: string, params: unknown) => h.run(params, connectorId);
  const create = (secrets: Record<string, unknown>, config: Record<string, unknown> = {}) =>
    h.create({
      config: { apiUrl: h.sim.url, gcpRegion: REGION, gcpProjectID: PROJECT, ...config },
      secrets,
    });
  const vertexRequests = () => h.sim.requests.filter((r) => r.path !== '/token');
  const tokenRequests = () => h.sim.requests.filter((r) => r.path === '/token');

  it('is listed among the connector types with Kibana fields', async () => {
    const res = await h.server.api<Array<{ id: string }>>(
      'GET',
      '/api/actions/connector_types?feature_id=workflows',
    );
    expect(res.body.find((t) => t.id === '.gemini')).toEqual({
      id: '.gemini',
      name: 'Google Gemini',
      enabled: true,
      enabled_in_config: true,
      enabled_in_license: true,
      minimum_license_required: 'enterprise',
      supported_feature_ids: [
        'generativeAIForSecurity',
        'generativeAIForSearchPlayground',
        'generativeAIForObservability',
        'workflows',
      ],
      is_system_action_type: false,
      is_deprecated: false,
    });
  });

  describe('create', () => {
    it('fills in the default model', async () => {
      const res = await h.server.api<Record<string, unknown>>('POST', '/api/actions/connector', {
        body: {
          name: 'gemini',
          connector_type_id: '.gemini',
          config: { apiUrl: h.sim.url, gcpRegion: REGION, gcpProjectID: PROJECT },
          secrets: { credentialsJson: credentials(h.sim.tokenUrl) },
        },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: expect.any(String),
        name: 'gemini',
        connector_type_id: '.gemini',
        config: {
          apiUrl: h.sim.url,
          defaultModel: MODEL,
          gcpRegion: REGION,
          gcpProjectID: PROJECT,
        },
        is_preconfigured: false,
        is_system_action: false,
        is_deprecated: false,
        is_missing_secrets: false,
        is_connector_type_deprecated: false,
      });
      h.replies.push(res.body);
    });

    const valid = {
      apiUrl: 'https://us-central1-aiplatform.googleapis.com',
      gcpRegion: REGION,
      gcpProjectID: PROJECT,
    };
    it.each([
      [
        'a config without apiUrl',
        { gcpRegion: REGION, gcpProjectID: PROJECT },
        'error validating connector type config: [apiUrl]: expected value of type [string] but got [undefined]',
      ],
      [
        'a config without the project',
        { apiUrl: 'https://url.co', gcpRegion: REGION },
        'error validating connector type config: [gcpProjectID]: expected value of type [string] but got [undefined]',
      ],
      [
        'a config without the region',
        { apiUrl: 'https://url.co', gcpProjectID: PROJECT },
        'error validating connector type config: [gcpRegion]: expected value of type [string] but got [undefined]',
      ],
      [
        'a file URL',
        { ...valid, apiUrl: 'file:///etc/passwd' },
        'error validating connector type config: Error configuring Google Gemini action: Error: URL Error: URL must contain hostname',
      ],
      [
        'an apiUrl that is not http(s)',
        { ...valid, apiUrl: 'gopher://us-central1-aiplatform.googleapis.com' },
        'error validating connector type config: Error configuring Google Gemini action: Error: URL Error: Invalid protocol',
      ],
    ])('refuses %s', async (_what, config, message) => {
      const res = await h.server.api('POST', '/api/actions/connector', {
        body: {
          name: 'bad',
          connector_type_id: '.gemini',
          config,
          secrets: { credentialsJson: credentials(h.sim.tokenUrl) },
        },
      });
      expect(res.status).toBe(400);
      expect(res.body).toEqual(badRequest(message));
    });

    it.each([
      [
        'no credentials',
        {},
        'error validating connector type secrets: [credentialsJson]: expected value of type [string] but got [undefined]',
      ],
      [
        'credentials that read a local file',
        {
          credentialsJson: JSON.stringify({
            type: 'external_account',
            audience:
              '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q',
            subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
            token_url: 'https://sts.googleapis.com/v1/token',
            credential_source: { file: '/etc/passwd' },
          }),
        },
        'error validating connector type secrets: [credentialsJson.credential_source]: not allowed: it would make the server read a local file, run a command or call a URL',
      ],
      [
        'credentials that impersonate another account',
        {
          credentialsJson: credentials('', {
            token_uri: undefined,
            service_account_impersonation_url:
              'https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/admin@p.iam.gserviceaccount.com:generateAccessToken',
          }),
        },
        'error validating connector type secrets: [credentialsJson.service_account_impersonation_url]: not allowed: it would make the server impersonate another account',
      ],
      [
        'credentials that delegate to a user',
        { credentialsJson: credentials('', { token_uri: undefined, subject: 'ceo@example.com' }) },
        'error validating connector type secrets: [credentialsJson.subject]: not allowed: it would make the server impersonate another account',
      ],
      [
        'credentials whose token_uri is another URL',
        { credentialsJson: credentials('http://169.254.169.254/computeMetadata/v1/token') },
        'error validating connector type secrets: [credentialsJson.token_uri]: must be the configured token endpoint "TOKEN_URL", got "http://169.254.169.254/computeMetadata/v1/token"',
      ],
      [
        'credentials of another type',
        {
          credentialsJson: JSON.stringify({
            type: 'authorized_user',
            refresh_token: 'r',
            client_id: 'c',
          }),
        },
        'error validating connector type secrets: Invalid credential type. Only "service_account" credentials are supported. Type was "authorized_user".',
      ],
    ])('refuses %s', async (_what, secrets, message) => {
      await expectCreateRefused(
        h.server.api,
        {
          name: 'bad',
          connector_type_id: '.gemini',
          config: { apiUrl: h.sim.url, gcpRegion: REGION, gcpProjectID: PROJECT },
          secrets,
        },
        message.replace('TOKEN_URL', h.sim.tokenUrl),
      );
    });
  });

  describe('sub-actions', () => {
    const BODY = {
      contents: [{ role: 'user', parts: [{ text: 'Hello world' }] }],
      generation_config: { temperature: 0, maxOutputTokens: 8192 },
    };

    it('gets a token with a signed JWT, then runs generateContent with it', async () => {
      const before = tokenRequests().length;
      const reply = await run(h.id, {
        subAction: 'run',
        subActionParams: { body: JSON.stringify(BODY) },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { completion: COMPLETION_TEXT, usageMetadata: USAGE_METADATA },
      });

      const tokenCalls = tokenRequests();
      expect(tokenCalls).toHaveLength(before + 1);
      const tokenCall = tokenCalls.at(-1);
      expect(tokenCall?.method).toBe('POST');
      expect(tokenCall?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const form = new URLSearchParams(tokenCall?.text);
      expect([...form.keys()]).toEqual(['grant_type', 'assertion']);
      expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
      const { header, claims } = decodeJwt(form.get('assertion') ?? '');
      expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'key-1' });
      expect(claims).toEqual({
        iss: EMAIL,
        scope: 'https://www.googleapis.com/auth/cloud-platform',
        aud: h.sim.tokenUrl,
        exp: claims.iat + 3600,
        iat: expect.any(Number),
      });
      expect(Math.abs(claims.iat - Date.now() / 1000)).toBeLessThan(60);

      const sent = vertexRequests().at(-1);
      expect(sent?.method).toBe('POST');
      expect(sent?.path).toBe(modelPath());
      expect([...(sent?.query ?? [])]).toEqual([]);
      const { host: _h, connection: _c, ...headers } = sent?.headers ?? {};
      expect(headers).toEqual({
        authorization: `Bearer ${h.sim.issued.at(-1)}`,
        'content-type': 'application/json',
        'content-length': String(sent?.body.length),
      });
      expect(sent?.text).toBe(JSON.stringify(BODY));
    });

    it('reuses the cached token on the next run', async () => {
      const before = tokenRequests().length;
      const reply = await run(h.id, {
        subAction: 'test',
        subActionParams: { body: BODY, model: 'gemini-2.0-flash' },
      });
      expect(reply.status).toBe('ok');
      expect(tokenRequests()).toHaveLength(before);
      expect(vertexRequests().at(-1)?.path).toBe(modelPath('gemini-2.0-flash'));
      expect(vertexRequests().at(-1)?.json).toEqual(BODY);
    });

    it('answers the raw Vertex AI response with raw: true', async () => {
      const reply = await run(h.id, {
        subAction: 'run',
        subActionParams: { body: BODY, raw: true },
      });
      expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: generateAnswer(MODEL) });
    });

    it('invokeAI formats chat messages for Gemini', async () => {
      const reply = await run(h.id, {
        subAction: 'invokeAI',
        subActionParams: {
          messages: [
            { role: 'user', content: 'Hello' },
            { role: 'user', content: 'world' },
            { role: 'assistant', content: 'Hi!' },
            { role: 'user', parts: [{ text: 'Preformatted' }] },
          ],
          systemInstruction: 'Be brief',
          maxOutputTokens: 100,
          toolConfig: { mode: 'ANY', allowedFunctionNames: ['lookup'] },
          stopSequences: ['END'],
          tools: [{ functionDeclarations: [] }],
        },
      });
      expect(reply).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { message: COMPLETION_TEXT, usageMetadata: USAGE_METADATA },
      });
      // Kibana sends neither tools nor stop sequences from invokeAI.
      expect(vertexRequests().at(-1)?.json).toEqual({
        contents: [
          { role: 'user', parts: [{ text: 'Hello world' }] },
          { role: 'model', parts: [{ text: 'Hi!' }] },
          { role: 'user', parts: [{ text: 'Preformatted' }] },
        ],
        generation_config: { temperature: 0, maxOutputTokens: 100 },
        system_instruction: { parts: [{ text: 'Be brief' }] },
        tool_config: {
          function_calling_config: { mode: 'ANY', allowed_function_names: ['lookup'] },
        },
        safety_settings: [
          { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_ONLY_HIGH' },
        ],
      });
    });

    it('invokeAIRaw sends tools and answers the raw response', async () => {
      const tools = [
        { functionDeclarations: [{ name: 'lookup', parameters: { type: 'OBJECT' } }] },
      ];
      const reply = await run(h.id, {
        subAction: 'invokeAIRaw',
        subActionParams: {
          messages: [{ role: 'user', content: 'Hi' }],
          temperature: 0.4,
          tools,
          toolConfig: { mode: 'AUTO' },
        },
      });
      expect(reply).toEqual({ status: 'ok', connector_id: h.id, data: generateAnswer(MODEL) });
      expect(vertexRequests().at(-1)?.json).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Hi' }] }],
        generation_config: { temperature: 0.4 },
        safety_settings: [
          { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_ONLY_HIGH' },
        ],
        tools,
      });
    });

    it('invokeStream passes the server-sent events through as they arrive', async () => {
      const res = await executeRaw(h.server, h.id, {
        subAction: 'invokeStream',
        subActionParams: {
          messages: [{ role: 'user', content: 'hold-stream' }],
          model: 'gemini-2.5-flash',
        },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      const events = streamEvents('gemini-2.5-flash');
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const first = await readUntil(reader, '\r\n\r\n');
      expect(first).toBe(events[0]);
      expect(h.sim.waiting).toBe(1);
      h.sim.release();
      expect(await readUntil(reader, 'never', first)).toBe(events.join(''));
      const sent = vertexRequests().at(-1);
      expect(sent?.path).toBe(modelPath('gemini-2.5-flash', 'streamGenerateContent'));
      expect([...(sent?.query ?? [])]).toEqual([['alt', 'sse']]);
      expect(sent?.headers.authorization).toBe(`Bearer ${h.sim.issued.at(-1)}`);
      expect(sent?.json).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'hold-stream' }] }],
        generation_config: { temperature: 0 },
        safety_settings: [
          { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', threshold: 'BLOCK_ONLY_HIGH' },
        ],
      });
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
      await readUntil(reader, '\r\n\r\n');
      const before = h.sim.abandoned;
      const abandoned = h.sim.nextAbandon();
      controller.abort();
      await within(abandoned, 5000);
      expect(h.sim.abandoned).toBe(before + 1);
    });
  });

  describe('failures', () => {
    const ask = (word: string) => ({
      subAction: 'invokeAI',
      subActionParams: { messages: [{ role: 'user', content: word }] },
    });
    const resource = `projects/${PROJECT}/locations/${REGION}/publishers/google/models/${MODEL}`;

    failureClassTests((word) => run(h.id, ask(word)), {
      'respond-with-400': () =>
        failure(
          h.id,
          'Status code: 400. Message: API Error: INVALID_ARGUMENT: Request contains an invalid argument.',
          'framework',
        ),
      'respond-with-403': () =>
        failure(
          h.id,
          `Status code: 403. Message: API Error: PERMISSION_DENIED: Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/${resource}' (or it may not exist).`,
          'user',
        ),
      'respond-with-404': () =>
        failure(
          h.id,
          `Status code: 404. Message: API Error: NOT_FOUND: Publisher Model \`${resource}\` not found.`,
          'framework',
        ),
      'respond-with-429': () =>
        failure(
          h.id,
          'Status code: 429. Message: API Error: RESOURCE_EXHAUSTED: Resource exhausted. Please try again later.',
          'user',
        ),
      // The vendor's Retry-After of a 429 is the retry date.
      'respond-with-429-retry-after': retryAt(30, (retry) => ({
        status: 'error',
        connector_id: h.id,
        message: RUN_FAILED,
        service_message:
          'Status code: 429. Message: API Error: RESOURCE_EXHAUSTED: Resource exhausted. Please try again later.',
        retry,
        errorSource: 'user',
      })),
      'respond-with-500': () =>
        failure(
          h.id,
          'Status code: 500. Message: API Error: INTERNAL: Internal error encountered.',
          'framework',
        ),
      'respond-with-502': () =>
        failure(h.id, 'Status code: 502. Message: API Error: Bad Gateway', 'framework'),
      'respond-with-503': () =>
        failure(
          h.id,
          'Status code: 503. Message: API Error: UNAVAILABLE: The service is currently unavailable.',
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
          'Response validation failed (Error: [usageMetadata]: expected a plain object value, but found [undefined] instead.)',
          'framework',
        ),
    });

    it('reports a refused token and asks for a new one on the next run', async () => {
      const tokens = tokenRequests().length;
      h.sim.revokeAll();
      expect(await run(h.id, ask('Hi'))).toEqual(
        failure(
          h.id,
          'Status code: 401. Message: API Error: UNAUTHENTICATED: Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
          'user',
        ),
      );
      expect(tokenRequests()).toHaveLength(tokens);
      expect((await run(h.id, ask('Hi'))).status).toBe('ok');
      expect(tokenRequests()).toHaveLength(tokens + 1);
    });

    it('reports a key Google does not accept', async () => {
      const wrongKey = await create({
        credentialsJson: credentials(h.sim.tokenUrl, { private_key: otherKeys.privateKey }),
      });
      expect(await run(wrongKey, ask('Hi'))).toEqual(
        failure(wrongKey, `${UNABLE}invalid_grant: Invalid JWT Signature.`, 'framework'),
      );
    });

    it('reports an unknown service account', async () => {
      const unknown = await create({
        credentialsJson: credentials(h.sim.tokenUrl, {
          client_email: 'nobody@sim-project.iam.gserviceaccount.com',
        }),
      });
      expect(await run(unknown, ask('Hi'))).toEqual(
        failure(unknown, `${UNABLE}invalid_grant: Invalid grant: account not found`, 'framework'),
      );
    });

    it('reports credentials that are not JSON or lack a key, at run time as Kibana does', async () => {
      const notJson = await create({ credentialsJson: 'not json' });
      expect(await run(notJson, ask('Hi'))).toEqual(
        failure(notJson, 'Failed to parse credentials JSON file: Invalid JSON format', 'framework'),
      );
      const noKey = await create({
        credentialsJson: credentials(h.sim.tokenUrl, { private_key: undefined }),
      });
      expect(await run(noKey, ask('Hi'))).toEqual(
        failure(
          noKey,
          `${UNABLE}The incoming JSON object does not contain a private_key field`,
          'framework',
        ),
      );
    });

    it('refuses sub-action params that do not match', async () => {
      expect(
        await run(h.id, {
          subAction: 'invokeAI',
          subActionParams: { messages: [], toolConfig: { mode: 'SOME' } },
        }),
      ).toEqual(
        failure(
          h.id,
          'Request validation failed (Error: [toolConfig.mode]: types that failed validation:\n- [toolConfig.mode.0]: expected value to equal [AUTO]\n- [toolConfig.mode.1]: expected value to equal [ANY]\n- [toolConfig.mode.2]: expected value to equal [NONE])',
          'user',
        ),
      );
      expect(
        await run(h.id, { subAction: 'getDashboard', subActionParams: { dashboardId: 'x' } }),
      ).toEqual(
        failure(
          h.id,
          `Sub action "getDashboard" is not registered. Connector id: ${h.id}. Connector name: Google Gemini. Connector type: .gemini`,
          'framework',
        ),
      );
    });
  });

  it('never shows or logs the key or the access tokens', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expect(h.sim.issued.length).toBeGreaterThan(1);
    expectNoSecrets(h.server, [keys.privateKey, ...h.sim.issued], h.replies);
    // The PEM body, in case it were logged without its armour or line breaks.
    const body = keys.privateKey.split('\n').slice(1, -2).join('');
    expectNoSecrets(h.server, [body.slice(0, 64)], h.replies);
  });
});

describe('.gemini limits, token endpoint and allowed hosts', () => {
  const h = connectorHarness({
    type: '.gemini',
    simulator: () => startGeminiSimulator({ accounts: { [EMAIL]: keys.publicKey } }),
    settings: (sim) => ({
      'connectors.baseUrls': { '.gemini': `${sim.url}/` },
      'xpack.actions.allowedHosts': ['127.0.0.1'],
      ...SHORT_LIMITS,
    }),
    connector: (sim) => ({
      config: { apiUrl: sim.url, gcpRegion: REGION, gcpProjectID: PROJECT },
      secrets: { credentialsJson: credentials(sim.tokenUrl) },
    }),
  });

  const ask = (word: string) => ({
    subAction: 'invokeAI',
    subActionParams: { messages: [{ role: 'user', content: word }], timeout: 100 },
  });

  // Times out after xpack.actions.responseTimeout; refuses an answer larger than
  // xpack.actions.maxResponseContentLength.
  failureClassTests((word) => execute(h.server.api, h.id, ask(word)), {
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
  });

  it('refuses an apiUrl whose host is not allowed', async () => {
    await expectCreateRefused(
      h.server.api,
      {
        name: 'elsewhere',
        connector_type_id: '.gemini',
        config: {
          apiUrl: 'http://gemini.mynonexistent.com',
          gcpRegion: REGION,
          gcpProjectID: PROJECT,
        },
        secrets: { credentialsJson: credentials(h.sim.tokenUrl) },
      },
      'error validating connector type config: Error configuring Google Gemini action: Error: error validating url: target url "http://gemini.mynonexistent.com" is not added to the Kibana config xpack.actions.allowedHosts',
    );
  });

  it("refuses credentials naming Google's token endpoint when another is configured", async () => {
    const res = await h.server.api('POST', '/api/actions/connector', {
      body: {
        name: 'google',
        connector_type_id: '.gemini',
        config: { apiUrl: h.sim.url, gcpRegion: REGION, gcpProjectID: PROJECT },
        secrets: { credentialsJson: credentials('https://oauth2.googleapis.com/token') },
      },
    });
    expect(res.status).toBe(400);
    expect((res.body as { message: string }).message).toBe(
      `error validating connector type secrets: [credentialsJson.token_uri]: must be the configured token endpoint "${h.sim.tokenUrl}", got "https://oauth2.googleapis.com/token"`,
    );
  });
});

describe('.gemini token endpoint defaults', () => {
  it("accepts Google's own token_uri when no base URL is configured", async () => {
    await withServer(
      { settings: { 'xpack.actions.allowedHosts': ['127.0.0.1'] } },
      async (server) => {
        const res = await server.api('POST', '/api/actions/connector', {
          body: {
            name: 'google',
            connector_type_id: '.gemini',
            config: { apiUrl: 'http://127.0.0.1:9', gcpRegion: REGION, gcpProjectID: PROJECT },
            secrets: { credentialsJson: credentials('https://oauth2.googleapis.com/token') },
          },
        });
        expect(res.status).toBe(200);
        const reply = await execute(server.api, (res.body as { id: string }).id, {
          subAction: 'invokeAI',
          subActionParams: { messages: [{ role: 'user', content: 'Hi' }] },
        });
        // The token request goes to Google, which this server may not call.
        expect(reply).toEqual(
          failure(
            (res.body as { id: string }).id,
            `${UNABLE}request to https://oauth2.googleapis.com/token failed, reason: target url "https://oauth2.googleapis.com/token" is not added to the Kibana config xpack.actions.allowedHosts`,
            'framework',
          ),
        );
        expectNoSecrets(server, [keys.privateKey], [reply]);
      },
    );
  });
});
