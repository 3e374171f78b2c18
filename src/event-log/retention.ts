import type { Logger } from 'pino';
import type { EventRepository } from '../store/types.js';

/**
 * xpack.eventLog.retention: records older than the retention are deleted by a periodic sweep,
 * off the request path, in bounded batches with a yield between them so requests keep flowing.
 * Kibana leaves this to the event-log index's ILM policy (delete after 90 days); here the store
 * holds the event log, so the server sweeps it. With several instances on one database each
 * sweeps; they share the rows out rather than repeat each other's work.
 */
const SWEEP_EVERY_MS = 60 * 60 * 1000;
const MIN_SWEEP_EVERY_MS = 1000;
const BATCH = 5000;

export class EventLogRetention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  readonly intervalMs: number;

  constructor(
    private readonly repo: EventRepository,
    private readonly retentionMs: number,
    private readonly log: Logger,
  ) {
    // Hourly, or more often when the retention itself is shorter than two hours.
    this.intervalMs = Math.max(MIN_SWEEP_EVERY_MS, Math.min(SWEEP_EVERY_MS, retentionMs / 2));
  }

  start(): void {
    this.timer = setInterval(() => void this.sweep(), this.intervalMs);
    this.timer.unref();
  }

  /** One sweep; a sweep still running is joined rather than doubled. */
  sweep(): Promise<void> {
    this.running ??= this.deleteOld().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  private async deleteOld(): Promise<void> {
    const cutoff = new Date(Date.now() - this.retentionMs).toISOString();
    let total = 0;
    try {
      for (;;) {
        const deleted = await this.repo.deleteBefore(cutoff, BATCH);
        total += deleted;
        if (deleted < BATCH || this.stopped) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      this.log.error({ err }, 'unable to delete expired event log records');
      return;
    }
    if (total > 0) this.log.debug({ deleted: total, before: cutoff }, 'expired event log records');
  }
}
