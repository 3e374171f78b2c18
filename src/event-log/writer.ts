import type { Logger } from 'pino';
import type { EventDoc, EventRepository, StoredEvent } from '../store/types.js';
import { executionDoc, startDocOf } from './execution.js';

/** A page of one connector's event-log documents, as Kibana's event-log API pages them. */
export interface EventFind {
  savedObjectId: string;
  spaceId: string;
  page: number;
  perPage: number;
  sortOrder: 'asc' | 'desc';
}

// A batch goes to the store when it holds MAX_BATCH records or FLUSH_DELAY_MS after its first,
// whichever comes first. Every batch costs the writer thread a transaction and a wake-up whatever
// its size, and the request thread a message and a timer: at a steady 12,000 runs a second,
// batches of 60 (a 5 ms delay) cost the server 5 us a run more than batches of 240. On PostgreSQL a
// batch is also a statement, a transaction and a row per connector it holds: two instances sharing
// a database at about 3,000 runs a second each cost it 27 us a run with a 20 ms delay, 17 with 50
// (one instance at 6,000 a second: 20 and 13). The count keeps the queue short under full load:
// records that wait in it outlive young-generation collections, and held 50 ms at 12,600 runs a
// second they were most of what each collection copied. Below full load the delay decides, and the
// waiting records are still most of what a collection keeps (at 4,200 a second about 110 of 130
// kB); queued as references and numbers, or as JSON text, instead, the batch's own task on the
// request thread grew and the paced p99 got worse (README, Performance).
export const FLUSH_DELAY_MS = 50;
export const MAX_BATCH = 256;

/**
 * Execution records are queued and written in batches, off the request path: the `_execute`
 * answer never waits on the event log. Reads flush first, so a caller always sees its own runs.
 * One compact record is stored per run and read back as Kibana's two documents, `execute-start`
 * then `execute`.
 */
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

  async find(query: EventFind): Promise<{ total: number; data: EventDoc[] }> {
    await this.flush();
    const first = (query.page - 1) * query.perPage;
    const last = first + query.perPage;
    const rows = await this.repo.find({
      savedObjectId: query.savedObjectId,
      spaceId: query.spaceId,
      offset: Math.floor(first / 2),
      limit: Math.ceil(last / 2) - Math.floor(first / 2),
      sortOrder: query.sortOrder,
    });
    const docs = rows.data.flatMap((stored) => {
      const doc = executionDoc(stored);
      return query.sortOrder === 'asc' ? [startDocOf(doc), doc] : [doc, startDocOf(doc)];
    });
    const skip = first - Math.floor(first / 2) * 2;
    return { total: rows.total * 2, data: docs.slice(skip, skip + query.perPage) };
  }
}
