import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { FastifyReply, FastifyRequest } from 'fastify';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadSettings } from '../src/config/load.js';
import { atEndOfTurn, endOfTurn, MAX_HOLD_MS } from '../src/end-of-turn.js';
import { badRequest } from '../src/errors.js';
import { ENCRYPTION_KEY, tempDir } from './helpers/server.js';

/** Resolves once `marks` has `count` entries. */
function settled(marks: string[], count: number): Promise<string[]> {
  return new Promise((resolve) => {
    const check = () => (marks.length >= count ? resolve(marks) : setTimeout(check, 1));
    check();
  });
}

/** Keeps the turn busy for `ms` milliseconds. */
function busyFor(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

describe('work held to the end of the loop turn', () => {
  it('runs after the promise jobs and I/O of its turn, not when queued', async () => {
    // From an I/O callback, as a request is read: the check phase comes before any timer.
    await readFile(import.meta.filename);
    const marks: string[] = [];
    atEndOfTurn(() => marks.push('queued'));
    setTimeout(() => marks.push('timer'), 0);
    queueMicrotask(() => marks.push('microtask'));
    marks.push('sync');
    expect(await settled(marks, 4)).toEqual(['sync', 'microtask', 'queued', 'timer']);
  });

  it('runs everything queued in one turn together, in order, before later immediates', async () => {
    await readFile(import.meta.filename);
    const marks: string[] = [];
    atEndOfTurn(() => marks.push('first'));
    setImmediate(() => marks.push('immediate queued between'));
    atEndOfTurn(() => marks.push('second'));
    expect(await settled(marks, 3)).toEqual(['first', 'second', 'immediate queued between']);
  });

  it('leaves what is queued while it runs to the next turn, however long it runs', async () => {
    await readFile(import.meta.filename);
    const marks: string[] = [];
    atEndOfTurn(() => {
      marks.push('outer');
      setImmediate(() => marks.push('immediate queued by outer'));
      atEndOfTurn(() => marks.push('inner 1'));
      // Past the hold: what it queued still waits.
      busyFor(MAX_HOLD_MS);
      atEndOfTurn(() => marks.push('inner 2'));
      expect(marks).toEqual(['outer']);
    });
    expect(await settled(marks, 4)).toEqual([
      'outer',
      'immediate queued by outer',
      'inner 1',
      'inner 2',
    ]);
  });
});

describe('a long turn', () => {
  it('runs the queue at once when its oldest work has waited MAX_HOLD_MS', async () => {
    await readFile(import.meta.filename);
    const marks: string[] = [];
    atEndOfTurn(() => marks.push('first'));
    expect(marks).toEqual([]);
    // The turn goes on working past the hold.
    busyFor(MAX_HOLD_MS);
    atEndOfTurn(() => marks.push('second'));
    expect(marks).toEqual(['first', 'second']);
    // What comes after waits again, for the end of the turn or its own hold.
    atEndOfTurn(() => marks.push('third'));
    expect(marks).toEqual(['first', 'second']);
    expect(await settled(marks, 3)).toEqual(['first', 'second', 'third']);
  });
});

describe('the end of the turn as a promise', () => {
  it('is one promise for a turn, settled with the queued work, and a new one after', async () => {
    await readFile(import.meta.filename);
    const marks: string[] = [];
    const first = endOfTurn();
    expect(endOfTurn()).toBe(first);
    setImmediate(() => marks.push('immediate queued after'));
    atEndOfTurn(() => marks.push('queued work'));
    await first;
    marks.push('settled');
    expect(marks).toEqual(['queued work', 'settled']);
    const next = endOfTurn();
    expect(next).not.toBe(first);
    await next;
    expect(marks).toEqual(['queued work', 'settled', 'immediate queued after']);
  });
});

describe('answers', () => {
  it('are written at the end of the turn that made them, errors included', async () => {
    const dataDir = tempDir();
    const settings = loadSettings({
      overrides: {
        'path.data': dataDir,
        'xpack.encryptedSavedObjects.encryptionKey': ENCRYPTION_KEY,
      },
    });
    const app = await buildApp({ settings, logger: pino({ level: 'silent' }), env: {} });
    const marks: string[] = [];
    // Each handler queues an immediate before it answers: an answer written at once has its
    // headers sent by the time the immediate runs, one held to the end of the turn does not.
    const watch = (request: FastifyRequest, reply: FastifyReply) => {
      setImmediate(() =>
        marks.push(`${request.url}: ${reply.raw.headersSent ? 'written' : 'held'}`),
      );
    };
    app.get('/turn/ok', { config: { auth: 'none' } }, async (request, reply) => {
      watch(request, reply);
      return { ok: true };
    });
    app.get('/turn/refused', { config: { auth: 'none' } }, async (request, reply) => {
      watch(request, reply);
      throw badRequest('refused');
    });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('no address');
      const base = `http://127.0.0.1:${address.port}`;
      const ok = await fetch(`${base}/turn/ok`);
      expect([ok.status, await ok.json()]).toEqual([200, { ok: true }]);
      const refused = await fetch(`${base}/turn/refused`);
      expect([refused.status, await refused.json()]).toEqual([
        400,
        { statusCode: 400, error: 'Bad Request', message: 'refused' },
      ]);
      expect(marks).toEqual(['/turn/ok: held', '/turn/refused: held']);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
