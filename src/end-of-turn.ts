/**
 * Work held back to the end of the current event-loop turn (its check phase), then run in the
 * order it was queued. Answers and vendor requests go out this way: under load one turn reads
 * many requests (or many vendor replies), and writing what they lead to together, after the
 * reads, wakes each peer once per turn instead of once per write and keeps the reads and the
 * writes of a turn apart. A socket's own cork cannot do this for answers: a response's end()
 * uncorks its socket whatever the caller corked.
 *
 * Work queued while the queue runs waits for the next turn, so a callback that queues more cannot
 * hold the loop. Queued work must not throw: what follows it in the queue would not run.
 */
let queued: Array<() => void> = [];

function runQueued(): void {
  const now = queued;
  queued = [];
  for (const work of now) work();
}

export function atEndOfTurn(work: () => void): void {
  if (queued.push(work) === 1) setImmediate(runQueued);
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
