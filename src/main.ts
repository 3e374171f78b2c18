import { parseArgs } from 'node:util';
import { buildApp } from './app.js';
import { loadSettings } from './config/load.js';
import type { Settings } from './config/settings.js';
import { createLogger } from './logger.js';

/**
 * Process entry: `node dist/main.js [-c kibana.yml]`. A bad setting stops start-up with one line
 * and exit code 1; SIGTERM and SIGINT stop accepting, let in-flight runs finish (up to
 * server.shutdownTimeout), flush the event log and close the store.
 */

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

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing in-flight requests');
    const timer = setTimeout(() => {
      logger.error('in-flight requests did not finish within server.shutdownTimeout; exiting');
      process.exit(1);
    }, settings['server.shutdownTimeout']);
    timer.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        logger.flush(() => process.exit(0));
      },
      (err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

await main();
