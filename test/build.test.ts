import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverNodeFlags } from '../scripts/bench/lib.js';
import { createConnector, execute } from './helpers/connectors.js';
import { ELASTIC_PASSWORD, makeApi, tempDir } from './helpers/server.js';
import { type Simulator, sendJson, startSimulator } from './simulators/base.js';

/**
 * The production build (`npm start` runs it): the bundle of the server and the packages it
 * carries must start, serve, run connectors, write through the store's writer thread, and stop.
 */

const ROOT = new URL('../', import.meta.url).pathname;
// Inside the project, so that the packages left out of the bundle resolve from it.
const OUT = join(ROOT, 'node_modules', '.cache', `kcs-build-test-${process.pid}`);
const nodeFlags = () => serverNodeFlags(ROOT, relative(ROOT, join(OUT, 'main.mjs')));

describe('the production build', () => {
  const dataDir = tempDir('kcs-build-');
  let child: ChildProcess;
  let url: string;
  let output = '';
  let exited: Promise<number | null>;
  let vendor: Simulator;

  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build.mjs', OUT], { cwd: ROOT, stdio: 'inherit' });
    vendor = await startSimulator((_req, res) => sendJson(res, 200, { received: true }));
    // Run as `npm start` runs it, with the flags the bundle's first line names.
    child = spawn(process.execPath, [...nodeFlags(), join(OUT, 'main.mjs')], {
      env: {
        ...process.env,
        SERVER_PORT: '0',
        SERVER_HOST: '127.0.0.1',
        PATH_DATA: dataDir,
        ELASTIC_PASSWORD,
        XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: 'b'.repeat(32),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    // 'close': the process has exited and its output has all been read.
    exited = new Promise((resolve) => child.once('close', (code) => resolve(code)));
    url = await new Promise<string>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited with ${code}: ${output}`)));
    });
  }, 60_000);
  afterAll(async () => {
    child.kill('SIGKILL');
    await vendor.close();
    rmSync(OUT, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the API, runs connectors, keeps their records, and stops on SIGTERM', async () => {
    const api = makeApi(url);
    const log = await createConnector(api, { connector_type_id: '.server-log' });
    expect(await execute(api, log, { message: 'from the build' })).toEqual({
      status: 'ok',
      connector_id: log,
    });

    const index = await createConnector(api, {
      connector_type_id: '.index',
      config: { index: 'built' },
    });
    const indexed = await execute(api, index, { documents: [{ n: 1 }] });
    expect(indexed).toMatchObject({ status: 'ok', data: { errors: false } });

    const hook = await createConnector(api, {
      connector_type_id: '.webhook',
      config: { url: `${vendor.url}/hook`, method: 'post', hasAuth: false },
    });
    // As Kibana does, the webhook answers with the body it sent.
    expect(await execute(api, hook, { body: '{"a":1}' })).toEqual({
      status: 'ok',
      connector_id: hook,
      data: '{"a":1}',
    });
    expect(vendor.requests.map((r) => r.text)).toEqual(['{"a":1}']);

    const events = await api<{ total: number }>('GET', `/internal/event_log/action/${log}/_find`);
    expect(events.status).toBe(200);
    expect(events.body.total).toBe(2);

    const metrics = await api<string>('GET', '/metrics');
    expect(metrics.text).toMatch(
      /^connectors_executions_total\{connector_type="\.webhook",outcome="success"\} 1$/m,
    );

    // A run just before the stop: its event-log record is still queued when SIGTERM comes, and
    // must be written before the process exits.
    await execute(api, log, { message: 'last one' });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const db = new Database(join(dataDir, 'connectors.sqlite'), { readonly: true });
    const stored = db
      .prepare('SELECT SUM(n) AS n FROM event_chunks WHERE saved_object_id = ?')
      .get(log) as { n: number };
    db.close();
    expect(stored.n).toBe(2);
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { name?: string; msg?: string });
    expect(lines).toContainEqual(
      expect.objectContaining({
        name: 'plugins.actions.server-log',
        msg: 'Server log: from the build',
      }),
    );
    expect(lines.at(-1)).toMatchObject({ name: 'root', msg: 'stopped' });
  });

  it('is run with the node flags its first line names, wherever the project starts it', () => {
    expect(readFileSync(join(OUT, 'main.mjs'), 'utf8').split('\n', 1)[0]).toBe(
      '#!/usr/bin/env -S node --no-memory-reducer',
    );
    const flags = nodeFlags();
    expect(flags).toEqual(['--no-memory-reducer']);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    expect(pkg.scripts.start).toBe(
      `npm run build --silent && node ${flags.join(' ')} dist/main.mjs`,
    );
    const cmd = /^CMD (.+)$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'))?.[1];
    expect(JSON.parse(cmd ?? 'null')).toEqual(['node', ...flags, 'dist/main.mjs']);
    // The bench and the soak read them from the same line.
    expect(serverNodeFlags(ROOT, 'src/main.ts')).toEqual(flags);
  });
});
