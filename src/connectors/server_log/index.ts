import { fail, ok } from '../result.js';
import { defineConnector } from '../types.js';
import { ConfigSchema, ParamsSchema, SecretsSchema } from './schema.js';

/** Control characters (tabs excepted) and line/paragraph separators become ';', as in Kibana. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000A-\u001F\u007F-\u009F\u2028\u2029]/g;

export function withoutControlCharacters(text: string): string {
  return text.replace(CONTROL_CHARACTERS, ';');
}

export const serverLogConnector = defineConnector({
  id: '.server-log',
  name: 'Server log',
  minimumLicenseRequired: 'basic',
  supportedFeatureIds: ['alerting', 'uptime', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  async execute({ params, log }) {
    try {
      // ctx.log is named plugins.actions.server-log, as Kibana names this type's logger.
      log[params.level](`Server log: ${withoutControlCharacters(params.message)}`);
    } catch (err) {
      return fail('error logging message', { serviceMessage: (err as Error).message });
    }
    return ok();
  },
});
