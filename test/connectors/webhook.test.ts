import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createConnector,
  type ExecuteEnvelope,
  execute,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  retryAt,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { startServer, type TestServer, withServer } from '../helpers/server.js';
import {
  base64,
  CLIENT_CN,
  CLIENT_KEY_PASSPHRASE,
  makeTestCertificates,
  PFX_PASSWORD,
  type TestCertificates,
} from '../simulators/certificates.js';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  startWebhookSimulator,
  type WebhookSimulator,
} from '../simulators/webhook.js';

const USER = 'hook-user';
const PASSWORD = 'hook-password-Vb8';
const SECRET_HEADER_VALUE = 'secret-header-value-Qm3';
const CONFIG_PREFIX = 'error validating connector type config: ';
const WEBHOOK_PREFIX = `${CONFIG_PREFIX}error validation webhook action config: `;

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('.webhook over http', () => {
  const h = connectorHarness({
    type: '.webhook',
    simulator: () => startWebhookSimulator(),
    settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
  });

  const run = (id: string, params: unknown): Promise<ExecuteEnvelope> => h.run(params, id);

  const create = (config: Record<string, unknown>, secrets: Record<string, unknown> = {}) =>
    h.create({ config, secrets });

  const createRefused = async (config: unknown, secrets: unknown = {}) => {
    const res = await h.server.api<{ message: string }>('POST', '/api/actions/connector', {
      body: { name: 'refused', connector_type_id: '.webhook', config, secrets },
    });
    h.replies.push(res.body);
    expect(res.status).toBe(400);
    return res.body;
  };

  it('is listed with Kibana fields', async () => {
    await expectListedType(h.server, {
      id: '.webhook',
      name: 'Webhook',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'uptime', 'siem'],
    });
  });

  it('posts the raw body with config and secret headers and Basic credentials', async () => {
    const id = await create(
      {
        url: `${h.sim.url}/hooks/alerts?team=ops`,
        headers: { 'Content-Type': 'application/json', 'X-Config': 'config-value' },
      },
      { user: USER, password: PASSWORD, secretHeaders: { 'X-Secret': SECRET_HEADER_VALUE } },
    );
    const body = '{"text":"payload from kibana"}';
    const reply = await run(id, { body });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: body });
    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/hooks/alerts');
    expect(sent.query.toString()).toBe('team=ops');
    expect(sent.text).toBe(body);
    expect(sent.headers.authorization).toBe(basic(USER, PASSWORD));
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['x-config']).toBe('config-value');
    expect(sent.headers['x-secret']).toBe(SECRET_HEADER_VALUE);
  });

  it('sends no Content-Type of its own and no data key without a body', async () => {
    const id = await create({ url: `${h.sim.url}/plain`, method: 'put', hasAuth: false });
    const reply = await run(id, { body: 'success_put_method' });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: 'success_put_method' });
    expect(h.sim.last().method).toBe('PUT');
    expect(h.sim.last().headers['content-type']).toBeUndefined();
    expect(h.sim.last().headers.authorization).toBeUndefined();

    const noBody = await create({ url: `${h.sim.url}/success`, method: 'post', hasAuth: false });
    expect(await run(noBody, {})).toEqual({ status: 'ok', connector_id: noBody });
    expect(h.sim.last().text).toBe('');
  });

  it('sends no body for GET and DELETE but answers with the given body as Kibana does', async () => {
    for (const method of ['get', 'delete'] as const) {
      const id = await create({ url: `${h.sim.url}/hooks/success`, method });
      const reply = await run(id, { body: 'not sent' });
      expect(reply).toEqual({ status: 'ok', connector_id: id, data: 'not sent' });
      expect(h.sim.last().method).toBe(method.toUpperCase());
      expect(h.sim.last().text).toBe('');
    }
  });

  it('sends PATCH with its body', async () => {
    const id = await create({ url: `${h.sim.url}/p`, method: 'patch' });
    expect(await run(id, { body: '{"a":1}' })).toEqual({
      status: 'ok',
      connector_id: id,
      data: '{"a":1}',
    });
    expect(h.sim.last().method).toBe('PATCH');
    expect(h.sim.last().text).toBe('{"a":1}');
  });

  it('lets a configured Authorization header win over the credentials, as Kibana does', async () => {
    const id = await create(
      { url: `${h.sim.url}/h`, headers: { Authorization: 'Token configured' } },
      { user: USER, password: PASSWORD },
    );
    await run(id, { body: 'success' });
    expect(h.sim.last().headers.authorization).toBe('Token configured');
  });

  it('sends no credentials when hasAuth is false, and checks them when it is on', async () => {
    const off = await create(
      { url: `${h.sim.url}/h`, hasAuth: false },
      { user: 'elastic', password: 'changeme' },
    );
    expect(await run(off, { body: 'authenticate' })).toEqual({
      status: 'error',
      connector_id: off,
      message: 'error calling webhook, invalid response',
      service_message: '[403] Forbidden',
      errorSource: 'user',
    });
    const on = await create({ url: `${h.sim.url}/h` }, { user: 'elastic', password: 'changeme' });
    expect(await run(on, { body: 'authenticate' })).toEqual({
      status: 'ok',
      connector_id: on,
      data: 'authenticate',
    });
  });

  describe('vendor failures', () => {
    let id: string;
    beforeAll(async () => {
      id = await create({ url: `${h.sim.url}/fail` }, { user: USER, password: PASSWORD });
    });

    const invalid = (status: string, errorSource?: 'user') => ({
      status: 'error',
      connector_id: id,
      message: 'error calling webhook, invalid response',
      service_message: status,
      errorSource: errorSource ?? 'user',
    });

    const retryLater = (serviceMessage: string) => ({
      status: 'error',
      connector_id: id,
      message: 'error calling webhook, retry later',
      service_message: serviceMessage,
      retry: true,
      errorSource: 'user',
    });
    const requestFailed = (serviceMessage: string) => ({
      status: 'error',
      connector_id: id,
      message: 'error calling webhook, request failed',
      service_message: serviceMessage,
      errorSource: 'user',
    });

    // 400, 401 and 404 are invalid responses, user errors without retry; 429 is retried later,
    // or at the Retry-After moment; 5xx later, with the reason and the JSON message.
    failureClassTests((body) => run(id, { body }), {
      'respond-with-400': () => invalid('[400] Bad Request: simulated 400'),
      'respond-with-404': () => invalid('[404] Not Found: simulated 404'),
      'respond-with-401': () => invalid('[401] Unauthorized: simulated 401'),
      'respond-with-429': () => retryLater('[429] Too Many Requests: simulated 429'),
      'respond-with-429-retry-after-60': retryAt(60, (at) => ({
        status: 'error',
        connector_id: id,
        message: `error calling webhook, retry at ${at}`,
        service_message: '[429] Too Many Requests: slow down',
        retry: at,
        errorSource: 'user',
      })),
      'respond-with-500': () => retryLater('[500] Internal Server Error: simulated 500'),
      'respond-with-502': () => retryLater('[502] Bad Gateway: simulated 502'),
      'respond-with-text-503': () => retryLater('[503] Service Unavailable'),
      failure: () => retryLater('[500] Internal Server Error'),
      'respond-with-timeout': () => requestFailed('[ECONNABORTED] timeout of 300ms exceeded'),
      'respond-with-reset': () => requestFailed('[ECONNRESET] socket hang up'),
      'respond-with-large': () =>
        requestFailed('[ERR_BAD_RESPONSE] maxContentLength size of 1024 exceeded'),
    });

    it('a refused connection', async () => {
      // Port 1 lies below the ephemeral range, so no test server can be listening there.
      const url = 'http://127.0.0.1:1/gone';
      const gone = await create({ url });
      const reply = await run(gone, { body: 'x' });
      expect(reply).toEqual({
        status: 'error',
        connector_id: gone,
        message: 'error calling webhook, request failed',
        service_message: `[ECONNREFUSED] connect ECONNREFUSED 127.0.0.1:${new URL(url).port}`,
        errorSource: 'user',
      });
    });

    it('never turns a POST into a GET on a 301/302/303, and names the refused redirect', async () => {
      for (const status of [301, 302, 303]) {
        const before = h.sim.requests.length;
        const reply = await run(id, { body: `redirect-${status}` });
        expect(reply).toEqual(
          requestFailed(
            `[ERR_FR_REDIRECTION_FAILURE] Redirected request failed: the server answered ${status} to a POST request; following it would turn the request into a GET, so it was not followed`,
          ),
        );
        expect(h.sim.requests.length).toBe(before + 1);
      }
    });

    it('follows a 307 with the same method and body', async () => {
      const reply = await run(id, { body: 'redirect-307' });
      expect(reply).toEqual({ status: 'ok', connector_id: id, data: 'redirect-307' });
      const followed = h.sim.last();
      expect(followed.method).toBe('POST');
      expect(followed.path).toBe('/redirected');
      expect(followed.text).toBe('redirect-307');
    });
  });

  describe('validation', () => {
    it('refuses an unparsable URL', async () => {
      expect((await createRefused({ url: 'not a url' })).message).toBe(
        `${WEBHOOK_PREFIX}unable to parse url: TypeError: Invalid URL`,
      );
    });

    it('refuses a host outside xpack.actions.allowedHosts', async () => {
      expect((await createRefused({ url: 'https://not-allowed.example/hook' })).message).toBe(
        `${WEBHOOK_PREFIX}target url "https://not-allowed.example/hook" is not added to the Kibana config xpack.actions.allowedHosts`,
      );
    });

    it('refuses authType when hasAuth is false', async () => {
      expect(
        (
          await createRefused({
            url: h.sim.url,
            hasAuth: false,
            authType: 'webhook-authentication-basic',
          })
        ).message,
      ).toBe(`${WEBHOOK_PREFIX}authType must be null or undefined if hasAuth is false`);
    });

    it('refuses unknown keys and methods with config-schema texts', async () => {
      expect((await createRefused({ url: h.sim.url, nope: 1 })).message).toBe(
        `${CONFIG_PREFIX}[nope]: definition for this key is missing`,
      );
      expect((await createRefused({ url: h.sim.url, method: 'head' })).message).toBe(
        `${CONFIG_PREFIX}[method]: types that failed validation:\n- [method.0]: expected value to equal [post]\n- [method.1]: expected value to equal [put]\n- [method.2]: expected value to equal [patch]\n- [method.3]: expected value to equal [get]\n- [method.4]: expected value to equal [delete]`,
      );
      expect((await createRefused({})).message).toBe(
        `${CONFIG_PREFIX}[url]: expected value of type [string] but got [undefined]`,
      );
    });

    it('refuses an additionalFields that is not a non-empty JSON object', async () => {
      for (const additionalFields of ['[1]', '{}', 'nope']) {
        expect((await createRefused({ url: h.sim.url, additionalFields })).message).toBe(
          `${WEBHOOK_PREFIX}additionalFields must be a non-empty JSON object.`,
        );
      }
    });

    it('needs accessTokenUrl and clientId for OAuth2, and an allowed token URL', async () => {
      const oauth = { url: h.sim.url, authType: 'webhook-oauth2-client-credentials' };
      expect((await createRefused(oauth, { clientSecret: 'x' })).message).toBe(
        `${WEBHOOK_PREFIX}missing Access Token URL (accessTokenUrl), Client ID (clientId) fields`,
      );
      expect(
        (await createRefused({ ...oauth, clientId: 'c' }, { clientSecret: 'x' })).message,
      ).toBe(`${WEBHOOK_PREFIX}missing Access Token URL (accessTokenUrl) fields`);
      expect(
        (
          await createRefused(
            { ...oauth, clientId: 'c', accessTokenUrl: 'https://idp.example/token' },
            { clientSecret: 'x' },
          )
        ).message,
      ).toBe(
        `${WEBHOOK_PREFIX}target url "https://idp.example/token" is not added to the Kibana config xpack.actions.allowedHosts`,
      );
    });

    it('refuses a mix of credentials', async () => {
      const text =
        'error validating connector type secrets: must specify one of the following schemas: user and password; crt and key (with optional password); pfx (with optional password); or clientSecret (for OAuth2)';
      for (const secrets of [
        { user: USER },
        { password: PASSWORD },
        { user: USER, password: PASSWORD, clientSecret: 'c' },
        { crt: 'Y3J0', pfx: 'cGZ4' },
      ]) {
        expect((await createRefused({ url: h.sim.url }, secrets)).message).toBe(text);
      }
    });

    it('answers a params error as an execution result', async () => {
      const id = await create({ url: h.sim.url });
      expect(await run(id, { body: 42 })).toEqual({
        status: 'error',
        connector_id: id,
        message:
          'error validating action params: [body]: expected value of type [string] but got [number]',
        retry: false,
        errorSource: 'user',
      });
      expect(await run(id, { other: 'x' })).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error validating action params: [other]: definition for this key is missing',
        retry: false,
        errorSource: 'user',
      });
    });
  });

  describe('OAuth2 client credentials', () => {
    const oauthConfig = () => ({
      url: `${h.sim.url}/oauth-hook`,
      authType: 'webhook-oauth2-client-credentials',
      accessTokenUrl: `${h.sim.url}/oauth/token`,
      clientId: CLIENT_ID,
      scope: 'read write',
      additionalFields: '{"audience":"hooks"}',
      headers: { 'X-Config': 'c' },
    });

    it('fetches a token once, reuses it, and drops it after a 4xx', async () => {
      const id = await create(oauthConfig(), {
        clientSecret: CLIENT_SECRET,
        secretHeaders: { 'X-Secret': SECRET_HEADER_VALUE },
      });
      const tokensBefore = h.sim.issuedTokens.length;
      const tokenRequestsBefore = h.sim.tokenRequests.length;

      expect(await run(id, { body: 'success' })).toEqual({
        status: 'ok',
        connector_id: id,
        data: 'success',
      });
      const tokenRequest = h.sim.tokenRequests.at(-1);
      expect(tokenRequest?.method).toBe('POST');
      expect(tokenRequest?.headers['content-type']).toBe(
        'application/x-www-form-urlencoded; charset=UTF-8',
      );
      expect(tokenRequest?.text).toBe(
        `audience=hooks&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}&grant_type=client_credentials&scope=read%20write`,
      );
      const first = h.sim.issuedTokens[tokensBefore];
      expect(h.sim.last().headers.authorization).toBe(`Bearer ${first}`);
      expect(h.sim.last().headers['x-config']).toBe('c');
      // Kibana sends only the config headers with an OAuth2 token.
      expect(h.sim.last().headers['x-secret']).toBeUndefined();

      await run(id, { body: 'success' });
      expect(h.sim.tokenRequests.length).toBe(tokenRequestsBefore + 1);
      expect(h.sim.last().headers.authorization).toBe(`Bearer ${first}`);

      expect(await run(id, { body: 'respond-with-403' })).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error calling webhook, invalid response',
        service_message: '[403] Forbidden: simulated 403',
        errorSource: 'user',
      });

      await run(id, { body: 'success' });
      expect(h.sim.tokenRequests.length).toBe(tokenRequestsBefore + 2);
      const second = h.sim.issuedTokens[tokensBefore + 1];
      expect(second).not.toBe(first);
      expect(h.sim.last().headers.authorization).toBe(`Bearer ${second}`);
    });

    it('keeps the token after a 5xx', async () => {
      const id = await create(oauthConfig(), { clientSecret: CLIENT_SECRET });
      await run(id, { body: 'success' });
      const count = h.sim.tokenRequests.length;
      await run(id, { body: 'respond-with-500' });
      await run(id, { body: 'success' });
      expect(h.sim.tokenRequests.length).toBe(count);
    });

    it('reports a refused token request', async () => {
      const id = await create(oauthConfig(), { clientSecret: 'wrong-secret-Pz1' });
      expect(await run(id, { body: 'success' })).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error calling webhook, request failed',
        service_message:
          'Unable to retrieve/refresh the access token: {"error":"invalid_client","error_description":"Client authentication failed"}',
        errorSource: 'user',
      });
    });

    it('reports a missing client secret', async () => {
      const id = await create(oauthConfig(), {});
      expect(await run(id, { body: 'success' })).toEqual({
        status: 'error',
        connector_id: id,
        message: 'error calling webhook, request failed',
        service_message: 'Unable to retrieve new access token',
        errorSource: 'user',
      });
    });
  });

  it('never shows a secret in a reply or a log line', () => {
    expectNoSecrets(
      h.server,
      [PASSWORD, SECRET_HEADER_VALUE, CLIENT_SECRET, 'sim-token-'],
      h.replies,
    );
  });
});

describe('.webhook certificate refusal setting', () => {
  it('refuses ssl-pfx when xpack.actions.webhook.ssl.pfx.enabled is false', async () => {
    await withServer(
      {
        settings: { 'xpack.actions.webhook.ssl.pfx.enabled': false },
      },
      async (server) => {
        const res = await server.api<{ message: string }>('POST', '/api/actions/connector', {
          body: {
            name: 'pfx',
            connector_type_id: '.webhook',
            config: {
              url: 'https://hooks.example/x',
              authType: 'webhook-authentication-ssl',
              certType: 'ssl-pfx',
            },
            secrets: { pfx: 'cGZ4' },
          },
        });
        expect(res.status).toBe(400);
        expect(res.body.message).toBe(`${WEBHOOK_PREFIX}certType "ssl-pfx" is disabled`);
      },
    );
  });
});

describe('.webhook over https', () => {
  let certs: TestCertificates;
  let mutual: WebhookSimulator;
  let wrongName: WebhookSimulator;
  let server: TestServer;
  const replies: unknown[] = [];

  beforeAll(async () => {
    certs = makeTestCertificates();
    mutual = await startWebhookSimulator({
      https: {
        key: certs.serverKey,
        cert: certs.serverCert,
        ca: certs.caCert,
        requestCert: true,
        rejectUnauthorized: true,
      },
    });
    wrongName = await startWebhookSimulator({
      https: { key: certs.wrongNameKey, cert: certs.wrongNameCert },
    });
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
    await mutual.close();
    await wrongName.close();
  });

  const run = async (config: Record<string, unknown>, secrets: Record<string, unknown> = {}) => {
    const id = await createConnector(server.api, {
      connector_type_id: '.webhook',
      config,
      secrets,
    });
    const reply = await execute(server.api, id, { body: 'success' });
    replies.push(reply);
    return { id, reply };
  };

  const ssl = (url: string, certType: string, ca = certs.caCert) => ({
    url,
    authType: 'webhook-authentication-ssl',
    certType,
    ca: base64(ca),
  });

  it('presents a client certificate from crt and key', async () => {
    const { id, reply } = await run(ssl(`${mutual.url}/cert`, 'ssl-crt-key'), {
      crt: base64(certs.clientCert),
      key: base64(certs.clientKey),
    });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: 'success' });
    expect(mutual.clientCertificates.at(-1)).toBe(CLIENT_CN);
    expect(mutual.last().headers.authorization).toBeUndefined();
  });

  it('opens an encrypted key with the password as passphrase', async () => {
    const { id, reply } = await run(ssl(`${mutual.url}/enc`, 'ssl-crt-key'), {
      crt: base64(certs.clientCert),
      key: base64(certs.clientKeyEncrypted),
      password: CLIENT_KEY_PASSPHRASE,
    });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: 'success' });
    expect(mutual.clientCertificates.at(-1)).toBe(CLIENT_CN);
  });

  it('presents a client certificate from a PFX', async () => {
    const { id, reply } = await run(ssl(`${mutual.url}/pfx`, 'ssl-pfx'), {
      pfx: base64(certs.clientPfx),
      password: PFX_PASSWORD,
    });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: 'success' });
    expect(mutual.clientCertificates.at(-1)).toBe(CLIENT_CN);
  });

  it('fails when the server wants a certificate and none is given', async () => {
    const seen = mutual.requests.length;
    const { id, reply } = await run({ url: `${mutual.url}/none`, ca: base64(certs.caCert) });
    expect(reply).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error calling webhook, request failed',
      service_message: expect.stringMatching(
        /^\[(ECONNRESET|ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)\] /,
      ),
      errorSource: 'user',
    });
    // The handshake is refused: the request never reaches the receiver.
    expect(mutual.requests.length).toBe(seen);
  });

  it('verificationMode full checks the host name', async () => {
    const { id, reply } = await run({
      url: `${wrongName.url}/full`,
      ca: base64(certs.caCert),
      verificationMode: 'full',
    });
    expect(reply).toEqual({
      status: 'error',
      connector_id: id,
      message: 'error calling webhook, request failed',
      service_message:
        "[ERR_TLS_CERT_ALTNAME_INVALID] Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
      errorSource: 'user',
    });
  });

  it('verificationMode certificate checks the chain but not the name', async () => {
    const ok = await run({
      url: `${wrongName.url}/certificate`,
      ca: base64(certs.caCert),
      verificationMode: 'certificate',
    });
    expect(ok.reply).toEqual({ status: 'ok', connector_id: ok.id, data: 'success' });

    const untrusted = await run({
      url: `${wrongName.url}/certificate`,
      ca: base64(certs.otherCaCert),
      verificationMode: 'certificate',
    });
    expect(untrusted.reply).toEqual({
      status: 'error',
      connector_id: untrusted.id,
      message: 'error calling webhook, request failed',
      service_message: '[UNABLE_TO_VERIFY_LEAF_SIGNATURE] unable to verify the first certificate',
      errorSource: 'user',
    });
  });

  it('verificationMode none accepts any certificate', async () => {
    const { id, reply } = await run({ url: `${wrongName.url}/none`, verificationMode: 'none' });
    expect(reply).toEqual({ status: 'ok', connector_id: id, data: 'success' });
  });

  it('never shows key material or passwords', () => {
    expectNoSecrets(
      server,
      [base64(certs.clientKey), base64(certs.clientPfx), CLIENT_KEY_PASSPHRASE, PFX_PASSWORD],
      replies,
    );
  });
});
