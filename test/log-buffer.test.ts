import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { isoTime, LogBuffer, loggerOptions } from '../src/logger.js';
import { tempDir } from './helpers/server.js';

describe('the log buffer', () => {
  const dir = tempDir('kcs-logbuf-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes every line, in order, once enough waits and on flush', async () => {
    const file = join(dir, 'ordered.log');
    const fd = openSync(file, 'w');
    const buffer = new LogBuffer(fd, 4096, 60_000);
    const logger = pino(loggerOptions('info'), buffer);
    for (let i = 0; i < 20_000; i++) logger.info({ i }, `line ${i} ${'x'.repeat(i % 97)}`);
    // Past the minimum length, writing has started without waiting for a flush.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(readFileSync(file, 'utf8').length).toBeGreaterThan(0);
    await new Promise<void>((resolve) => logger.flush(() => resolve()));
    buffer.close();
    closeSync(fd);
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(20_000);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line);
      expect(parsed.i).toBe(i);
      expect(parsed.msg).toBe(`line ${i} ${'x'.repeat(i % 97)}`);
    });
  });

  it('keeps a short line until the periodic flush, and writes the rest synchronously', async () => {
    const file = join(dir, 'periodic.log');
    const fd = openSync(file, 'w');
    const buffer = new LogBuffer(fd, 4096, 30);
    buffer.write('{"first":1}\n');
    expect(readFileSync(file, 'utf8')).toBe('');
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(readFileSync(file, 'utf8')).toBe('{"first":1}\n');
    buffer.write('{"last":2}\n');
    buffer.close();
    expect(readFileSync(file, 'utf8')).toBe('{"first":1}\n{"last":2}\n');
    closeSync(fd);
  });
});

describe('the log censor', () => {
  it('censors well-known secret names and leaves the logged object alone', () => {
    const lines: string[] = [];
    const logger = pino(loggerOptions('info'), { write: (line: string) => lines.push(line) });
    const logged = {
      password: 'p1',
      token: 't1',
      vendor: { apiKey: 'k1', api_key: 'k2', webhookUrl: 'https://hooks.example/secret', id: 7 },
      req: {
        method: 'POST',
        headers: { authorization: 'Basic x', cookie: 'sid=1', accept: '*/*' },
      },
      headers: { authorization: 'Bearer y' },
      secrets: { anything: 'z' },
      note: 'plain',
    };
    const copy = structuredClone(logged);
    logger.info(logged, 'censored');
    logger.info('no object');
    expect(logged).toEqual(copy);
    const [first, second] = lines.map((line) => JSON.parse(line));
    expect(first).toMatchObject({
      msg: 'censored',
      password: '[REDACTED]',
      token: '[REDACTED]',
      vendor: { apiKey: '[REDACTED]', api_key: '[REDACTED]', webhookUrl: '[REDACTED]', id: 7 },
      req: {
        method: 'POST',
        headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', accept: '*/*' },
      },
      headers: { authorization: '[REDACTED]' },
      secrets: '[REDACTED]',
      note: 'plain',
    });
    expect(second.msg).toBe('no object');
  });
});

describe('the time of a line', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is the ISO time of the current millisecond, made again when the clock moves', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse('2026-03-01T10:20:30.123Z'));
    expect(isoTime()).toBe(',"time":"2026-03-01T10:20:30.123Z"');
    expect(isoTime()).toBe(',"time":"2026-03-01T10:20:30.123Z"');
    vi.setSystemTime(Date.parse('2026-03-01T10:20:30.124Z'));
    expect(isoTime()).toBe(',"time":"2026-03-01T10:20:30.124Z"');
  });

  it('is what a logged line carries', () => {
    const lines: string[] = [];
    const logger = pino(loggerOptions('info'), { write: (line: string) => lines.push(line) });
    const before = Date.now();
    logger.info('now');
    const time = Date.parse(JSON.parse(lines[0] ?? '{}').time);
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });
});
