import { execFile, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * wrk as the bench's second load generator, when it is installed: a request described as the
 * bench describes it (method, headers, body, paths to go round) becomes a Lua script, and wrk's
 * report becomes requests per second and latency percentiles in milliseconds.
 */

export interface WrkRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  /** Paths to go round, one per request; the URL's own path when absent. */
  paths?: readonly string[];
}

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  /** Answers outside 2xx and 3xx, and socket errors (connect, read, write, timeout). */
  non2xx: number;
  errors: number;
}

/** Whether `wrk` runs here. */
export function wrkInstalled(): boolean {
  // wrk -v prints its version and exits 1; a missing binary fails to spawn at all.
  return spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;
}

/** A Lua long string: taken as written, no escapes, whatever the text holds. */
export function luaString(text: string): string {
  let level = '';
  // The closing bracket must not stand in the text, nor complete one where the text ends.
  while (text.includes(`]${level}]`) || text.endsWith(`]${level}`)) level += '=';
  // A newline right after the opening bracket is dropped by Lua: one more keeps a leading one.
  return `[${level}[${text.startsWith('\n') ? '\n' : ''}${text}]${level}]`;
}

export function wrkScript(request: WrkRequest): string {
  const lines = [`wrk.method = ${luaString(request.method)}`];
  if (request.body !== undefined) lines.push(`wrk.body = ${luaString(request.body)}`);
  for (const [name, value] of Object.entries(request.headers)) {
    // Spaces inside the index brackets: `[[[` would open a long string.
    lines.push(`wrk.headers[ ${luaString(name)} ] = ${luaString(value)}`);
  }
  if (request.paths !== undefined && request.paths.length > 0) {
    lines.push(
      `local paths = { ${request.paths.map(luaString).join(', ')} }`,
      'local next = 0',
      'request = function()',
      '  next = next % #paths + 1',
      '  return wrk.format(nil, paths[next])',
      'end',
    );
  }
  return `${lines.join('\n')}\n`;
}

const UNITS: Record<string, number> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3 };

/** In milliseconds, to the microsecond wrk reports in. */
function millis(value: string, unit: string): number {
  return Math.round(Number(value) * (UNITS[unit] ?? Number.NaN) * 1e3) / 1e3;
}

/** wrk's report (run with --latency), read. */
export function parseWrk(report: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(report);
  const requests = /^\s*(\d+) requests in /m.exec(report);
  const p50 = /^\s*50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(report);
  const p99 = /^\s*99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(report);
  if (rps === null || requests === null || p50 === null || p99 === null) {
    throw new Error(`wrk: an unexpected report:\n${report}`);
  }
  const non2xx = /^\s*Non-2xx or 3xx responses:\s+(\d+)/m.exec(report);
  const socket = /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/m.exec(
    report,
  );
  return {
    rps: Number(rps[1]),
    p50: millis(p50[1] as string, p50[2] as string),
    p99: millis(p99[1] as string, p99[2] as string),
    requests: Number(requests[1]),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    errors: socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0),
  };
}

const run = promisify(execFile);
let scripts = 0;

/** One load of `seconds` over `connections`, from `threads` wrk threads. */
export async function wrk(
  request: WrkRequest,
  options: { connections: number; seconds: number; threads: number; dir: string },
): Promise<WrkResult> {
  scripts += 1;
  const script = join(options.dir, `wrk-${scripts}.lua`);
  writeFileSync(script, wrkScript(request));
  const { stdout, stderr } = await run('wrk', [
    `--threads=${options.threads}`,
    `--connections=${options.connections}`,
    `--duration=${options.seconds}s`,
    '--timeout=10s',
    '--latency',
    `--script=${script}`,
    request.url,
  ]);
  // A script wrk cannot load is only complained about on stderr, and the load runs without it.
  if (stderr.trim() !== '') throw new Error(`wrk: ${stderr.trim()}`);
  return parseWrk(stdout);
}
