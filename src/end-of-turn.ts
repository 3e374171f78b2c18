/**
 * Work held back to the end of the current event-loop turn (its check phase), then run in the
 * order it was queued. Answers and vendor requests go out this way: under load one turn reads
 * many requests (or many vendor replies), and writing what they lead to together, after the
 * reads, wakes each peer once per turn instead of once per write and keeps the reads and the
 * writes of a turn apart. A socket's own cork cannot do this for answers: a response's end()
 * uncorks its socket whatever the caller corked.
 *
 * A long turn does not hold its first work to its end: once the oldest waiting work has waited
 * MAX_HOLD_MS, the next work queued runs the queue at once. After a stall of the process (a
 * collection, a busy machine) a turn reads a request from every connection and can take
 * milliseconds; held to its end, every answer of it would wait for the last one to be made.
 *
 * Work queued while the queue runs waits for the next turn, so a callback that queues more cannot
 * hold the loop. Queued work must not throw: what follows it in the queue would not run.
 */
export const MAX_HOLD_MS = 1;

let queued: Array<() => void> = [];
/** When the oldest work in the queue was queued. */
let oldest = 0;
let scheduled = false;
let running = false;

function runQueued(): void {
  const now = queued;
  queued = [];
  running = true;
  try {
    for (const work of now) work();
  } finally {
    running = false;
  }
}

function atCheckPhase(): void {
  scheduled = false;
  runQueued();
}

export function atEndOfTurn(work: () => void): void {
  if (queued.push(work) === 1) {
    oldest = performance.now();
  } else if (!running && performance.now() - oldest >= MAX_HOLD_MS) {
    runQueued();
    return;
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(atCheckPhase);
  }
}

let turn: Promise<void> | undefined;

function endTurn(resolve: () => void): void {
  atEndOfTurn(() => {
    turn = undefined;
    resolve();
  });
}

/** Settles at the end of the current turn; every caller in one turn shares the one promise. */
export function endOfTurn(): Promise<void> {
  turn ??= new Promise(endTurn);
  return turn;
}
