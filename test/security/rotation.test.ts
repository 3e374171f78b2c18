import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { serverLogConnector } from '../../src/connectors/server_log/index.js';
import { SecretsCipher } from '../../src/store/crypto.js';
import { createConnector, execute } from '../helpers/connectors.js';
import { createUser } from '../helpers/identities.js';
import { startServer, tempDir } from '../helpers/server.js';
import { secretEchoConnector } from '../helpers/test-connector.js';

/**
 * Key rotation as Kibana does it: start with key A, restart with key B and A as a
 * decryption-only key, rotate, and then nothing at rest is sealed with A or readable as text.
 */

const KEY_A = 'key-a-key-a-key-a-key-a-key-a-key-a-0001';
const KEY_B = 'key-b-key-b-key-b-key-b-key-b-key-b-0002';
const KEY_C = 'key-c-key-c-key-c-key-c-key-c-key-c-0003';
const types = [secretEchoConnector, serverLogConnector];

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function start(dataDir: string, key: string, old: string[] = []) {
  return startServer({
    dataDir,
    connectorTypes: types,
    settings: {
      'xpack.encryptedSavedObjects.encryptionKey': key,
      'xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys': old,
    },
  });
}

/** Every byte under path.data, SQLite file, WAL and all. */
function everyFile(dataDir: string): Buffer {
  return Buffer.concat(readdirSync(dataDir).map((f) => readFileSync(join(dataDir, f))));
}

function storedBlobs(dataDir: string): Array<{ id: string; secrets: string | null }> {
  const db = new Database(join(dataDir, 'connectors.sqlite'), { readonly: true });
  try {
    return db.prepare('SELECT id, secrets FROM connectors ORDER BY id').all() as Array<{
      id: string;
      secrets: string | null;
    }>;
  } finally {
    db.close();
  }
}

describe('encryption key rotation', () => {
  const dataDir = tempDir('kcs-rotate-');
  dirs.push(dataDir);
  const secrets = ['rotate-secret-default-1', 'rotate-secret-x-22', 'rotate-secret-y-333'];
  const spaces = ['', '/s/space-x', '/s/space-y'];
  const ids: string[] = [];

  it('re-encrypts every connector in every space with the new key', async () => {
    const first = await start(dataDir, KEY_A);
    for (const id of ['space-x', 'space-y']) {
      await first.api('POST', '/api/spaces/space', { body: { id, name: id } });
    }
    for (const [i, prefix] of spaces.entries()) {
      ids.push(
        await createConnector(
          first.api,
          { connector_type_id: '.test-secret', secrets: { token: secrets[i] } },
          prefix,
        ),
      );
    }
    await createConnector(first.api, { connector_type_id: '.server-log' }, '/s/space-x');
    await first.close();
    const keyA = new SecretsCipher(KEY_A).keyId;
    expect(storedBlobs(dataDir).filter((r) => r.secrets?.startsWith(`v1.${keyA}.`))).toHaveLength(
      4,
    );
    // The raw-bytes check below can see a blob sealed with A.
    expect(everyFile(dataDir).includes(`v1.${keyA}.`)).toBe(true);

    const second = await start(dataDir, KEY_B, [KEY_A]);
    // Still readable through the decryption-only key, before any rotation.
    for (const [i, prefix] of spaces.entries()) {
      const run = await execute(second.api, ids[i] as string, { echo: 'before' }, prefix);
      expect(run).toMatchObject({ status: 'ok', data: { tokenLength: secrets[i]?.length } });
    }
    const viewer = await createUser(second.api, 'rot_viewer', ['viewer']);
    const refused = await second.api('POST', '/api/encrypted_saved_objects/_rotate_key', {
      auth: viewer,
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message:
        'API [POST /api/encrypted_saved_objects/_rotate_key] is unauthorized for user, this action is granted by the Kibana privileges [superuser]',
    });
    const badBatch = await second.api(
      'POST',
      '/api/encrypted_saved_objects/_rotate_key?batch_size=0',
    );
    expect(badBatch.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: '[request query.batch_size]: Value must be equal to or greater than [1].',
    });

    const rotated = await second.api(
      'POST',
      '/api/encrypted_saved_objects/_rotate_key?batch_size=2',
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ total: 4, successful: 4, failed: 0 });
    const again = await second.api('POST', '/api/encrypted_saved_objects/_rotate_key');
    expect(again.body).toEqual({ total: 4, successful: 0, failed: 0 });
    const otherType = await second.api(
      'POST',
      '/api/encrypted_saved_objects/_rotate_key?type=alert',
    );
    expect(otherType.body).toEqual({ total: 0, successful: 0, failed: 0 });
    for (const [i, prefix] of spaces.entries()) {
      const run = await execute(second.api, ids[i] as string, { echo: 'after' }, prefix);
      expect(run).toMatchObject({ status: 'ok', data: { tokenLength: secrets[i]?.length } });
    }
    await second.close();

    const keyB = new SecretsCipher(KEY_B).keyId;
    const blobs = storedBlobs(dataDir).filter((r) => r.secrets !== null);
    expect(blobs).toHaveLength(4);
    for (const blob of blobs) expect(blob.secrets?.startsWith(`v1.${keyB}.`)).toBe(true);
    const raw = everyFile(dataDir);
    expect(raw.includes(`v1.${keyA}.`), 'a blob sealed with the old key is still on disk').toBe(
      false,
    );
    for (const secret of secrets) expect(raw.includes(secret)).toBe(false);
  });

  it('runs with the new key alone, and says rotation is not configured without old keys', async () => {
    const third = await start(dataDir, KEY_B);
    for (const [i, prefix] of spaces.entries()) {
      expect((await execute(third.api, ids[i] as string, {}, prefix)).status).toBe('ok');
    }
    const rotate = await third.api('POST', '/api/encrypted_saved_objects/_rotate_key');
    expect(rotate.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        'Kibana is not configured to support encryption key rotation. Update `kibana.yml` to include `xpack.encryptedSavedObjects.keyRotation.decryptionOnlyKeys` to rotate your encryption keys.',
    });
    await third.close();
  });

  it('shows connectors it cannot decrypt as missing secrets, lists them, and never answers 500', async () => {
    const wrong = await start(dataDir, KEY_C);
    const [first] = ids as [string];
    const got = await wrong.api<{ is_missing_secrets: boolean }>(
      'GET',
      `/api/actions/connector/${first}`,
    );
    expect(got.status).toBe(200);
    expect(got.body.is_missing_secrets).toBe(true);
    const list = await wrong.api<Array<{ id: string; is_missing_secrets?: boolean }>>(
      'GET',
      '/api/actions/connectors',
    );
    expect(list.body.find((c) => c.id === first)?.is_missing_secrets).toBe(true);
    const inX = await wrong.api<Array<{ connector_type_id: string; is_missing_secrets?: boolean }>>(
      'GET',
      '/s/space-x/api/actions/connectors',
    );
    // A type without secrets still stores a sealed `{}`, as Kibana does: it is missing too.
    expect(inX.body.find((c) => c.connector_type_id === '.server-log')?.is_missing_secrets).toBe(
      true,
    );

    const run = await wrong.api('POST', `/api/actions/connector/${first}/_execute`, {
      body: { params: {} },
    });
    expect(run.status).toBe(200);
    expect(run.body).toEqual({
      status: 'error',
      connector_id: first,
      message: 'Unable to decrypt the connector secrets; update the connector to store them again',
      retry: false,
      errorSource: 'framework',
    });

    const listed = await wrong.api<{ total: number; connectors: Array<Record<string, unknown>> }>(
      'GET',
      '/internal/encrypted_saved_objects/_undecryptable',
    );
    expect(listed.status).toBe(200);
    expect(listed.body.total).toBe(4);
    expect(listed.body.connectors).toEqual(
      expect.arrayContaining([
        {
          id: first,
          name: 'test .test-secret',
          connector_type_id: '.test-secret',
          space_id: 'default',
          is_missing_secrets: true,
          reason: 'unknown_key',
        },
        expect.objectContaining({ space_id: 'space-x', reason: 'unknown_key' }),
        expect.objectContaining({ space_id: 'space-y', reason: 'unknown_key' }),
      ]),
    );
    const viewer = await createUser(wrong.api, 'undec_viewer', ['viewer']);
    expect(
      (await wrong.api('GET', '/internal/encrypted_saved_objects/_undecryptable', { auth: viewer }))
        .status,
    ).toBe(403);

    // Storing the secrets again heals the connector.
    const update = await wrong.api<{ is_missing_secrets: boolean }>(
      'PUT',
      `/api/actions/connector/${first}`,
      { body: { name: 'healed', secrets: { token: 'a-new-token' } } },
    );
    expect(update.body.is_missing_secrets).toBe(false);
    expect((await execute(wrong.api, first, {})).status).toBe('ok');
    const after = await wrong.api<{ total: number }>(
      'GET',
      '/internal/encrypted_saved_objects/_undecryptable',
    );
    expect(after.body.total).toBe(3);
    await wrong.close();
  });
});
