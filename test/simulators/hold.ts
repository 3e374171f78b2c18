import type { ServerResponse } from 'node:http';

/**
 * Streamed answers a test can pause: the simulator writes the first part, then waits until the
 * test calls `release()` before writing the rest. A test can thus read the first chunk through
 * `_execute` before the vendor has sent the last one, and can see whether the client went away
 * (the connection closed) while the answer was held.
 */
export interface Holds {
  /** Write `rest` now, or when released if a hold is on. */
  finish(res: ServerResponse, hold: boolean, rest: () => void): void;
  /** Send the rest of every held answer. */
  release(): void;
  /** How many held answers are waiting. */
  readonly waiting: number;
  /** Held answers whose connection closed before they were finished. */
  readonly abandoned: number;
  /** Resolves when some held answer's connection closes before it is finished. */
  nextAbandon(): Promise<void>;
}

export function createHolds(): Holds {
  const held = new Set<() => void>();
  let abandoned = 0;
  const waiters: Array<() => void> = [];
  return {
    finish(res, hold, rest) {
      if (!hold) {
        rest();
        return;
      }
      const send = () => {
        held.delete(send);
        if (!res.destroyed) rest();
      };
      held.add(send);
      res.on('close', () => {
        if (res.writableEnded) return;
        held.delete(send);
        abandoned += 1;
        for (const wake of waiters.splice(0)) wake();
      });
    },
    release() {
      for (const send of [...held]) send();
    },
    get waiting() {
      return held.size;
    },
    get abandoned() {
      return abandoned;
    },
    nextAbandon() {
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

export interface HoldingSimulator {
  release(): void;
  nextAbandon(): Promise<void>;
  readonly abandoned: number;
  readonly waiting: number;
}

/** The simulator with the holds' controls attached (live getters, not copies). */
export function withHolds<S extends object>(sim: S, holds: Holds): S & HoldingSimulator {
  const controls = Object.assign(sim, {
    release: () => holds.release(),
    nextAbandon: () => holds.nextAbandon(),
  });
  return Object.defineProperties(controls, {
    abandoned: { get: () => holds.abandoned, enumerable: true },
    waiting: { get: () => holds.waiting, enumerable: true },
  }) as S & HoldingSimulator;
}
