import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

describe('GET /api/status', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { 'server.name': 'connectors-test' } });
  });
  afterAll(() => server.close());

  it('answers anonymous callers with the redacted status', async () => {
    const res = await server.api('GET', '/api/status', { auth: 'none' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: { overall: { level: 'available' } } });
  });

  it('answers authenticated callers with name, uuid, version and overall level', async () => {
    const res = await server.api<Record<string, unknown>>('GET', '/api/status');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'connectors-test',
      uuid: expect.stringMatching(/^[0-9a-f-]{36}$/),
      version: { number: '9.3.0', build_snapshot: false, build_flavor: 'traditional' },
      status: {
        overall: { level: 'available', summary: 'All services and plugins are available' },
      },
    });
  });

  it('keeps the uuid across restarts', async () => {
    const first = await server.api<{ uuid: string }>('GET', '/api/status');
    const again = await startServer({ dataDir: server.dataDir });
    const second = await again.api<{ uuid: string }>('GET', '/api/status');
    await again.close();
    expect(second.body.uuid).toBe(first.body.uuid);
  });

  it('still refuses bad credentials', async () => {
    const res = await server.api('GET', '/api/status', { auth: 'Basic ZWxhc3RpYzp3cm9uZw==' });
    expect(res.status).toBe(401);
  });
});

describe('GET /api/status with status.allowAnonymous', () => {
  it('answers anonymous callers in full', async () => {
    const server = await startServer({ settings: { 'status.allowAnonymous': true } });
    const res = await server.api<Record<string, unknown>>('GET', '/api/status', { auth: 'none' });
    await server.close();
    expect(res.body).toHaveProperty('uuid');
  });
});
