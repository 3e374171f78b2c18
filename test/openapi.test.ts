import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { generateOpenApi } from '../scripts/openapi.js';
import { startServer } from './helpers/server.js';

describe('openapi.yaml', () => {
  it('matches the route schemas (run `npm run openapi` after changing a route)', async () => {
    const committed = readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8');
    expect(await generateOpenApi()).toBe(committed);
  });

  it('documents the connectors API with Kibana paths', () => {
    const spec = parse(readFileSync(new URL('../openapi.yaml', import.meta.url), 'utf8'));
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/api/actions/connector/{id}',
        '/api/actions/connector/{id}/_execute',
        '/api/actions/connectors',
        '/api/actions/connector_types',
        '/api/spaces/space',
        '/api/status',
      ]),
    );
  });
});

describe('Swagger UI', () => {
  it('is served at /api/docs without credentials when docs.enabled', async () => {
    const server = await startServer({ settings: { 'docs.enabled': true } });
    const page = await fetch(`${server.url}/api/docs/static/index.html`);
    const json = await fetch(`${server.url}/api/docs/json`);
    await server.close();
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger');
    expect(json.status).toBe(200);
    expect(((await json.json()) as { info: { title: string } }).info.title).toBe(
      'Kibana connectors API',
    );
    const off = await startServer();
    const none = await fetch(`${off.url}/api/docs/json`);
    await off.close();
    expect(none.status).toBe(404);
  });
});
