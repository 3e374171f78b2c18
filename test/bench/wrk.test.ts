import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luaString, parseWrk, wrk, wrkInstalled, wrkScript } from '../../scripts/bench/wrk.js';

// A report as wrk 4.1 prints it with --latency, from a server answering 503 to everything.
const REPORT =
  'Running 1s test @ http://127.0.0.1:45805/bad\n  1 threads and 4 connections\n' +
  '  Thread Stats   Avg      Stdev     Max   +/- Stdev\n' +
  '    Latency   192.95us  456.48us   7.51ms   94.93%\n' +
  '    Req/Sec    39.20k    15.86k   72.07k    72.73%\n' +
  '  Latency Distribution\n     50%   86.00us\n     75%  133.00us\n     90%  270.00us\n' +
  '     99%    2.60ms\n  42735 requests in 1.10s, 5.75MB read\n' +
  '  Non-2xx or 3xx responses: 42735\nRequests/sec:  38873.57\nTransfer/sec:      5.23MB\n';

describe('wrk report', () => {
  it('reads throughput, percentiles in milliseconds and failed answers', () => {
    expect(parseWrk(REPORT)).toEqual({
      rps: 38873.57,
      p50: 0.086,
      p99: 2.6,
      requests: 42735,
      non2xx: 42735,
      errors: 0,
    });
  });

  it('adds up socket errors, and reads seconds', () => {
    const report = REPORT.replace('  Non-2xx or 3xx responses: 42735\n', '')
      .replace('99%    2.60ms', '99%    1.20s')
      .replace(
        'Requests/sec',
        '  Socket errors: connect 0, read 2, write 1, timeout 4\nRequests/sec',
      );
    expect(parseWrk(report)).toMatchObject({ p99: 1200, non2xx: 0, errors: 7 });
  });

  it('refuses a report it cannot read', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(
      'wrk: an unexpected report',
    );
  });
});

describe('wrk script', () => {
  it('quotes any text as a Lua long string', () => {
    expect(luaString('{"a":"b\\n"}')).toBe('[[{"a":"b\\n"}]]');
    expect(luaString('x]]y')).toBe('[=[x]]y]=]');
    expect(luaString('x]]y]=]')).toBe('[==[x]]y]=]]==]');
    expect(luaString('\nx')).toBe('[[\n\nx]]');
    expect(luaString('a]')).toBe('[=[a]]=]');
    expect(luaString('a]=')).toBe('[[a]=]]');
    expect(luaString('a]]')).toBe('[=[a]]]=]');
  });

  it('sets method, body and headers, and goes round the paths', () => {
    expect(
      wrkScript({
        url: 'http://127.0.0.1:1/',
        method: 'POST',
        headers: { 'kbn-xsrf': 'bench' },
        body: '{}',
        paths: ['/a', '/b'],
      }),
    ).toBe(
      [
        'wrk.method = [[POST]]',
        'wrk.body = [[{}]]',
        'wrk.headers[ [[kbn-xsrf]] ] = [[bench]]',
        'local paths = { [[/a]], [[/b]] }',
        'local next = 0',
        'request = function()',
        '  next = next % #paths + 1',
        '  return wrk.format(nil, paths[next])',
        'end',
        '',
      ].join('\n'),
    );
  });
});

// The real tool, where it is installed: what it sends, and what the bench reads of its report.
describe.skipIf(!wrkInstalled())('wrk against a server', () => {
  let server: Server;
  let base: string;
  let dir: string;
  const seen: Array<{
    method?: string;
    url?: string;
    xsrf?: string;
    note?: string;
    body: string;
  }> = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kcs-wrk-test-'));
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        if (seen.length < 100) {
          seen.push({
            method: req.method,
            url: req.url,
            xsrf: req.headers['kbn-xsrf'] as string | undefined,
            note: req.headers['x-note'] as string | undefined,
            body,
          });
        }
        res.statusCode = req.url === '/refused' ? 503 : 200;
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends the request described, round the paths, and counts what came back', async () => {
    const result = await wrk(
      {
        url: `${base}/`,
        method: 'POST',
        headers: { 'kbn-xsrf': 'bench', 'content-type': 'application/json', 'x-note': 'a]' },
        body: '{"params":{"message":"]]"}}',
        paths: ['/one', '/two'],
      },
      { connections: 2, seconds: 1, threads: 1, dir },
    );
    expect(result.requests).toBeGreaterThan(0);
    expect(result.rps).toBeGreaterThan(0);
    expect(result.non2xx).toBe(0);
    expect(result.errors).toBe(0);
    expect(result.p99).toBeGreaterThanOrEqual(result.p50);
    expect(seen[0]).toEqual({
      method: 'POST',
      url: expect.stringMatching(/^\/(one|two)$/),
      xsrf: 'bench',
      note: 'a]',
      body: '{"params":{"message":"]]"}}',
    });
    expect(new Set(seen.map((r) => r.url))).toEqual(new Set(['/one', '/two']));
  });

  it('reports refused answers as non-2xx', async () => {
    const result = await wrk(
      { url: `${base}/refused`, method: 'GET', headers: {} },
      { connections: 1, seconds: 1, threads: 1, dir },
    );
    expect(result.non2xx).toBe(result.requests);
    expect(result.non2xx).toBeGreaterThan(0);
  });
});
