import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnector, execute } from '../helpers/connectors.js';
import { createApiKey, createUser } from '../helpers/identities.js';
import { basicAuth, ELASTIC_PASSWORD, startServer, tempDir } from '../helpers/server.js';
import { secretEchoConnector } from '../helpers/test-connector.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Event = Record<string, unknown> & {
  event: { action: string; outcome: string; category: string[]; type?: string[] };
  message: string;
  user?: { name: string; roles?: string[] };
  kibana: { space_id?: string; saved_object?: { type: string; id: string } };
};

function readEvents(file: string): Event[] {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Event);
}

describe('audit log', () => {
  it('records every connector operation and failed logins as ECS events, never a secret', async () => {
    const dataDir = tempDir('kcs-audit-');
    dirs.push(dataDir);
    const secret = 'audit-secret-token-987';
    const server = await startServer({
      dataDir,
      connectorTypes: [secretEchoConnector],
      settings: { 'xpack.security.audit.enabled': true },
    });
    const { api } = server;
    await api('POST', '/api/spaces/space', { body: { id: 'audited', name: 'Audited' } });
    const id = await createConnector(
      api,
      { connector_type_id: '.test-secret', secrets: { token: secret } },
      '/s/audited',
    );
    await api('GET', `/s/audited/api/actions/connector/${id}`);
    await api('GET', '/s/audited/api/actions/connectors');
    await api('PUT', `/s/audited/api/actions/connector/${id}`, {
      body: { name: 'renamed', secrets: { token: secret } },
    });
    await execute(api, id, { echo: 'hi' }, '/s/audited');
    const viewer = await createUser(api, 'audit_viewer', ['viewer'], 'viewer-password-77');
    const refused = await api('DELETE', `/s/audited/api/actions/connector/${id}`, { auth: viewer });
    expect(refused.status).toBe(403);
    await api('DELETE', `/s/audited/api/actions/connector/${id}`);
    await api('GET', '/api/actions/connectors', { auth: basicAuth('elastic', 'wrong-password-1') });
    const key = await createApiKey(api, { name: 'audited-key' });
    await api('GET', '/api/actions/connectors', {
      auth: `ApiKey ${Buffer.from(`${key.id}:not-the-secret`).toString('base64')}`,
    });
    await server.close();

    const file = join(dataDir, 'audit.log');
    const text = readFileSync(file, 'utf8');
    for (const hidden of [
      secret,
      ELASTIC_PASSWORD,
      'viewer-password-77',
      'wrong-password-1',
      key.api_key,
    ]) {
      expect(text.includes(hidden), 'the audit log holds a secret').toBe(false);
    }
    const events = readEvents(file);
    const of = (action: string) => events.filter((e) => e.event.action === action);

    const [creating] = of('connector_create');
    expect(creating).toMatchObject({
      event: {
        action: 'connector_create',
        category: ['database'],
        type: ['creation'],
        outcome: 'unknown',
      },
      message: `User is creating connector [id=${id}]`,
      user: { name: 'elastic', roles: ['superuser'] },
      kibana: { space_id: 'audited', saved_object: { type: 'action', id } },
      http: { request: { method: 'post' } },
      url: { path: '/api/actions/connector' },
      ecs: { version: expect.any(String) },
      log: { level: 'INFO', logger: 'plugins.security.audit.ecs' },
      trace: { id: expect.any(String) },
      client: { ip: expect.any(String) },
    });
    expect(Date.parse(creating?.['@timestamp'] as string)).toBeGreaterThan(0);
    expect(of('connector_get')[0]).toMatchObject({
      message: `User has accessed connector [id=${id}]`,
      event: { outcome: 'success', type: ['access'] },
    });
    expect(of('connector_find')[0]).toMatchObject({
      message: `User has accessed connector [id=${id}]`,
      kibana: { saved_object: { type: 'action', id } },
    });
    expect(of('connector_update')[0]).toMatchObject({
      message: `User is updating connector [id=${id}]`,
      event: { outcome: 'unknown', type: ['change'] },
    });
    const [executed] = of('connector_execute');
    expect(executed).toMatchObject({
      message: `User has executed connector [id=${id}]`,
      event: { outcome: 'success' },
    });
    expect(executed?.event.type).toBeUndefined();
    const deletes = of('connector_delete');
    expect(deletes[0]).toMatchObject({
      message: `Failed attempt to delete connector [id=${id}]`,
      event: { outcome: 'failure', type: ['deletion'] },
      user: { name: 'audit_viewer', roles: ['viewer'] },
      error: { code: 'Error', message: 'Unauthorized to delete actions' },
    });
    expect(deletes[1]).toMatchObject({
      message: `User is deleting connector [id=${id}]`,
      event: { outcome: 'unknown' },
      user: { name: 'elastic' },
    });

    const logins = of('user_login');
    expect(logins).toHaveLength(2);
    expect(logins[0]).toMatchObject({
      message: 'Failed attempt to login using http provider [name=__http__]',
      event: { category: ['authentication'], outcome: 'failure' },
      user: { name: 'elastic' },
      kibana: { authentication_provider: '__http__', authentication_type: 'http' },
      error: {
        message: expect.stringContaining(
          'unable to authenticate user [elastic] for REST request [/_security/_authenticate]',
        ),
      },
    });
    expect(logins[1]?.user).toBeUndefined();
    expect(logins[1]?.error).toMatchObject({
      message: expect.stringContaining('unable to authenticate with provided credentials'),
    });
  });

  it('is off by default, and writes where appender.fileName says', async () => {
    const dataDir = tempDir('kcs-audit-off-');
    dirs.push(dataDir);
    const off = await startServer({ dataDir });
    await off.api('GET', '/api/actions/connectors');
    await off.close();
    expect(existsSync(join(dataDir, 'audit.log'))).toBe(false);

    const elsewhere = join(tempDir('kcs-audit-file-'), 'logs', 'kibana-audit.json');
    dirs.push(join(elsewhere, '..', '..'));
    const on = await startServer({
      settings: {
        'xpack.security.audit.enabled': true,
        'xpack.security.audit.appender.type': 'file',
        'xpack.security.audit.appender.fileName': elsewhere,
      },
    });
    await on.api('GET', '/api/actions/connectors', { auth: basicAuth('nobody', 'nothing-1') });
    await on.close();
    expect(readEvents(elsewhere).map((e) => e.event.action)).toEqual(['user_login']);
  });

  it('refuses a file appender without a file name', async () => {
    await expect(
      startServer({
        settings: {
          'xpack.security.audit.enabled': true,
          'xpack.security.audit.appender.type': 'file',
        },
      }),
    ).rejects.toThrow(
      '[xpack.security.audit.appender.fileName]: expected value of type [string] but got [undefined]',
    );
  });
});
