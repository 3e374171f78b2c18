import { OutboundError, type OutboundResponse } from '../../http/client.js';
import { axiosCode, ensureUrlAllowed } from '../lib/vendor-request.js';
import { fail, ok, retryAfterSeconds, retryAt } from '../result.js';
import { type ConnectorEnv, type ConnectorResult, defineConnector } from '../types.js';
import { ConfigSchema, ParamsSchema, SecretsSchema, TORQ_HOSTNAME } from './schema.js';

export const TORQ_CONNECTOR_ID = '.torq';

const PREFIX = 'error triggering Torq workflow';

function validateConfig(config: { webhookIntegrationUrl: string }, env: ConnectorEnv): void {
  const configured = config.webhookIntegrationUrl;
  let url: URL;
  try {
    url = new URL(configured);
  } catch (err) {
    throw new Error(`error configuring send to Torq action: unable to parse url: ${String(err)}`);
  }
  ensureUrlAllowed(env, configured, 'error configuring send to Torq action: ');
  if (!TORQ_HOSTNAME.test(url.hostname) && url.hostname !== 'localhost') {
    throw new Error(
      'error configuring send to Torq action: url must begin with https://hooks.torq.io or https://hooks.eu.torq.io',
    );
  }
}

function failedResponse(response: OutboundResponse): ConnectorResult {
  const { status, statusText } = response;
  const body = response.json<{ message?: unknown }>();
  const vendorMessage = typeof body === 'object' && body !== null ? body.message : undefined;
  const message = `[${status}] ${statusText}${vendorMessage ? `: ${String(vendorMessage)}` : ''}`;
  if (status >= 500)
    return fail(`${PREFIX}, retry later`, { retry: true, serviceMessage: message });
  if (status === 429) {
    const seconds = retryAfterSeconds(response.headers);
    if (seconds === undefined) {
      return fail(`${PREFIX}, retry later`, { retry: true, serviceMessage: message });
    }
    const { date, iso } = retryAt(seconds);
    return fail(`${PREFIX}, retry at ${iso}`, { retry: date, serviceMessage: message });
  }
  if (status === 405)
    return fail(`${PREFIX}, method is not supported`, { serviceMessage: message });
  if (status === 401) return fail(`${PREFIX}, unauthorised`, { serviceMessage: message });
  if (status === 404) {
    return fail(`${PREFIX}, make sure the webhook URL is valid`, { serviceMessage: message });
  }
  return fail(`${PREFIX}, invalid response`, { serviceMessage: message });
}

export const torqConnector = defineConnector({
  id: TORQ_CONNECTOR_ID,
  name: 'Torq',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'uptime', 'siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: { config: validateConfig },
  async execute({ connectorId, config, secrets, params, http, log }) {
    let payload: unknown;
    try {
      payload = JSON.parse(params.body || 'null');
    } catch (err) {
      const reason = (err as Error).message;
      log.error(`error on ${connectorId} Torq event: ${PREFIX}, invalid body: ${reason}`);
      return fail(`${PREFIX}, invalid body`, { serviceMessage: reason });
    }

    let response: OutboundResponse;
    try {
      response = await http.request({
        url: config.webhookIntegrationUrl,
        method: 'POST',
        headers: { 'X-Torq-Token': secrets.token, 'Content-Type': 'application/json' },
        // Like Kibana's client, an empty payload (null, '', 0, false) goes without a body.
        ...(payload ? { json: payload } : {}),
      });
    } catch (err) {
      if (!(err instanceof OutboundError)) return fail(`${PREFIX}, unexpected error`);
      // Kibana quotes the axios code of a failure without an answer: `[<code>] <message>`.
      const code = axiosCode(err);
      const message = code === undefined ? err.message : `[${code}] ${err.message}`;
      log.error(`error on ${connectorId} Torq event: ${code ?? err.code}`);
      return fail(`${PREFIX}, request failed`, { serviceMessage: message });
    }

    if (response.status >= 200 && response.status < 300) {
      log.debug(
        `response from Torq action "${connectorId}": [HTTP ${response.status}] ${response.statusText}`,
      );
      return ok(params.body);
    }
    const result = failedResponse(response);
    log.error(`error on ${connectorId} Torq event: [${response.status}] ${response.statusText}`);
    return result;
  },
});
