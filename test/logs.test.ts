import { describe, expect, it } from 'vitest';
import { ELASTIC_AUTH, ELASTIC_PASSWORD, startServer } from './helpers/server.js';
import { secretEchoConnector } from './helpers/test-connector.js';

describe('the server log', () => {
  it('has one line per request and never credentials or secrets', async () => {
    const server = await startServer({ connectorTypes: [secretEchoConnector] });
    const key = await server.api<{ encoded: string; api_key: string }>(
      'POST',
      '/internal/security/api_key',
      {
        body: { name: 'logged' },
      },
    );
    const secret = 'do-not-log-this-token-77';
    await server.api('POST', '/api/actions/connector/echo', {
      body: { name: 'echo', connector_type_id: '.test-secret', secrets: { token: secret } },
      auth: `ApiKey ${key.body.encoded}`,
    });
    await server.api('POST', '/api/actions/connector/echo/_execute', {
      body: { params: { echo: 'x' } },
    });
    await server.api('PUT', '/api/actions/connector/echo', {
      body: { name: 'echo', secrets: { token: 12 } },
    });
    await server.api('GET', '/api/actions/connectors', { auth: 'Basic ZWxhc3RpYzp3cm9uZw==' });
    await server.close();

    const text = server.logs.join('\n');
    for (const forbidden of [
      ELASTIC_PASSWORD,
      ELASTIC_AUTH,
      key.body.api_key,
      key.body.encoded,
      secret,
    ]) {
      expect(text).not.toContain(forbidden);
    }
    const requests = server.logs
      .map((l) => JSON.parse(l))
      .filter((l) => l.msg === 'request completed');
    expect(requests.map((r) => [r.method, r.path, r.statusCode])).toEqual([
      ['POST', '/internal/security/api_key', 200],
      ['POST', '/api/actions/connector/echo', 200],
      ['POST', '/api/actions/connector/echo/_execute', 200],
      ['PUT', '/api/actions/connector/echo', 400],
      ['GET', '/api/actions/connectors', 401],
    ]);
    for (const r of requests) {
      expect(r.space).toBe('default');
      expect(typeof r.responseTime).toBe('number');
    }
  });
});
