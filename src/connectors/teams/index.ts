import type { OutboundResponse } from '../../http/client.js';
import { ensureUrlAllowed, parseData } from '../lib/vendor-request.js';
import { fail, ok, retryAfterSeconds, retryAt } from '../result.js';
import { type ConnectorEnv, defineConnector } from '../types.js';
import { ConfigSchema, ParamsSchema, SecretsSchema } from './schema.js';

export const TEAMS_CONNECTOR_ID = '.teams';

/**
 * Teams answers a throttled post with HTTP 200 and this code in the body text:
 * https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#rate-limiting-for-connectors
 */
export const THROTTLED_MARKER = 'ErrorCode:ApplicationThrottled';

const TEXTS = {
  retryLater: 'error posting a Microsoft Teams message, retry later',
  invalid: 'error posting to Microsoft Teams, invalid response',
  unexpected: 'error posting to Microsoft Teams, unexpected error',
} as const;

function validateSecrets(secrets: { webhookUrl: string }, env: ConnectorEnv): void {
  try {
    new URL(secrets.webhookUrl);
  } catch {
    throw new Error('error configuring teams action: unable to parse host name from webhookUrl');
  }
  ensureUrlAllowed(env, secrets.webhookUrl, 'error configuring teams action: ');
}

export const teamsConnector = defineConnector({
  id: TEAMS_CONNECTOR_ID,
  name: 'Microsoft Teams',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'uptime', 'siem', 'workflows', 'agentBuilder'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: { secrets: validateSecrets },
  async execute({ connectorId, secrets, params, http, log }) {
    const payload = { text: params.message };
    let response: OutboundResponse;
    try {
      response = await http.request({ url: secrets.webhookUrl, method: 'POST', json: payload });
    } catch {
      log.debug(`error on ${connectorId} Microsoft Teams action: unexpected error`);
      return fail(TEXTS.unexpected);
    }

    const { status, statusText } = response;
    if (status >= 200 && status < 300) {
      const data = parseData(response.text());
      if (typeof data === 'string' && data.includes(THROTTLED_MARKER)) {
        const seconds = retryAfterSeconds(response.headers);
        if (seconds === undefined) return fail(TEXTS.retryLater, { retry: true });
        const { date, iso } = retryAt(seconds);
        // Kibana reports the message that was not posted as the service message.
        return fail(`error posting a Microsoft Teams message, retry at ${iso}`, {
          retry: date,
          serviceMessage: params.message,
        });
      }
      log.debug(`response from teams action "${connectorId}": [HTTP ${status}] ${statusText}`);
      return ok(payload);
    }

    const serviceMessage = `[${status}] ${statusText}`;
    log.error(`error on ${connectorId} Microsoft Teams event: ${serviceMessage}`);
    if (status >= 500) return fail(TEXTS.retryLater, { retry: true });
    // Teams does not rate-limit with a 429 (it answers 200, above): Kibana retries no 4xx.
    return fail(TEXTS.invalid, { serviceMessage });
  },
});
