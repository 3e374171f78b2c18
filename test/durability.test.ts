import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { makeApi, tempDir } from './helpers/server.js';

/**
 * SIGKILL during a storm of writes: after a restart on the same data folder, every write the
 * server acknowledged is there (a write in flight at the kill may or may not be).
 */

const PASSWORD = 'durability-pw';
const AUTH = `Basic ${Buffer.from(`elastic:${PASSWORD}`).toString('base64')}`;

function startProcess(dataDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      SERVER_PORT: '0',
      SERVER_HOST: '127.0.0.1',
      PATH_DATA: dataDir,
      ELASTIC_PASSWORD: PASSWORD,
      XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: 'durability-key-durability-key-durability',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) resolve({ child, url: match[1] });
    });
    child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
  });
}

interface Ledger {
  /** The name the server last acknowledged for each connector. */
  acked: Map<string, string>;
  /** A name sent but not yet acknowledged when the process died. */
  inFlight: Map<string, string>;
  /** Documents the embedded index acknowledged, by _id. */
  documents: Map<string, number>;
}

describe('durability', () => {
  const dataDir = tempDir('kcs-durable-');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps every acknowledged write across a SIGKILL', async () => {
    const first = await startProcess(dataDir);
    const api = makeApi(first.url);
    const ledger: Ledger = { acked: new Map(), inFlight: new Map(), documents: new Map() };
    const index = await api<{ id: string }>('POST', '/api/actions/connector/durable-index', {
      auth: AUTH,
      body: { name: 'index', connector_type_id: '.index', config: { index: 'durable' } },
    });
    expect(index.status).toBe(200);

    let running = true;
    const writer = async (worker: number) => {
      for (let n = 0; running; n++) {
        const id = `w${worker}-c${Math.floor(n / 4)}`;
        const name = `w${worker}-n${n}`;
        ledger.inFlight.set(id, name);
        const res =
          n % 4 === 0
            ? await api('POST', `/api/actions/connector/${id}`, {
                auth: AUTH,
                body: { name, connector_type_id: '.server-log' },
              }).catch(() => undefined)
            : await api('PUT', `/api/actions/connector/${id}`, {
                auth: AUTH,
                body: { name },
              }).catch(() => undefined);
        if (res === undefined) return;
        expect(res.status).toBe(200);
        ledger.acked.set(id, name);
        ledger.inFlight.delete(id);
      }
    };
    const indexer = async () => {
      for (let n = 0; running; n++) {
        const res = await api<{ data: { items: Array<{ create: { _id: string } }> } }>(
          'POST',
          '/api/actions/connector/durable-index/_execute',
          { auth: AUTH, body: { params: { documents: [{ n }] } } },
        ).catch(() => undefined);
        if (res === undefined) return;
        const id = res.body.data.items[0]?.create._id;
        if (id) ledger.documents.set(id, n);
      }
    };
    const storm = Promise.all([
      ...Array.from({ length: 6 }, (_, i) => writer(i)),
      indexer(),
      indexer(),
    ]);
    await new Promise((r) => setTimeout(r, 1500));
    first.child.kill('SIGKILL');
    running = false;
    await storm;
    expect(ledger.acked.size).toBeGreaterThan(10);
    expect(ledger.documents.size).toBeGreaterThan(10);

    const second = await startProcess(dataDir);
    try {
      const restarted = makeApi(second.url);
      for (const [id, name] of ledger.acked) {
        const got = await restarted<{ name: string }>('GET', `/api/actions/connector/${id}`, {
          auth: AUTH,
        });
        expect(got.status, id).toBe(200);
        expect([name, ledger.inFlight.get(id)]).toContain(got.body.name);
      }
      const search = await restarted<{
        hits: { total: { value: number }; hits: Array<{ _id: string; _source: { n: number } }> };
      }>('GET', '/api/_embedded/durable/_search?size=10000', { auth: AUTH });
      const stored = new Map(search.body.hits.hits.map((h) => [h._id, h._source.n]));
      for (const [id, n] of ledger.documents) expect(stored.get(id), id).toBe(n);
    } finally {
      second.child.kill('SIGKILL');
    }
  });
});
