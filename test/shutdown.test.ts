import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnector } from './helpers/connectors.js';
import { makeApi, tempDir } from './helpers/server.js';
import { startElasticsearchSimulator } from './simulators/elasticsearch.js';

/** The real process: SIGTERM stops accepting, lets in-flight runs finish, then exits 0. */

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

describe('graceful shutdown', () => {
  const dataDir = tempDir('kcs-shutdown-');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('finishes the in-flight execution after SIGTERM and exits 0', async () => {
    const es = await startElasticsearchSimulator();
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        SERVER_PORT: '0',
        SERVER_HOST: '127.0.0.1',
        PATH_DATA: dataDir,
        ELASTICSEARCH_HOSTS: es.url,
        ELASTIC_PASSWORD: 'shutdown-test-pw',
        XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: 'x'.repeat(32),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => resolve(code)),
    );
    try {
      const url = await waitForListening(child);
      const auth = `Basic ${Buffer.from('elastic:shutdown-test-pw').toString('base64')}`;
      const api = makeApi(url);
      const id = await createConnector((m, p, o) => api(m, p, { ...o, auth }), {
        connector_type_id: '.index',
        config: { index: 'slow' },
      });
      const running = api<{ status: string }>('POST', `/api/actions/connector/${id}/_execute`, {
        auth,
        body: { params: { documents: [{ simulate: 'slow' }] } },
      });
      while (es.requests.length === 0) await new Promise((r) => setTimeout(r, 20));
      child.kill('SIGTERM');
      const result = await running;
      expect(result.status).toBe(200);
      expect(result.body.status).toBe('ok');
      expect(await exited).toBe(0);
      await expect(fetch(`${url}/api/status`)).rejects.toThrow();
    } finally {
      child.kill('SIGKILL');
      await es.close();
    }
  });
});
