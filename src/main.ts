#!/usr/bin/env -S node --no-memory-reducer
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { buildApp } from './app.js';
import { loadSettings } from './config/load.js';
import type { Settings } from './config/settings.js';
import { createLogger } from './logger.js';

/**
 * Process entry: `node --no-memory-reducer dist/main.mjs [-c kibana.yml]`. A bad setting stops
 * start-up with one line and exit code 1; SIGTERM and SIGINT stop accepting, let in-flight runs
 * finish (up to server.shutdownTimeout), flush the event log and close the store.
 *
 * The first line is how the server is meant to be run: `npm start`, the container image, the
 * package's bin, the bench and the soak all give node the flags it names (a test holds them to
 * it). --no-memory-reducer: after a quiet minute or two, V8's memory reducer runs full
 * collections that shrink the young generation to its minimum and let compiled code go, and the
 * first burst of requests afterwards pays for it, queued for a hundred milliseconds and more at
 * half the capacity. It can only be turned off before the heap is set up: set from here at run
 * time, the reducer already scheduled at start-up still runs once, and that once is enough. The
 * regular collections still return what is garbage; only the shrinking while idle is given up.
 */

/**
 * The server's live heap is small and most of what a request allocates dies young, but V8 lets the
 * old generation grow to several times the live heap before it collects it again, which is where
 * most of the resident memory under load goes. Growing it 20% past the live heap instead keeps the
 * process near what it uses, for more frequent, mostly concurrent, collections. A value given on
 * the command line or in NODE_OPTIONS wins.
 */
const HEAP_GROWING_PERCENT = 20;
const givenFlags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''];
if (!givenFlags.some((a) => a.includes('heap-growing'))) {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/**
 * Young-generation collections copy what survives them, here little: the requests in flight and
 * the event-log records waiting for their batch. Spread over helper threads, that copy costs more
 * in hand-offs than it saves, and under load the helpers wait for cores the load already uses
 * while the request thread waits for them: on two cores, with the helpers, .server-log runs cost
 * the process 52 us each and it answered 19,900 a second; copied on the request thread alone, 47
 * us and 22,400 a second (ten alternating rounds, better in all ten). The flag is read at every
 * collection, so setting it here takes effect; a --parallel-scavenge given to node wins.
 */
if (!givenFlags.some((a) => a.includes('parallel-scavenge'))) {
  setFlagsFromString('--no-parallel-scavenge');
}

function fatal(message: string): never {
  process.stderr.write(`FATAL  ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let configPath: string | undefined;
  try {
    const { values } = parseArgs({
      options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    });
    if (values.help) {
      process.stdout.write('Usage: kibana-connectors-server [-c|--config <kibana.yml>]\n');
      return;
    }
    configPath = values.config;
  } catch (err) {
    fatal((err as Error).message);
  }

  let settings: Settings;
  try {
    settings = loadSettings({
      ...(configPath !== undefined ? { configPath } : {}),
      env: process.env,
    });
  } catch (err) {
    fatal((err as Error).message);
  }

  const logger = createLogger(settings['logging.root.level']);
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp({ settings, logger });
    await app.listen({ port: settings['server.port'], host: settings['server.host'] });
  } catch (err) {
    fatal((err as Error).message);
  }

  const log = logger.child({ name: 'root' });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: finishing in-flight requests');
    const timer = setTimeout(() => {
      log.error('in-flight requests did not finish within server.shutdownTimeout; exiting');
      process.exit(1);
    }, settings['server.shutdownTimeout']);
    timer.unref();
    app.close().then(
      () => {
        log.info('stopped');
        logger.flush(() => process.exit(0));
      },
      (err: unknown) => {
        log.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
