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
 * The process logger writes to stdout through a buffer, flushed every few kilobytes, at least
 * every 100 ms, and on exit: a log line never makes a request wait on the terminal or the pipe.
 */
export function createLogger(
  level: Settings['logging.root.level'],
  destination: pino.DestinationStream = pino.destination({
    dest: 1,
    sync: false,
    minLength: 4096,
    periodicFlush: 100,
  }),
): Logger {
  return pino(loggerOptions(level), destination);
}
