import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { stringify } from 'yaml';
import { buildApp } from '../src/app.js';
import { loadSettings } from '../src/config/load.js';

/**
 * openapi.yaml is generated from the route schemas: `npm run openapi` rewrites it, and a test
 * fails when the committed file drifts from the code.
 */
export async function generateOpenApi(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kcs-openapi-'));
  try {
    const settings = loadSettings({
      overrides: {
        'path.data': dataDir,
        'xpack.encryptedSavedObjects.encryptionKey': 'x'.repeat(32),
      },
    });
    const app = await buildApp({
      settings,
      logger: pino({ level: 'silent' }),
      env: { ELASTIC_PASSWORD: 'openapi' },
      openapi: true,
    });
    await app.ready();
    const yaml = stringify(app.swagger(), { aliasDuplicateObjects: false, lineWidth: 100 });
    await app.close();
    return yaml;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const yaml = await generateOpenApi();
  writeFileSync(new URL('../openapi.yaml', import.meta.url), yaml);
  process.stdout.write('openapi.yaml written\n');
}
