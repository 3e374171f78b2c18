import { write as writeFd, writeSync } from 'node:fs';
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Settings } from './config/settings.js';
import { isoOf } from './time.js';

/**
 * The server log. Request lines carry method, path, status and time only; headers and bodies are
 * never logged. Censoring well-known secret names is a second line of defence for anything that
 * slips into a log object: `authorization`, `password`, `secrets`, `apiKey`, `api_key` and `token`
 * at the top or one level down, `webhookUrl` one level down, and `req.headers.cookie`.
 */
const CENSOR = '[REDACTED]';
const SECRET_KEYS = new Set(['authorization', 'password', 'secrets', 'apiKey', 'api_key', 'token']);
const NESTED_SECRET_KEYS = new Set([...SECRET_KEYS, 'webhookUrl']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `value` with the keys `secret` picks out censored: a copy when any is, else `value` itself. */
function censorKeys(
  value: Record<string, unknown>,
  secret: (key: string, item: unknown) => unknown,
): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const item = value[key];
    const censored = secret(key, item);
    if (censored !== item) {
      out ??= { ...value };
      out[key] = censored;
    }
  }
  return out ?? value;
}

const censorNested = (parent: string) => (key: string, item: unknown) => {
  if (NESTED_SECRET_KEYS.has(key)) return CENSOR;
  if (parent === 'req' && key === 'headers' && isRecord(item)) {
    return censorKeys(item, (name, header) =>
      name === 'authorization' || name === 'cookie' ? CENSOR : header,
    );
  }
  return item;
};

/** A log object with its secrets censored; the caller's object is never changed. */
export function censorSecrets(object: Record<string, unknown>): Record<string, unknown> {
  return censorKeys(object, (key, item) => {
    if (SECRET_KEYS.has(key)) return CENSOR;
    return isRecord(item) ? censorKeys(item, censorNested(key)) : item;
  });
}

let stampedAt = Number.NaN;
let stamp = '';

/**
 * pino's ISO time field, made once per millisecond: under load many lines share one, and
 * formatting a date is a good part of the cost of a line.
 */
export function isoTime(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = `,"time":"${isoOf(now)}"`;
  }
  return stamp;
}

export function loggerOptions(level: Settings['logging.root.level']): LoggerOptions {
  return {
    level: level === 'all' ? 'trace' : level === 'off' ? 'silent' : level,
    formatters: { log: censorSecrets },
    // No bindings at the root: each logger is a child of it named once (`name`), as Kibana names
    // its loggers. A child of a named child would repeat the key in the line.
    base: undefined,
    timestamp: isoTime,
  };
}

/**
 * Where the process log goes: lines are gathered and handed to the file descriptor in one write
 * once a few kilobytes wait, at least every `flushMs`, and synchronously at exit, so a log line
 * never makes a request wait on the terminal or the pipe. Lines are kept in an array and joined
 * per write: appending each line to one growing string would copy the whole buffer every time.
 */
export class LogBuffer implements pino.DestinationStream {
  private lines: string[] = [];
  private size = 0;
  /** Bytes handed to the kernel but not yet written (a partial write, a full pipe). */
  private pending: Buffer | undefined;
  private writing = false;
  private waiters: Array<(err?: Error) => void> = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly fd = 1,
    private readonly minLength = 4096,
    flushMs = 100,
  ) {
    this.timer = setInterval(() => this.flush(), flushMs);
    this.timer.unref();
  }

  write(line: string): boolean {
    this.lines.push(line);
    this.size += line.length;
    if (this.size >= this.minLength) this.flush();
    return true;
  }

  /**
   * Start writing what waits, unless a write is already under way (it goes on when that one is
   * done). `done` is called once everything gathered so far is written.
   */
  flush(done?: (err?: Error) => void): void {
    if (done !== undefined) this.waiters.push(done);
    if (this.writing) return;
    const data = this.pending ?? this.take();
    this.pending = undefined;
    if (data === undefined) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter();
      return;
    }
    this.writing = true;
    writeFd(this.fd, data, 0, data.length, null, (err, written) => {
      this.writing = false;
      if (err !== null) {
        // A full non-blocking pipe: try again shortly. Anything else: the lines are dropped,
        // as there is nowhere left to report it.
        if (err.code === 'EAGAIN') {
          this.pending = data;
          setTimeout(() => this.flush(), 10).unref();
          return;
        }
      } else if (written < data.length) {
        this.pending = data.subarray(written);
      }
      if (this.pending !== undefined || this.size >= this.minLength || this.waiters.length > 0) {
        this.flush();
      }
    });
  }

  /** Write everything now; for process exit. */
  flushSync(): void {
    const parts = [this.pending, this.take()].filter((b): b is Buffer => b !== undefined);
    this.pending = undefined;
    for (const part of parts) {
      let offset = 0;
      for (let attempts = 0; offset < part.length && attempts < 1000; attempts++) {
        try {
          offset += writeSync(this.fd, part, offset);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
        }
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.flushSync();
  }

  private take(): Buffer | undefined {
    if (this.lines.length === 0) return undefined;
    const data = Buffer.from(this.lines.join(''));
    this.lines = [];
    this.size = 0;
    return data;
  }
}

let stdoutBuffer: LogBuffer | undefined;

/** The process's one buffer on stdout, written out at exit. */
function stdout(): LogBuffer {
  if (stdoutBuffer === undefined) {
    const buffer = new LogBuffer(1);
    process.once('exit', () => buffer.flushSync());
    stdoutBuffer = buffer;
  }
  return stdoutBuffer;
}

export function createLogger(
  level: Settings['logging.root.level'],
  destination: pino.DestinationStream = stdout(),
): Logger {
  return pino(loggerOptions(level), destination);
}
