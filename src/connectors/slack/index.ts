import {
  slackRetryAt,
  slackRetryLater,
  slackServiceError,
  slackUnexpectedHttpMessage,
} from '../lib/slack.js';
import { ensureUrlAllowed, parseData, USER_ERROR_STATUSES } from '../lib/vendor-request.js';
import { fail, ok, retryAfterSeconds } from '../result.js';
import { type ConnectorEnv, ConnectorError, defineConnector } from '../types.js';
import { ConfigSchema, ParamsSchema, SecretsSchema } from './schema.js';

export const SLACK_CONNECTOR_ID = '.slack';

function validateSecrets(secrets: { webhookUrl: string }, env: ConnectorEnv): void {
  try {
    new URL(secrets.webhookUrl);
  } catch {
    throw new Error('error configuring slack action: unable to parse host name from webhookUrl');
  }
  ensureUrlAllowed(env, secrets.webhookUrl, 'error configuring slack action: ');
}

export const slackConnector = defineConnector({
  id: SLACK_CONNECTOR_ID,
  name: 'Slack',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'uptime', 'siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: { secrets: validateSecrets },
  async execute({ connectorId, secrets, params, http, log }) {
    let response: Awaited<ReturnType<typeof http.request>>;
    try {
      // Slack's webhook client follows no redirect: a 3xx is an unexpected answer.
      response = await http.request({
        url: secrets.webhookUrl,
        method: 'POST',
        json: { text: params.message },
        maxRedirects: 0,
      });
    } catch (err) {
      return slackServiceError(`A request error occurred: ${(err as Error).message}`);
    }

    const { status, statusText } = response;
    if (status < 200 || status >= 300) {
      const protocolError = `An HTTP protocol error occurred: statusCode = ${status}`;
      if (status >= 500) {
        return slackRetryLater({ serviceMessage: protocolError, errorSource: 'framework' });
      }
      if (status === 429) {
        const seconds = retryAfterSeconds(response.headers);
        return seconds === undefined
          ? slackRetryLater({ serviceMessage: protocolError, errorSource: 'user' })
          : slackRetryAt(seconds, protocolError, 'user');
      }
      // Kibana's run throws for these: the envelope reads the generic text, the client's message.
      if (USER_ERROR_STATUSES.has(status)) {
        throw new ConnectorError(`Request failed with status code ${status}`, 'user');
      }
      const message = slackUnexpectedHttpMessage(status, statusText);
      log.error(`error on ${connectorId} slack action: ${message}`);
      return fail(message);
    }

    const data = parseData(response.text());
    if (data !== 'ok') {
      return slackServiceError(
        typeof data === 'string' || data == null ? (data ?? undefined) : JSON.stringify(data),
      );
    }
    return ok({ text: data });
  },
});
