import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client, escapeIdentifier } from 'pg';
import {
  api,
  basicAuth,
  type CpuTimes,
  cpuShares,
  cpuTimes,
  freePort,
  memory,
  serverNodeFlags,
} from './lib.js';
import type { PacedOptions, PacedResult } from './paced.js';
import { wrk, wrkInstalled } from './wrk.js';

/**
 * `npm run bench`: the server against a bare Fastify reference started the same way, in the same
 * run. Speed is only ever judged as a ratio to the reference measured beside it: the two cases of
 * a ratio run back to back, round after round, each first in turn, and the ratio is the median
 * of the rounds' ratios, so machine drift hits both. Prints throughput ratios, latency, cold
 * start and memory, and checks them against the targets.
 *
 * The cases run in phases, each with only the servers it measures running: the server against
 * the reference, then latency at half capacity, evenly paced, the same two again; with
 * PostgreSQL reachable (BENCH_POSTGRES_URL, default the local server as user postgres), two
 * servers sharing a fresh database, the same load against one of them and spread over both
 * (without it, that case is skipped with a note); last, 10 against 10,000 stored connectors.
 *
 * The main pairs run with autocannon and, when wrk is installed, again with wrk: two load
 * generators built differently (JavaScript on Node's event loop, C on epoll), one set of ratios
 * each, checked against the same goals.
 *
 * Fifteen rounds of one second rather than five of three, for the same time a case: the machine's
 * speed drifts over seconds, so two cases a second apart see more nearly the same machine than two
 * three seconds apart, and a median of fifteen ratios is a tighter figure than one of five. Two
 * identical servers paired this way: the natural log of a round's ratio spread 0.115 (standard
 * deviation, 30 rounds of 1 s) against 0.172 (10 rounds of 3 s), so the median's own error is about
 * 0.04 rather than 0.10. The paced latency keeps rounds of 3 seconds: its p99 is that of a round's
 * 3 seconds, and shorter rounds would make it the p99 of a shorter stretch, a different figure.
 *
 * Environment: BENCH_ROUNDS (15), BENCH_DURATION seconds per case and round (1), BENCH_PACED_ROUNDS
 * (5), BENCH_PACED_DURATION seconds per paced round (3), BENCH_WARMUP seconds of unmeasured load
 * per case before its first round (2), BENCH_CONNECTIONS (50), BENCH_CONNECTORS (10000),
 * BENCH_POSTGRES_URL, BENCH_WRK (0: autocannon only, even with wrk installed), BENCH_WRK_THREADS
 * (1).
 */

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const DURATION = Number(process.env.BENCH_DURATION ?? 1);
const PACED_ROUNDS = Number(process.env.BENCH_PACED_ROUNDS ?? 5);
const PACED_DURATION = Number(process.env.BENCH_PACED_DURATION ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MANY_CONNECTORS = Number(process.env.BENCH_CONNECTORS ?? 10_000);
const POSTGRES_URL =
  process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Connectors the PostgreSQL case spreads its runs over. */
const POSTGRES_CONNECTORS = 100;
/**
 * A second instance on the same database must add throughput, not contention. The load
 * generator, PostgreSQL and both servers share this machine: with fewer than four cores there
 * is no spare core for the second instance, and it must only not cost throughput.
 */
const POSTGRES_SCALE_MIN = availableParallelism() >= 4 ? 1.4 : 0.9;
const WRK = process.env.BENCH_WRK !== '0' && wrkInstalled();
const WRK_THREADS = Number(process.env.BENCH_WRK_THREADS ?? 1);
const PASSWORD = 'bench-password';
const AUTH = basicAuth('elastic', PASSWORD);
const ROOT = new URL('../../', import.meta.url).pathname;

interface Proc {
  name: string;
  child: ChildProcess;
  url: string;
  coldStartMs: number;
  /** A server's data folder (path.data). */
  dir?: string;
}

interface Load {
  rps: number;
  p50: number;
  p99: number;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function waitReady(url: string, started: number, child: ChildProcess): Promise<number> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/api/status`);
      if (res.status === 200) return performance.now() - started;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function start(name: string, args: string[], env: Record<string, string>): Promise<Proc> {
  const port = await freePort();
  const started = performance.now();
  // The reference gets the server's node flags too: the two are started the same way.
  const child = spawn(process.execPath, [...serverNodeFlags(ROOT), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), SERVER_PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  const coldStartMs = await waitReady(url, started, child);
  return { name, child, url, coldStartMs };
}

async function startServer(
  sinkUrl: string,
  env: Record<string, string> = {},
  dir = mkdtempSync(join(tmpdir(), 'kcs-bench-')),
): Promise<Proc> {
  if (!dirs.includes(dir)) dirs.push(dir);
  const proc = await start('server', ['dist/main.mjs'], {
    SERVER_HOST: '127.0.0.1',
    PATH_DATA: dir,
    ELASTIC_PASSWORD: PASSWORD,
    XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY: 'bench-encryption-key-bench-encryption-key',
    XPACK_ACTIONS_ALLOWEDHOSTS: '127.0.0.1',
    SINK: sinkUrl,
    ...env,
  });
  return { ...proc, dir };
}

/** Runs `work` as the PostgreSQL admin; undefined when the server does not answer. */
async function asPostgresAdmin<T>(work: (client: Client) => Promise<T>): Promise<T | undefined> {
  const client = new Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

interface SharedDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh database for the PostgreSQL case, or undefined when PostgreSQL is unreachable. */
async function sharedDatabase(): Promise<SharedDatabase | undefined> {
  const name = `kcs_bench_${process.pid}`;
  const made = await asPostgresAdmin((client) =>
    client.query(`CREATE DATABASE ${escapeIdentifier(name)}`),
  );
  if (made === undefined) return undefined;
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await asPostgresAdmin((client) =>
        client.query(`DROP DATABASE IF EXISTS ${escapeIdentifier(name)} WITH (FORCE)`),
      );
    },
  };
}

function startReference(sinkUrl: string): Promise<Proc> {
  return start('reference', ['scripts/bench/reference.mjs'], { SINK_URL: sinkUrl });
}

async function startSink(): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, ['scripts/bench/sink.mjs'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((resolve) => child.stdout?.once('data', () => resolve()));
  return `http://127.0.0.1:${port}`;
}

interface Case {
  url: string;
  method?: 'GET' | 'POST';
  body?: unknown;
  auth?: boolean;
  /** Paths to spread the load over (one per request, round robin). */
  paths?: string[];
  /** Servers to share the connections between, loaded at once; `url` is then unused. */
  servers?: string[];
  connections?: number;
}

type Tool = 'autocannon' | 'wrk';

function headersOf(c: Case): Record<string, string> {
  return {
    ...(c.auth === false ? {} : { authorization: AUTH, 'kbn-xsrf': 'bench' }),
    ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
  };
}

/** Where the wrk scripts are written; made on first use, removed on exit. */
let scriptDir: string | undefined;

async function loadWithWrk(c: Case, duration: number): Promise<Load> {
  if (scriptDir === undefined) {
    scriptDir = mkdtempSync(join(tmpdir(), 'kcs-bench-wrk-'));
    dirs.push(scriptDir);
  }
  const result = await wrk(
    {
      url: c.url,
      method: c.method ?? 'GET',
      headers: headersOf(c),
      ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
      ...(c.paths !== undefined ? { paths: c.paths } : {}),
    },
    {
      connections: c.connections ?? CONNECTIONS,
      seconds: duration,
      threads: WRK_THREADS,
      dir: scriptDir,
    },
  );
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${c.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors (wrk)`);
  }
  return { rps: result.rps, p50: result.p50, p99: result.p99 };
}

async function load(c: Case, duration = DURATION, tool: Tool = 'autocannon'): Promise<Load> {
  if (c.servers !== undefined) {
    const connections = Math.max(1, Math.round(CONNECTIONS / c.servers.length));
    const parts = await Promise.all(
      c.servers.map((url) => load({ ...c, url, servers: undefined, connections }, duration, tool)),
    );
    return {
      rps: parts.reduce((sum, part) => sum + part.rps, 0),
      p50: Math.max(...parts.map((part) => part.p50)),
      p99: Math.max(...parts.map((part) => part.p99)),
    };
  }
  if (tool === 'wrk') return loadWithWrk(c, duration);
  let next = 0;
  const result = await autocannon({
    url: c.url,
    connections: c.connections ?? CONNECTIONS,
    duration,
    method: c.method ?? 'GET',
    headers: headersOf(c),
    ...(c.body !== undefined ? { body: JSON.stringify(c.body) } : {}),
    ...(c.paths !== undefined
      ? {
          requests: [
            {
              setupRequest: (req: autocannon.Request) => {
                const paths = c.paths as string[];
                return { ...req, path: paths[next++ % paths.length] };
              },
            },
          ],
        }
      : {}),
  });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${c.url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};

/** A ratio to measure: its label, then the case it is relative to and the case measured. */
type Pair = [label: string, base: [string, Case], measured: [string, Case]];

/**
 * Throughput pairs, round after round. The two cases of a pair run back to back, the measured
 * one first in every other round, so a slow spell of the machine hits both; a pair's ratio is
 * the median of its rounds' ratios. A case in several pairs (ref_hello) is run for each. With
 * wrk as the tool, cases and ratios are printed with " (wrk)" after their names.
 *
 * Each case first gets WARMUP seconds of the same load, not measured: a path's first seconds
 * under load are spent compiling it (V8's optimizing compiler, on helper threads that share the
 * two CPUs), and a server's paths are more and longer than the reference's, so a first round
 * taken cold would weigh against the server in every ratio.
 */
class PairedRounds {
  private readonly runs = new Map<string, Load[]>();
  private readonly ratios = new Map<string, number[]>();

  constructor(private readonly tool: Tool = 'autocannon') {}

  /** A case's or a ratio's name as printed: the tool after it when it is not autocannon. */
  named(name: string): string {
    return this.tool === 'wrk' ? `${name} (wrk)` : name;
  }

  async run(pairs: readonly Pair[]): Promise<void> {
    if (WARMUP > 0) {
      const cases = new Map<string, Case>();
      for (const [, base, measured] of pairs) {
        for (const [name, c] of [base, measured]) if (!cases.has(name)) cases.set(name, c);
      }
      process.stdout.write(`warm-up, ${WARMUP}s each: ${[...cases.keys()].join(', ')}\n`);
      for (const c of cases.values()) await load(c, WARMUP, this.tool);
    }
    for (let round = 1; round <= ROUNDS; round++) {
      process.stdout.write(
        `${pairs.map(([label]) => this.named(label)).join(', ')}: round ${round}/${ROUNDS}\n`,
      );
      for (const [label, [baseName, base], [name, measured]] of pairs) {
        const baseFirst = round % 2 === 1;
        const first = await load(baseFirst ? base : measured, DURATION, this.tool);
        const second = await load(baseFirst ? measured : base, DURATION, this.tool);
        const [b, m] = baseFirst ? [first, second] : [second, first];
        this.add(this.named(baseName), b);
        this.add(this.named(name), m);
        this.ratios.set(label, [...(this.ratios.get(label) ?? []), m.rps / b.rps]);
      }
    }
  }

  /** The ratios' labels as the pairs gave them (the goals are filed under these). */
  labels(): string[] {
    return [...this.ratios.keys()];
  }

  ratio(label: string): number {
    return median(this.ratios.get(label) ?? []);
  }

  cases(): string[] {
    return [...this.runs.keys()];
  }

  runsOf(name: string): Load[] {
    return this.runs.get(name) ?? [];
  }

  rps(name: string): number {
    return median(this.runsOf(name).map((r) => r.rps));
  }

  private add(name: string, load: Load): void {
    this.runs.set(name, [...this.runsOf(name), load]);
  }
}

/**
 * How busy the machine was during each phase, and how much of its CPU time the hypervisor gave
 * other guests: on a shared virtual machine a phase's figures are read against these.
 */
const phases: Array<{ name: string; from?: CpuTimes; to?: CpuTimes }> = [];

async function phase(name: string, work: () => unknown): Promise<void> {
  const from = cpuTimes();
  await work();
  phases.push({ name, from, to: cpuTimes() });
}

/** Sends `signal` to a process still running and waits for it to exit. */
function ended(proc: Proc, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((resolve) => {
    if (proc.child.exitCode !== null) return resolve();
    proc.child.once('exit', () => resolve());
    proc.child.kill(signal);
  });
}

/** The server stopped as an operator stops it (SIGTERM), then started again on its store. */
async function restart(server: Proc, sinkUrl: string): Promise<Proc> {
  if (server.dir === undefined) throw new Error(`${server.name} has no data folder to restart on`);
  await ended(server, 'SIGTERM');
  return startServer(sinkUrl, {}, server.dir);
}

/** Stops servers a phase no longer needs, so they take no CPU from the phases after it. */
async function stop(...procs: Proc[]): Promise<void> {
  await Promise.all(procs.map((proc) => ended(proc, 'SIGKILL')));
}

async function main(): Promise<void> {
  process.stdout.write('building…\n');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });

  const sink = await startSink();
  // Cold start, three times each, interleaved; the last pair stays up for the load cases.
  const coldRef: number[] = [];
  const coldOurs: number[] = [];
  let ref: Proc | undefined;
  let ours: Proc | undefined;
  for (let i = 0; i < 3; i++) {
    ref?.child.kill('SIGKILL');
    ours?.child.kill('SIGKILL');
    ref = await startReference(sink);
    coldRef.push(ref.coldStartMs);
    ours = await startServer(sink);
    coldOurs.push(ours.coldStartMs);
  }
  if (ref === undefined || ours === undefined) throw new Error('not started');
  await new Promise((r) => setTimeout(r, 1000));
  const idleRef = memory(ref.child).rss;
  const idleOurs = memory(ours.child).rss;

  const logId = (
    await api<{ id: string }>(ours.url, AUTH, 'POST', '/api/actions/connector', {
      name: 'log',
      connector_type_id: '.server-log',
    })
  ).id;
  const indexId = (
    await api<{ id: string }>(ours.url, AUTH, 'POST', '/api/actions/connector', {
      name: 'index',
      connector_type_id: '.index',
      config: { index: 'bench' },
    })
  ).id;
  const hookId = (
    await api<{ id: string }>(ours.url, AUTH, 'POST', '/api/actions/connector', {
      name: 'hook',
      connector_type_id: '.webhook',
      config: { url: `${sink}/`, method: 'post', hasAuth: false },
    })
  ).id;
  const execute = (id: string, params: unknown): Case => ({
    url: `${ours?.url}/api/actions/connector/${id}/_execute`,
    method: 'POST',
    body: { params },
  });
  const logParams = { message: 'bench', level: 'info' };
  for (const [id, params] of [
    [logId, logParams],
    [indexId, { documents: [{ n: 1 }] }],
    [hookId, { body: '{}' }],
  ] as const) {
    const res = await api<{ status: string; message?: string }>(
      ours.url,
      AUTH,
      'POST',
      `/api/actions/connector/${id}/_execute`,
      { params },
    );
    if (res.status !== 'ok') throw new Error(`warm-up run failed: ${res.message}`);
  }

  const logCase = execute(logId, logParams);
  const hello: Case = { url: `${ref.url}/hello`, auth: false };

  // The main pairs, with only the reference, the server and the sink running.
  const mainPairs: Pair[] = [
    ['exec_server_log / ref_hello', ['ref_hello', hello], ['exec_server_log', logCase]],
    [
      'exec_index / ref_hello',
      ['ref_hello', hello],
      ['exec_index', execute(indexId, { documents: [{ n: 1 }] })],
    ],
    [
      'exec_webhook / ref_proxy',
      ['ref_proxy', { url: `${ref.url}/proxy`, method: 'POST', body: {}, auth: false }],
      ['exec_webhook', execute(hookId, { body: '{}' })],
    ],
    [
      'get_connector / ref_hello',
      ['ref_hello', hello],
      ['get_connector', { url: `${ours.url}/api/actions/connector/${logId}` }],
    ],
    // The same request as exec_server_log (headers and body), answered by the bare framework.
    [
      'ref_post / ref_hello (the bare framework, for scale)',
      ['ref_hello', hello],
      [
        'ref_post',
        { url: `${ref.url}/echo/${logId}`, method: 'POST', body: { params: logParams } },
      ],
    ],
  ];
  const bench = new PairedRounds();
  await phase('main pairs', () => bench.run(mainPairs));
  const wrkBench = WRK ? new PairedRounds('wrk') : undefined;
  if (wrkBench !== undefined) await phase('main pairs (wrk)', () => wrkBench.run(mainPairs));
  if (!WRK) {
    process.stdout.write(
      process.env.BENCH_WRK === '0'
        ? 'BENCH_WRK=0: the main pairs ran with autocannon only\n'
        : 'wrk is not installed: the main pairs ran with autocannon only\n',
    );
  }

  // Latency at a steady half of the measured capacity over 50 connections, evenly paced, and the
  // bare framework's answer to the same request at the same rate for scale, alternating round
  // after round as the throughput pairs do. It follows the server's own pairs, before the phases
  // that start more servers and a PostgreSQL database, whose work after their load (the dropped
  // database's writes, the store-size servers' files) would share the two cores with a server
  // held at half its capacity. The capacity is measured again just before (three rounds, the
  // median): this machine's speed can swing by half within the minutes the wrk pairs take, and a
  // rate from the first pairs can then be past what the server manages when it is paced.
  const capacity: number[] = [];
  for (let round = 0; round < 3; round++) capacity.push((await load(logCase)).rps);
  const halfRate = Math.round(median(capacity) / 2);
  const steadyOf = (url: string, duration = PACED_DURATION, warmup?: number) =>
    pacedApart({
      url,
      method: 'POST',
      headers: { authorization: AUTH, 'kbn-xsrf': 'bench', 'content-type': 'application/json' },
      body: JSON.stringify({ params: logParams }),
      rate: halfRate,
      connections: CONNECTIONS,
      duration,
      warmup,
    });
  const refPacedUrl = `${ref.url}/echo/${logId}`;
  const oursPacedUrl = `${ours.url}/api/actions/connector/${logId}/_execute`;
  const steadyRuns: PacedResult[] = [];
  const steadyRefRuns: PacedResult[] = [];
  await phase('paced latency', () => {
    // As each throughput case does, each server first gets WARMUP seconds of this load that are
    // not measured. The phase starts right after full load, and the round run first has been the
    // slowest of its server's: the reference's first paced round, run first, had the worst p99 of
    // its five in each of four runs.
    if (WARMUP > 0) {
      process.stdout.write(`warm-up, ${WARMUP}s each at ${halfRate} req/s: reference, server\n`);
      steadyOf(refPacedUrl, WARMUP, 0);
      steadyOf(oursPacedUrl, WARMUP, 0);
    }
    for (let round = 0; round < PACED_ROUNDS; round++) {
      const runRef = () => steadyRefRuns.push(steadyOf(refPacedUrl));
      const runOurs = () => steadyRuns.push(steadyOf(oursPacedUrl));
      if (round % 2 === 0) {
        runRef();
        runOurs();
      } else {
        runOurs();
        runRef();
      }
    }
  });
  const medianOf = (runs: PacedResult[]): PacedResult => ({
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    max: median(runs.map((r) => r.max)),
  });
  const steadyRef = medianOf(steadyRefRuns);
  const steady = medianOf(steadyRuns);

  const spread = (base: Proc, ids: string[]): Case => ({
    url: base.url,
    method: 'POST',
    body: { params: logParams },
    paths: ids.map((id) => `/api/actions/connector/${id}/_execute`),
  });

  // Two more servers on one PostgreSQL database: the same runs against one, then spread over
  // both. The database goes with them: its background work after the load would take CPU the
  // cases after it need.
  const postgresLabel = 'exec on PostgreSQL, 2 instances / 1 instance';
  database = await sharedDatabase();
  if (database !== undefined) {
    const env = { STORE_ENGINE: 'postgres', STORE_POSTGRES_URL: database.url };
    const first = await startServer(sink, env);
    const shared: [Proc, Proc] = [first, await startServer(sink, env)];
    const sharedIds = await createConnectors(first.url, POSTGRES_CONNECTORS);
    const onPostgres = (servers: Proc[]): Case => ({
      ...spread(first, sharedIds),
      servers: servers.map((server) => server.url),
    });
    await phase('PostgreSQL', () =>
      bench.run([
        [
          postgresLabel,
          ['exec_postgres_1_instance', onPostgres([first])],
          ['exec_postgres_2_instances', onPostgres(shared)],
        ],
      ]),
    );
    await stop(...shared);
    await database.drop();
    database = undefined;
  } else {
    process.stdout.write(
      `PostgreSQL does not answer at ${new URL(POSTGRES_URL).host}: the two-instance case is skipped\n`,
    );
  }

  // The store-size pair: two more servers, 10 connectors against MANY_CONNECTORS. Each server is
  // started again on its store once its connectors are created, as a store is filled over time
  // and across restarts: a process that has just answered 10,000 creates runs its code as V8
  // compiled it for that mix, which is the creates' history, not the store's size (a 10-connector
  // server that had created, run and deleted 10,000 others ran slower over its 10 than the
  // 10,000-connector server over 10 of its own). Each connector is then run once before the
  // rounds, so the rounds measure runs of connectors already loaded and checked on both alike.
  // They stop when their pair is done.
  const filledFew = await startServer(sink);
  const filledMany = await startServer(sink);
  const fewIds = await createConnectors(filledFew.url, 10);
  process.stdout.write(`creating ${MANY_CONNECTORS} connectors…\n`);
  const manyIds = await createConnectors(filledMany.url, MANY_CONNECTORS);
  const few = await restart(filledFew, sink);
  const many = await restart(filledMany, sink);
  await runEach(few.url, fewIds);
  await runEach(many.url, manyIds);
  const manyLabel = `exec with ${MANY_CONNECTORS} connectors / with 10`;
  await phase('store size', () =>
    bench.run([
      [
        manyLabel,
        ['exec_10_connectors', spread(few, fewIds)],
        ['exec_many_connectors', spread(many, manyIds)],
      ],
    ]),
  );
  await stop(few, many);

  const peakRef = memory(ref.child).peak;
  const peakOurs = memory(ours.child).peak;

  const rows: Array<[string, string, string, boolean]> = [];
  const goals: Record<string, number> = {
    'exec_server_log / ref_hello': 0.5,
    'exec_index / ref_hello': 0.35,
    'exec_webhook / ref_proxy': 0.85,
    [manyLabel]: 0.9,
    [postgresLabel]: POSTGRES_SCALE_MIN,
  };
  const benches = wrkBench === undefined ? [bench] : [bench, wrkBench];
  for (const rounds of benches) {
    for (const label of rounds.labels()) {
      const value = rounds.ratio(label);
      const goal = goals[label] ?? 0;
      rows.push([rounds.named(label), value.toFixed(2), `≥ ${goal}`, value >= goal]);
    }
  }
  rows.push([
    'exec_server_log p99 at half capacity, paced (ms)',
    String(steady.p99),
    '≤ 5',
    steady.p99 <= 5,
  ]);
  const coldDiff = median(coldOurs) - median(coldRef);
  rows.push([
    'cold start, server − reference (ms)',
    String(Math.round(coldDiff)),
    '≤ 150',
    coldDiff <= 150,
  ]);
  rows.push([
    'RSS idle, server / reference',
    (idleOurs / idleRef).toFixed(2),
    '≤ 1.4',
    idleOurs / idleRef <= 1.4,
  ]);
  rows.push([
    'RSS peak, server / reference',
    (peakOurs / peakRef).toFixed(2),
    '≤ 1.5',
    peakOurs / peakRef <= 1.5,
  ]);

  const out: string[] = [];
  out.push(
    `\n${ROUNDS} rounds × ${DURATION}s per case (paced: ${PACED_ROUNDS} × ${PACED_DURATION}s), ${CONNECTIONS} connections. Each ratio pairs two cases run back to back, in turn first; it is the median of the rounds' ratios.\n`,
  );
  // Each round's throughput too: how far they spread is how far a ratio can be trusted.
  out.push('| case | req/s | p50 ms | p99 ms | req/s by run |', '|---|---:|---:|---:|---|');
  for (const rounds of benches) {
    for (const name of rounds.cases()) {
      const runs = rounds.runsOf(name);
      const byRun = runs.map((r) => r.rps.toFixed(0)).join(', ');
      out.push(
        `| ${name} | ${rounds.rps(name).toFixed(0)} | ${median(runs.map((r) => r.p50))} | ${median(runs.map((r) => r.p99))} | ${byRun} |`,
      );
    }
  }
  out.push(
    `| ref_post paced at ${halfRate} req/s | ${steadyRef.rps.toFixed(0)} | ${steadyRef.p50} | ${steadyRef.p99} | p99 ${steadyRefRuns.map((r) => r.p99).join(', ')} |`,
    `| exec_server_log paced at ${halfRate} req/s | ${steady.rps.toFixed(0)} | ${steady.p50} | ${steady.p99} | p99 ${steadyRuns.map((r) => r.p99).join(', ')} |`,
  );
  out.push('');
  out.push(
    `paced rate: half of exec_server_log's median in ${capacity.length} rounds just before the paced rounds (${capacity.map((r) => r.toFixed(0)).join(', ')} req/s)`,
  );
  out.push(
    `cold start to the first 200 on /api/status: server ${median(coldOurs).toFixed(0)} ms, reference ${median(coldRef).toFixed(0)} ms`,
  );
  out.push(
    `RSS: server idle ${(idleOurs / 2 ** 20).toFixed(1)} MiB, peak ${(peakOurs / 2 ** 20).toFixed(1)} MiB; reference idle ${(idleRef / 2 ** 20).toFixed(1)} MiB, peak ${(peakRef / 2 ** 20).toFixed(1)} MiB`,
  );
  out.push(
    '',
    "The machine during each phase's rounds (all CPUs, /proc/stat): busy with its own work, and taken by the hypervisor for other guests.",
    '',
    '| phase | busy % | stolen % |',
    '|---|---:|---:|',
  );
  for (const { name, from, to } of phases) {
    if (from === undefined || to === undefined) continue;
    const { busy, stolen } = cpuShares(from, to);
    out.push(`| ${name} | ${(busy * 100).toFixed(0)} | ${(stolen * 100).toFixed(1)} |`);
  }
  out.push('', '| target | measured | goal | |', '|---|---:|---|---|');
  for (const [label, value, goal, ok] of rows)
    out.push(`| ${label} | ${value} | ${goal} | ${ok ? 'PASS' : 'FAIL'} |`);
  process.stdout.write(`${out.join('\n')}\n`);
  process.exitCode = rows.every((r) => r[3]) ? 0 : 1;
}

/**
 * The paced load, run by a process of its own, which collects its garbage on its own thread: with
 * V8's helper threads a collection of the load generator took both CPUs at once for a few
 * milliseconds, pushing the server being measured off the machine while its answers waited to be
 * read. Its pauses are as short either way (a scavenge every 100 to 150 ms, 0.5 ms at the median).
 */
function pacedApart(options: PacedOptions): PacedResult {
  const out = execFileSync(
    process.execPath,
    ['--single-threaded-gc', '--import', 'tsx', 'scripts/bench/paced.ts', JSON.stringify(options)],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return JSON.parse(out) as PacedResult;
}

/** Runs each connector once (16 at a time); anything but status ok is an error. */
async function runEach(base: string, ids: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++] as string;
      const res = await api<{ status: string; message?: string }>(
        base,
        AUTH,
        'POST',
        `/api/actions/connector/${id}/_execute`,
        { params: { message: 'warm-up', level: 'info' } },
      );
      if (res.status !== 'ok') throw new Error(`warm-up run of ${id} failed: ${res.message}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

async function createConnectors(base: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const created = await api<{ id: string }>(
        base,
        AUTH,
        'POST',
        `/api/actions/connector/bench-${i}`,
        {
          name: `bench ${i}`,
          connector_type_id: '.server-log',
        },
      );
      ids.push(created.id);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return ids;
}

let database: SharedDatabase | undefined;
try {
  await main();
} finally {
  await database?.drop();
}
process.exit();
