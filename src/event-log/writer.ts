import type { Logger } from 'pino';
import type { EventQuery, EventRepository, StoredEvent } from '../store/types.js';

/**
 * Execution records are queued and written in batches, off the request path: the `_execute`
 * answer never waits on the event log. Reads flush first, so a caller always sees its own runs.
 */
const FLUSH_DELAY_MS = 50;
const MAX_BATCH = 500;

export class EventLogWriter {
  private queue: StoredEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: EventRepository,
    private readonly log: Logger,
  ) {}

  get queueLength(): number {
    return this.queue.length;
  }

  write(events: readonly StoredEvent[]): void {
    this.queue.push(...events);
    if (this.queue.length >= MAX_BATCH) {
      void this.flush();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue;
    this.queue = [];
    const previous = this.flushing;
    this.flushing = previous.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.repo.append(batch);
      } catch (err) {
        this.log.error({ err, events: batch.length }, 'unable to write event log records');
      }
    });
    await this.flushing;
  }

  async find(query: EventQuery) {
    await this.flush();
    return this.repo.find(query);
  }
}
