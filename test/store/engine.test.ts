import { rmSync } from 'node:fs';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadSettings } from '../../src/config/load.js';
import type { SettingKey } from '../../src/config/settings.js';
import { ENCRYPTION_KEY, tempDir } from '../helpers/server.js';

/** Choosing the store engine: what start-up says when the PostgreSQL one cannot be opened. */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function build(overrides: Partial<Record<SettingKey, unknown>>, env: NodeJS.ProcessEnv = {}) {
  const dir = tempDir('kcs-engine-');
  dirs.push(dir);
  const settings = loadSettings({
    env,
    overrides: {
      'path.data': dir,
      'store.engine': 'postgres',
      'xpack.encryptedSavedObjects.encryptionKey': ENCRYPTION_KEY,
      ...overrides,
    },
  });
  return buildApp({ settings, logger: pino({ level: 'silent' }), env: {} });
}

describe('store.engine: postgres', () => {
  it('needs a URL', async () => {
    await expect(build({})).rejects.toThrow(
      '[store.postgres.url]: must be set (or DATABASE_URL) when store.engine is postgres',
    );
  });

  it('takes DATABASE_URL, and names the server it cannot reach without the password', async () => {
    const env = { DATABASE_URL: 'postgres://kcs:hunter2-secret@127.0.0.1:1/connectors' };
    expect(loadSettings({ env })['store.postgres.url']).toBe(env.DATABASE_URL);
    const failure = build({ 'store.postgres.connectionTimeout': '2s' }, env);
    await expect(failure).rejects.toThrow(
      /^Unable to open the PostgreSQL store at 127\.0\.0\.1:1: .*ECONNREFUSED/,
    );
    await expect(failure).rejects.not.toThrow(/hunter2/);
  });

  it('needs the shared encryption key', async () => {
    await expect(
      build({
        'store.postgres.url': 'postgres://127.0.0.1:1/x',
        'xpack.encryptedSavedObjects.encryptionKey': undefined,
      }),
    ).rejects.toThrow(
      '[xpack.encryptedSavedObjects.encryptionKey]: must be set when store.engine is not sqlite, so every instance shares it',
    );
  });

  it('refuses pool sizes and timeouts that are not numbers of the right kind', () => {
    expect(() => loadSettings({ overrides: { 'store.postgres.pool.max': 0 } })).toThrow(
      '[store.postgres.pool.max]: value must be between [1] and [1000], got [0]',
    );
    expect(
      loadSettings({ env: { STORE_POSTGRES_STATEMENTTIMEOUT: '5s' } })[
        'store.postgres.statementTimeout'
      ],
    ).toBe(5000);
  });
});
