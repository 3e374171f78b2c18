import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createUser } from '../helpers/identities.js';
import { basicAuth, startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
/** One keep-alive connection: every request below goes over the same socket. */
let connection: Client;
/** The client ports the requests to the connectors list came from. */
const ports = new Set<number | undefined>();
beforeAll(async () => {
  server = await startServer();
  server.app.server.on('request', (req) => {
    if (req.url === '/api/actions/connectors') ports.add(req.socket.remotePort);
  });
  connection = new Client(server.url, { pipelining: 1 });
});
afterAll(async () => {
  await connection.close();
  await server.close();
});

/** The status of a request made over the one connection with this Authorization header. */
async function statusWith(authorization: string): Promise<number> {
  const res = await connection.request({
    method: 'GET',
    path: '/api/actions/connectors',
    headers: { authorization },
  });
  await res.body.dump();
  return res.statusCode;
}

/**
 * A connection remembers the credentials it was last admitted with, so that a client repeating
 * its header skips the cache's digest; what stops credentials elsewhere stops them here too.
 */
describe('credentials remembered by a connection', () => {
  it('stop at once when the password changes or the user goes, on the same connection', async () => {
    const first = await createUser(server.api, 'conn_user', ['viewer'], 'first-password');
    expect(await statusWith(first)).toBe(200);
    expect(await statusWith(first)).toBe(200);

    const changed = await server.api('POST', '/internal/security/users/conn_user/password', {
      body: { newPassword: 'second-password' },
    });
    expect(changed.status).toBe(204);
    expect(await statusWith(first)).toBe(401);
    const second = basicAuth('conn_user', 'second-password');
    expect(await statusWith(second)).toBe(200);
    expect(await statusWith(second)).toBe(200);
    // Right after the connection was admitted with the new password, the old one is still refused.
    expect(await statusWith(first)).toBe(401);
    expect(await statusWith(second)).toBe(200);

    // Another caller on the same connection is that caller, and the first one is still refused.
    const other = await createUser(server.api, 'conn_other', ['viewer']);
    expect(await statusWith(other)).toBe(200);
    expect(await statusWith(first)).toBe(401);
    expect(await statusWith(basicAuth('conn_other', 'not-the-password'))).toBe(401);
    expect(await statusWith(second)).toBe(200);

    const deleted = await server.api('DELETE', '/internal/security/users/conn_user');
    expect(deleted.status).toBe(204);
    expect(await statusWith(second)).toBe(401);
    expect(await statusWith(other)).toBe(200);
  });

  it('stop at once when an API key is invalidated, on the same connection', async () => {
    const key = await createApiKey(server.api, { name: 'conn-key' });
    expect(await statusWith(key.auth)).toBe(200);
    expect(await statusWith(key.auth)).toBe(200);
    const forged = `ApiKey ${Buffer.from(`${key.id}:not-the-key`).toString('base64')}`;
    expect(await statusWith(forged)).toBe(401);
    expect(await statusWith(key.auth)).toBe(200);
    const res = await server.api('POST', '/internal/security/api_key/invalidate', {
      body: { apiKeys: [{ id: key.id, name: key.name }], isAdmin: true },
    });
    expect(res.status).toBe(200);
    expect(await statusWith(key.auth)).toBe(401);
    // Every request of both tests went over the one connection.
    expect(ports.size).toBe(1);
  });
});
