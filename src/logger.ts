import { write as writeFd, writeSync } from 'node:fs';
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Settings } from './config/settings.js';

/**
 * The server log. Request lines carry method, path, status and time only; headers and bodies are
 * never logged. The redact list is a second line of defence for anything that slips into a log
 * object under a well-known secret name.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'password',
  'secrets',
  'apiKey',
  'api_key',
  'token',
  '*.authorization',
  '*.password',
  '*.secrets',
  '*.apiKey',
  '*.api_key',
  '*.token',
  '*.webhookUrl',
];

export function loggerOptions(level: Settings['logging.root.level']): LoggerOptions {
  return {
    level: level === 'all' ? 'trace' : level === 'off' ? 'silent' : level,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    base: { name: 'kibana-connectors-server' },
    timestamp: pino.stdTimeFunctions.isoTime,
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
