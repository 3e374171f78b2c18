import type { Static } from '@sinclair/typebox';
import { OutboundError, type OutboundResponse } from '../../http/client.js';
import { ensureUrlAllowed } from '../lib/vendor-request.js';
import { fail, ok } from '../result.js';
import { type ConnectorEnv, defineConnector } from '../types.js';
import { ConfigSchema, ParamsSchema, SecretsSchema } from './schema.js';

export const XMATTERS_CONNECTOR_ID = '.xmatters';

type Config = Static<typeof ConfigSchema>;
type Secrets = Static<typeof SecretsSchema>;
type Params = Static<typeof ParamsSchema>;

function validateConfig(config: Config, env: ConnectorEnv): void {
  if (!config.usesBasic || !config.configUrl) return;
  try {
    new URL(config.configUrl);
  } catch (err) {
    throw new Error(
      `Error configuring xMatters action: unable to parse url: ${(err as Error).message}`,
    );
  }
  ensureUrlAllowed(env, config.configUrl, 'Error configuring xMatters action: ');
}

function validateSecrets(secrets: Secrets, env: ConnectorEnv): void {
  const { user, password, secretsUrl } = secrets;
  if (!secretsUrl && !user && !password) {
    throw new Error('Provide either secretsUrl link or user/password to authenticate');
  }
  if (!secretsUrl) {
    if (!user || !password) throw new Error('Both user and password must be specified.');
    return;
  }
  if (user || password) {
    throw new Error(
      'Cannot use user/password for URL authentication. Provide valid secretsUrl or use Basic Authentication.',
    );
  }
  try {
    new URL(secretsUrl);
  } catch (err) {
    throw new Error(`Invalid secretsUrl: ${String(err)}`);
  }
  // Kibana reports this one without a prefix.
  env.allowedHosts.ensureUriAllowed(secretsUrl);
}

function validateConnector(config: Config, secrets: Secrets): string | null {
  const { user, password, secretsUrl } = secrets;
  if (config.usesBasic) {
    if (secretsUrl) return 'secretsUrl should not be provided when usesBasic is true';
    if (user == null) return 'Provide valid Username';
    if (password == null) return 'Provide valid Password';
    if (config.configUrl == null) return 'Provide valid configUrl';
    return null;
  }
  if (user || password)
    return 'Username and password should not be provided when usesBasic is false';
  if (config.configUrl) return 'configUrl should not be provided when usesBasic is false';
  if (secretsUrl == null) return 'Provide valid secretsUrl with API Key';
  return null;
}

/** What the flow receives; xMatters takes a post without signalId and group as a test. */
function payloadOf(params: Params): Record<string, string> {
  const payload: Record<string, string | undefined> = {
    alertActionGroupName: params.alertActionGroupName,
    signalId: params.signalId,
    ruleName: params.ruleName,
    date: params.date,
    severity: params.severity || 'High',
    spaceId: params.spaceId,
    tags: params.tags,
  };
  return Object.fromEntries(
    Object.entries(payload).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

export const xmattersConnector = defineConnector({
  id: XMATTERS_CONNECTOR_ID,
  name: 'xMatters',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: { config: validateConfig, secrets: validateSecrets, connector: validateConnector },
  async execute({ connectorId, config, secrets, params, http, log }) {
    const payload = payloadOf(params);
    const { usesBasic, configUrl } = config;
    const { user, password } = secrets;
    const url = usesBasic ? configUrl : secrets.secretsUrl;
    let response: OutboundResponse;
    try {
      if (!url) throw new Error('Error: no url provided');
      response = await http.request({
        url,
        method: 'POST',
        json: payload,
        ...(usesBasic && typeof user === 'string' && typeof password === 'string'
          ? { auth: { username: user, password } }
          : {}),
      });
    } catch (err) {
      // The URL may carry the API key: log the kind of failure only.
      const kind = err instanceof OutboundError ? err.code : 'no url';
      log.warn(`Error thrown triggering xMatters workflow (${connectorId}): ${kind}`);
      return fail('Error triggering xMatters workflow', { serviceMessage: (err as Error).message });
    }

    const { status, statusText } = response;
    if (status >= 200 && status < 300) {
      log.debug(`Response from xMatters action "${connectorId}": [HTTP ${status}] ${statusText}`);
      return ok(payload);
    }
    // Kibana retries throttling and server errors, without reading Retry-After.
    if (status === 429 || status >= 500) {
      return fail(`Error triggering xMatters flow: http status ${status}, retry later`, {
        retry: true,
      });
    }
    return fail(`Error triggering xMatters flow: unexpected status ${status}`);
  },
});
