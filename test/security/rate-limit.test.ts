import { describe, expect, it } from 'vitest';
import { createApiKey, createUser } from '../helpers/identities.js';
import { startServer } from '../helpers/server.js';

describe('rate limiting', () => {
  it('is off by default', async () => {
    const server = await startServer();
    for (let i = 0; i < 30; i++) {
      const res = await server.api('GET', '/api/actions/connectors');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    }
    await server.close();
  });

  it("counts per credential and answers 429 in Kibana's envelope", async () => {
    const server = await startServer({
      settings: {
        'server.rateLimiter.enabled': true,
        'server.rateLimiter.max': 3,
        'server.rateLimiter.timeWindow': '1m',
      },
    });
    // Setting up takes requests of the elastic user; count from a fresh window of others.
    const alice = await createUser(server.api, 'alice', ['viewer']);
    const bob = await createUser(server.api, 'bob', ['viewer']);
    const aliceKey = await createApiKey(server.api, { name: 'alice-key' });

    for (let i = 0; i < 3; i++) {
      const res = await server.api('GET', '/api/actions/connectors', { auth: alice });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBe('3');
    }
    const limited = await server.api('GET', '/api/actions/connectors', { auth: alice });
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Rate limit exceeded, retry in 1 minute',
    });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // Another user, and an API key, each have their own allowance.
    expect((await server.api('GET', '/api/actions/connectors', { auth: bob })).status).toBe(200);
    expect(
      (await server.api('GET', '/api/actions/connectors', { auth: aliceKey.auth })).status,
    ).toBe(200);
    // Anonymous callers are counted by address.
    for (let i = 0; i < 3; i++) {
      expect((await server.api('GET', '/api/status', { auth: 'none' })).status).toBe(200);
    }
    expect((await server.api('GET', '/api/status', { auth: 'none' })).status).toBe(429);
    await server.close();
  });
});
