import { connect, type Socket } from 'node:net';
import { pathToFileURL } from 'node:url';

/**
 * An open-loop load at a steady rate, for latency. autocannon's rate limit lets each connection
 * send its whole second's quota at once and then wait, so "half capacity" there is bursts at full
 * capacity; here request i is due at start + i / rate, requests are spread over the connections
 * as they come due, and a request's latency runs from when the generator got to send it (time
 * spent waiting for a free connection counts), so a stall shows in the percentiles instead of
 * hiding in them. The generator wakes every millisecond, so the requests due within one go out
 * together.
 */

export interface PacedOptions {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Requests per second. */
  rate: number;
  connections: number;
  /** Seconds measured, after `warmup` seconds at the same rate that are not. */
  duration: number;
  warmup?: number;
}

export interface PacedResult {
  rps: number;
  p50: number;
  p99: number;
  max: number;
}

interface Conn {
  socket: Socket;
  /** When the request in flight was to be sent, or undefined when idle. */
  at: number;
  /** Past the warm-up. */
  measured: boolean;
  buffered: Buffer;
}

export async function paced(options: PacedOptions): Promise<PacedResult> {
  const url = new URL(options.url);
  const body = options.body === undefined ? undefined : Buffer.from(options.body);
  const head = [
    `${options.method} ${url.pathname}${url.search} HTTP/1.1`,
    `host: ${url.host}`,
    ...Object.entries(options.headers).map(([name, value]) => `${name}: ${value}`),
    ...(body !== undefined ? [`content-length: ${body.length}`] : []),
    '',
    '',
  ].join('\r\n');
  const request = Buffer.concat([Buffer.from(head), body ?? Buffer.alloc(0)]);

  const conns = await Promise.all(
    Array.from(
      { length: options.connections },
      () =>
        new Promise<Conn>((resolve, reject) => {
          const socket = connect(Number(url.port), url.hostname, () =>
            resolve({ socket, at: 0, measured: false, buffered: Buffer.alloc(0) }),
          );
          socket.setNoDelay(true);
          socket.once('error', reject);
        }),
    ),
  );

  const warmupMs = (options.warmup ?? 1) * 1000;
  const totalMs = warmupMs + options.duration * 1000;
  const intervalMs = 1000 / options.rate;
  const latencies: number[] = [];
  const idle: Conn[] = [...conns];
  /** Send times of requests that found every connection busy. */
  const backlog: Array<[number, boolean]> = [];
  let failure: Error | undefined;
  let started = 0;
  let measuredFrom = 0;
  let sent = 0;
  let answered = 0;

  const send = (conn: Conn, at: number, measured: boolean) => {
    conn.at = at;
    conn.measured = measured;
    conn.socket.write(request);
  };
  const onAnswer = (conn: Conn, status: number) => {
    answered += 1;
    if (status < 200 || status >= 300) failure ??= new Error(`${url.pathname}: status ${status}`);
    if (conn.measured) latencies.push(performance.now() - conn.at);
    const next = backlog.shift();
    if (next !== undefined) send(conn, next[0], next[1]);
    else idle.push(conn);
  };

  for (const conn of conns) {
    conn.socket.on('error', (err) => {
      failure ??= err;
    });
    conn.socket.on('data', (chunk: Buffer) => {
      conn.buffered = conn.buffered.length === 0 ? chunk : Buffer.concat([conn.buffered, chunk]);
      // Answers come in order, one per request in flight; parse as many as are complete.
      for (;;) {
        const end = conn.buffered.indexOf('\r\n\r\n');
        if (end < 0) return;
        const header = conn.buffered.subarray(0, end).toString('latin1');
        const length = /\r\ncontent-length:\s*(\d+)/i.exec(header);
        if (length === null) {
          failure ??= new Error(`${url.pathname}: an answer without content-length`);
          return;
        }
        const size = end + 4 + Number(length[1]);
        if (conn.buffered.length < size) return;
        conn.buffered = conn.buffered.subarray(size);
        onAnswer(conn, Number(header.slice(9, 12)));
      }
    });
  }

  await new Promise<void>((resolve) => {
    started = performance.now();
    measuredFrom = started + warmupMs;
    const tick = () => {
      const now = performance.now();
      const dueCount = Math.min(
        Math.floor((now - started) / intervalMs) + 1,
        Math.floor(totalMs / intervalMs),
      );
      while (sent < dueCount) {
        const measured = started + sent * intervalMs >= measuredFrom;
        sent += 1;
        const conn = idle.pop();
        if (conn !== undefined) send(conn, now, measured);
        else backlog.push([now, measured]);
      }
      if (now - started < totalMs && failure === undefined) {
        setTimeout(tick, Math.max(0, Math.min(1, intervalMs)));
        return;
      }
      const waitAnswers = () => {
        if (answered >= sent || failure !== undefined) resolve();
        else setTimeout(waitAnswers, 5);
      };
      waitAnswers();
    };
    tick();
  });
  for (const conn of conns) conn.socket.destroy();
  if (failure !== undefined) throw failure;

  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return {
    rps: latencies.length / options.duration,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(latencies[latencies.length - 1] ?? 0),
  };
}

/**
 * Run on its own (`node --import tsx scripts/bench/paced.ts '<options as JSON>'`), it prints the
 * result as JSON: the bench runs it so, in a process of its own, so that nothing the bench itself
 * does (its own collections, autocannon's leftovers) delays the reading of an answer.
 */
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const options = JSON.parse(process.argv[2] ?? '{}') as PacedOptions;
  process.stdout.write(`${JSON.stringify(await paced(options))}\n`);
}
