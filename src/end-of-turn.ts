/**
 * Work held back to the end of the current event-loop turn (its check phase), then run in the
 * order it was queued. Answers go out this way: under load one turn reads many requests, and
 * writing all their answers together, after the reads, wakes each waiting client once per turn
 * instead of once per answer and keeps the reads and the writes of a turn apart. A socket's own
 * cork cannot do this: a response's end() uncorks its socket whatever the caller corked.
 *
 * Work queued while the queue runs waits for the next turn, so a callback that queues more cannot
 * hold the loop.
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
