import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { api, basicAuth, freePort, memory, serverNodeFlags } from './bench/lib.js';

/**
 * `npm run soak`: a bounded run (SOAK_SECONDS, 300 by default) at half the measured capacity,
 * over a mix of connector types, with faults injected at one vendor (500, 429 with Retry-After,
 * slow answers past the timeout, connection resets). It fails when the API answers anything but
 * 200, when a connector whose vendor is healthy fails, or when resident memory grows by 10% or
 * more after the warm-up.
 */

const SECONDS = Number(process.env.SOAK_SECONDS ?? 300);
const CONNECTIONS = 50;
const PASSWORD = 'soak-password';
const AUTH = basicAuth('elastic', PASSWORD);
const ROOT = new URL('../', import.meta.url).pathname;

/** The vendor: /slack answers as Slack does; /flaky fails one request in four, in turn. */
async function startVendor(): Promise<{ url: string; close: () => void }> {
  let n = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const fault = req.url === '/flaky' ? n++ % 16 : -1;
      if (fault === 1) {
        res.writeHead(500, { 'content-type': 'application/json' });
        return res.end('{"error":"boom"}');
      }
      if (fault === 5) {
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '30' });
        return res.end('{"error":"slow down"}');
      }
      if (fault === 9) return void setTimeout(() => res.writeHead(200).end('{}'), 1500);
      if (fault === 13) return void req.socket.destroy();
      if (req.url === '/slack') {
        // Slack's incoming webhooks answer the text "ok".
        res.writeHead(200, { 'content-type': 'text/html' });
        return res.end('ok');
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => server.close() };
}

function metric(text: string, name: string, labels: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  const vendor = await startVendor();
  const dataDir = mkdtempSync(join(tmpdir(), 'kcs-soak-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [...serverNodeFlags(ROOT), 'dist/main.mjs'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SERVER_PORT: String(port),
      SERVER_HOST: '127.0.0.1',
      PATH_DATA: dataDir,
      ELASTIC_PASSWORD: PASSWORD,
      XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: 'soak-encryption-key-soak-encryption-key',
      XPACK_ACTIONS_RESPONSETIMEOUT: '1s',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const cleanup = () => {
    child.kill('SIGKILL');
    vendor.close();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    for (;;) {
      try {
        if ((await fetch(`${url}/api/status`)).status === 200) break;
      } catch {
        // starting
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const create = (body: Record<string, unknown>) =>
      api<{ id: string }>(url, AUTH, 'POST', '/api/actions/connector', body);
    const mix = [
      {
        id: (await create({ name: 'log', connector_type_id: '.server-log' })).id,
        params: { message: 'soak' },
      },
      {
        id: (
          await create({ name: 'index', connector_type_id: '.index', config: { index: 'soak' } })
        ).id,
        params: { documents: [{ soak: true }] },
      },
      {
        id: (
          await create({
            name: 'slack',
            connector_type_id: '.slack',
            secrets: { webhookUrl: `${vendor.url}/slack` },
          })
        ).id,
        params: { message: 'soak' },
      },
      {
        id: (
          await create({
            name: 'flaky',
            connector_type_id: '.webhook',
            config: { url: `${vendor.url}/flaky`, method: 'post', hasAuth: false },
          })
        ).id,
        params: { body: '{}' },
      },
    ];
    let next = 0;
    const requests = [
      {
        setupRequest: (req: autocannon.Request) => {
          const item = mix[next++ % mix.length] as (typeof mix)[number];
          return {
            ...req,
            path: `/api/actions/connector/${item.id}/_execute`,
            body: JSON.stringify({ params: item.params }),
          };
        },
      },
    ];
    const run = (duration: number, rate?: number) =>
      autocannon({
        url,
        connections: CONNECTIONS,
        duration,
        method: 'POST',
        headers: { authorization: AUTH, 'kbn-xsrf': 'soak', 'content-type': 'application/json' },
        requests,
        // Latency as answered: with a rate, autocannon would otherwise add a synthetic sample
        // for every millisecond a slow answer (the vendor past its timeout) took.
        ...(rate !== undefined ? { overallRate: rate, ignoreCoordinatedOmission: true } : {}),
      });

    const capacity = (await run(5)).requests.average;
    const rate = Math.max(1, Math.round(capacity / 2));
    process.stdout.write(
      `capacity ≈ ${capacity.toFixed(0)} req/s; soaking at ${rate} req/s for ${SECONDS}s\n`,
    );
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(memory(child).rss), 5000);
    const result = await run(SECONDS, rate);
    clearInterval(sampler);

    const metrics = await (
      await fetch(`${url}/metrics`, { headers: { authorization: AUTH } })
    ).text();
    const failures = (type: string) =>
      metric(metrics, 'connectors_executions_total', `connector_type="${type}",outcome="failure"`);
    const successes = (type: string) =>
      metric(metrics, 'connectors_executions_total', `connector_type="${type}",outcome="success"`);
    const reasons = new Map<string, number>();
    for (const item of mix.slice(0, 3)) {
      const events = await api<{ data: Array<{ error?: { message: string } }> }>(
        url,
        AUTH,
        'GET',
        `/internal/event_log/action/${item.id}/_find?per_page=10000&sort_order=desc`,
      );
      for (const e of events.data) {
        // Runs cut short when the load generator hangs up at the end are the caller's doing.
        if (e.error && !e.error.message.includes('the request was aborted')) {
          reasons.set(e.error.message, (reasons.get(e.error.message) ?? 0) + 1);
        }
      }
    }
    const warm = samples.slice(Math.floor(samples.length / 5));
    const base = warm[0] ?? memory(child).rss;
    const end = Math.max(...warm.slice(-3), base);
    const growth = (end - base) / base;
    const unexpectedRuns = [...reasons.values()].reduce((a, b) => a + b, 0);
    const unexpected = result.non2xx + result.errors + unexpectedRuns;
    const lines = [
      '',
      `requests: ${result.requests.total} at ${result.requests.average.toFixed(0)} req/s; p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms`,
      `API answers other than 200: ${result.non2xx}; client errors: ${result.errors}`,
      `runs by type (success/failure): ${['.server-log', '.index', '.slack', '.webhook'].map((t) => `${t} ${successes(t)}/${failures(t)}`).join(', ')}`,
      `injected vendor faults answered as failures: ${failures('.webhook')}`,
      `unexpected failures of healthy connectors: ${unexpectedRuns}`,
      ...[...reasons].map(([message, count]) => `unexpected failure ×${count}: ${message}`),
      `RSS after warm-up ${(base / 2 ** 20).toFixed(1)} MiB, at the end ${(end / 2 ** 20).toFixed(1)} MiB: growth ${(growth * 100).toFixed(1)}%`,
      unexpected === 0 && growth < 0.1 && failures('.webhook') > 0 ? 'soak: PASS' : 'soak: FAIL',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    process.exitCode = lines.at(-1) === 'soak: PASS' ? 0 : 1;
  } finally {
    cleanup();
  }
}

await main();
