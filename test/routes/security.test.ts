import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, ELASTIC_PASSWORD, startServer, type TestServer } from '../helpers/server.js';

const UNAUTHORIZED = { statusCode: 401, error: 'Unauthorized', message: 'Unauthorized' };
const userFailure = (user: string) => ({
  statusCode: 401,
  error: 'Unauthorized',
  message: `[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate user [${user}] for REST request [/_security/_authenticate]]: unable to authenticate user [${user}] for REST request [/_security/_authenticate]`,
});
const keyFailure = {
  statusCode: 401,
  error: 'Unauthorized',
  message:
    '[security_exception\n\tRoot causes:\n\t\tsecurity_exception: unable to authenticate with provided credentials and anonymous access is not allowed for this request]: unable to authenticate with provided credentials and anonymous access is not allowed for this request',
};

describe('authentication', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('answers 401 without credentials, with bad credentials, and with unknown schemes', async () => {
    const none = await server.api('GET', '/api/actions/connectors', { auth: 'none' });
    expect(none.status).toBe(401);
    expect(none.body).toEqual(UNAUTHORIZED);

    const wrong = await server.api('GET', '/api/actions/connectors', {
      auth: basicAuth('elastic', 'nope'),
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual(userFailure('elastic'));

    const unknownUser = await server.api('GET', '/api/actions/connectors', {
      auth: basicAuth('bob', ELASTIC_PASSWORD),
    });
    expect(unknownUser.body).toEqual(userFailure('bob'));

    const digest = await server.api('GET', '/api/actions/connectors', {
      auth: 'Digest username="elastic"',
    });
    expect(digest.body).toEqual(UNAUTHORIZED);
  });

  it('mints API keys and accepts them; a wrong, unknown or expired key is refused', async () => {
    const minted = await server.api<{ id: string; name: string; api_key: string; encoded: string }>(
      'POST',
      '/internal/security/api_key',
      { body: { name: 'ci-key', role_descriptors: {} } },
    );
    expect(minted.status).toBe(200);
    expect(Object.keys(minted.body).sort()).toEqual(['api_key', 'encoded', 'id', 'name']);
    expect(minted.body.name).toBe('ci-key');
    expect(Buffer.from(minted.body.encoded, 'base64').toString()).toBe(
      `${minted.body.id}:${minted.body.api_key}`,
    );

    const ok = await server.api('GET', '/api/actions/connectors', {
      auth: `ApiKey ${minted.body.encoded}`,
    });
    expect(ok.status).toBe(200);
    const me = await server.api('GET', '/internal/security/me', {
      auth: `ApiKey ${minted.body.encoded}`,
    });
    expect(me.body).toMatchObject({
      username: 'elastic',
      authentication_type: 'api_key',
      api_key: { id: minted.body.id, name: 'ci-key' },
    });

    const wrongSecret = Buffer.from(`${minted.body.id}:not-the-key`).toString('base64');
    expect(
      (await server.api('GET', '/api/actions/connectors', { auth: `ApiKey ${wrongSecret}` })).body,
    ).toEqual(keyFailure);
    const unknown = Buffer.from('nope:nope').toString('base64');
    expect(
      (await server.api('GET', '/api/actions/connectors', { auth: `ApiKey ${unknown}` })).body,
    ).toEqual(keyFailure);

    const expiring = await server.api<{ encoded: string; expiration: number }>(
      'POST',
      '/internal/security/api_key',
      {
        body: { name: 'short', expiration: '1s' },
      },
    );
    expect(expiring.body.expiration).toBeGreaterThan(Date.now());
    expect(
      (
        await server.api('GET', '/api/actions/connectors', {
          auth: `ApiKey ${expiring.body.encoded}`,
        })
      ).status,
    ).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect(
      (
        await server.api('GET', '/api/actions/connectors', {
          auth: `ApiKey ${expiring.body.encoded}`,
        })
      ).status,
    ).toBe(401);
  });

  it('refuses a bad API key request', async () => {
    const noName = await server.api('POST', '/internal/security/api_key', { body: {} });
    // Kibana's body is a oneOf (REST key, REST key with Kibana privileges, cross-cluster key).
    expect(noName.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        '[request body]: types that failed validation:\n' +
        '- [request body.0.name]: expected value of type [string] but got [undefined]\n' +
        '- [request body.1.name]: expected value of type [string] but got [undefined]\n' +
        '- [request body.2.type]: expected value to equal [cross_cluster]',
    });
    const badExpiration = await server.api('POST', '/internal/security/api_key', {
      body: { name: 'k', expiration: 'soon' },
    });
    expect(badExpiration.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'failed to parse setting [expiration] with value [soon] as a time value: unit is missing or unrecognized',
    });
  });

  it('stores API keys hashed: the secret is nowhere under path.data', async () => {
    const minted = await server.api<{ api_key: string }>('POST', '/internal/security/api_key', {
      body: { name: 'hashed' },
    });
    const { readdirSync, readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    for (const file of readdirSync(server.dataDir)) {
      expect(readFileSync(join(server.dataDir, file)).includes(minted.body.api_key)).toBe(false);
    }
  });
});

describe('kbn-xsrf and the order of checks', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { 'server.xsrf.allowlist': ['/api/spaces/space'] } });
  });
  afterAll(() => server.close());

  const body = { name: 'x', connector_type_id: '.server-log' };

  it('requires kbn-xsrf (any value) or kbn-version on POST, PUT, DELETE', async () => {
    const expected = {
      statusCode: 400,
      error: 'Bad Request',
      message: 'Request must contain a kbn-xsrf header.',
    };
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const path = method === 'POST' ? '/api/actions/connector' : '/api/actions/connector/some-id';
      const res = await server.api(method, path, {
        body: method === 'DELETE' ? undefined : body,
        xsrf: false,
      });
      expect(res.status, method).toBe(400);
      expect(res.body).toEqual(expected);
    }
    const withAnyValue = await server.api('POST', '/api/actions/connector', {
      body,
      headers: { 'kbn-xsrf': 'foo' },
    });
    expect(withAnyValue.status).toBe(200);
    const withVersion = await server.api('POST', '/api/actions/connector', {
      body,
      xsrf: false,
      headers: { 'kbn-version': '9.3.0' },
    });
    expect(withVersion.status).toBe(200);
    const get = await server.api('GET', '/api/actions/connectors', { xsrf: false });
    expect(get.status).toBe(200);
  });

  it('refuses a kbn-version that is not ours', async () => {
    const res = await server.api('GET', '/api/actions/connectors', {
      headers: { 'kbn-version': '8.0.0' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'Browser client is out of date, please refresh the page ("kbn-version" header was "8.0.0" but should be "9.3.0")',
      attributes: { expected: '9.3.0', got: '8.0.0' },
    });
    // The same on a POST (where the header also stands in for kbn-xsrf) and on a route the XSRF
    // allowlist exempts; an unknown route answers 404 before any header is looked at.
    for (const [method, path] of [
      ['POST', '/api/actions/connector'],
      ['POST', '/api/spaces/space'],
    ] as const) {
      const refused = await server.api(method, path, {
        headers: { 'kbn-version': '8.0.0' },
        body: {},
        xsrf: false,
      });
      expect([refused.status, (refused.body as { message?: string }).message]).toEqual([
        400,
        (res.body as { message: string }).message,
      ]);
    }
    const unknown = await server.api('GET', '/api/no/such/route', {
      headers: { 'kbn-version': '8.0.0' },
    });
    expect(unknown.status).toBe(404);
  });

  it('honours server.xsrf.allowlist', async () => {
    const res = await server.api('POST', '/api/spaces/space', {
      body: { id: 'nox', name: 'No xsrf' },
      xsrf: false,
    });
    expect(res.status).toBe(200);
  });

  it('checks in Kibana order: route, credentials, xsrf, body', async () => {
    // Unknown route: 404 even without credentials.
    const unknown = await server.api('GET', '/api/nothing-here', { auth: 'none' });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Not Found' });
    // No credentials and no kbn-xsrf: 401.
    expect(
      (await server.api('POST', '/api/actions/connector', { body, auth: 'none', xsrf: false }))
        .status,
    ).toBe(401);
    // Credentials, no kbn-xsrf, bad body: the xsrf 400.
    const noXsrf = await server.api('POST', '/api/actions/connector', {
      body: { bad: true },
      xsrf: false,
    });
    expect(noXsrf.body).toMatchObject({ message: 'Request must contain a kbn-xsrf header.' });
    // Malformed JSON: 400 Invalid request payload JSON format.
    const malformed = await server.api('POST', '/api/actions/connector', {
      rawBody: '{"name":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid request payload JSON format',
    });
    const proto = await server.api('POST', '/api/actions/connector', {
      rawBody: '{"name":"x","connector_type_id":".server-log","__proto__":{"polluted":true}}',
      headers: { 'content-type': 'application/json' },
    });
    expect(proto.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Invalid request payload JSON format',
    });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('answers 413 over server.maxPayload and 415 for unknown media types', async () => {
    const big = await server.api('POST', '/api/actions/connector', {
      rawBody: JSON.stringify({ name: 'x'.repeat(1_100_000), connector_type_id: '.server-log' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(big.status).toBe(413);
    expect(big.body).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Payload content length greater than maximum allowed: 1048576',
    });
    const xml = await server.api('POST', '/api/actions/connector', {
      rawBody: '<x/>',
      headers: { 'content-type': 'application/xml' },
    });
    expect(xml.status).toBe(415);
    expect(xml.body).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'Unsupported Media Type',
    });
    // curl -d without a content type sends a form: refused as Kibana refuses it, with a 400.
    const form = await server.api('POST', '/api/actions/connector', {
      rawBody: '{"name":"x"}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(400);
  });

  it('sends the kbn-name header', async () => {
    const res = await server.api('GET', '/api/actions/connectors');
    expect(res.headers.get('kbn-name')).toBeTruthy();
  });
});
