import type { ConnectorEnv } from '../../types.js';
import { ensureUrlAllowed, URL_NOT_ALLOWED } from '../vendor-request.js';
import type { ServiceNowBaseConfig, ServiceNowSecrets } from './schema.js';

/**
 * Kibana's ServiceNow rules beyond the schemas: the instance URL must be an allowed host; basic
 * auth and OAuth (JWT bearer grant) credentials are each complete, and match `isOAuth`.
 */

const missing = (field: string, isOAuth: boolean) =>
  `${field} must be provided when isOAuth = ${isOAuth ? 'true' : 'false'}`;
const unexpected = (fields: string, isOAuth: boolean) =>
  `${fields} should not be provided with isOAuth = ${isOAuth ? 'true' : 'false'}`;

export function validateConfig(config: ServiceNowBaseConfig, env: ConnectorEnv): void {
  ensureUrlAllowed(env, config.apiUrl, URL_NOT_ALLOWED.configuring);
  if (!config.isOAuth) return;
  if (config.userIdentifierValue == null) throw new Error(missing('userIdentifierValue', true));
  if (config.clientId == null) throw new Error(missing('clientId', true));
  if (config.jwtKeyId == null) throw new Error(missing('jwtKeyId', true));
}

export function validateSecrets(secrets: ServiceNowSecrets): void {
  const { username, password, clientSecret, privateKey } = secrets;
  if (!username && !password && !clientSecret && !privateKey) {
    throw new Error('Either basic auth or OAuth credentials must be specified');
  }
  if (username || password) {
    if (!username || !password) throw new Error('username and password must both be specified');
  } else if (!clientSecret || !privateKey) {
    throw new Error('clientSecret and privateKey must both be specified');
  }
}

export function validateConnector(
  config: ServiceNowBaseConfig,
  secrets: ServiceNowSecrets,
): string | null {
  const { isOAuth, userIdentifierValue, clientId, jwtKeyId } = config;
  const { username, password, clientSecret, privateKey } = secrets;
  if (isOAuth) {
    if (userIdentifierValue == null) return missing('userIdentifierValue', true);
    if (clientId == null) return missing('clientId', true);
    if (jwtKeyId == null) return missing('jwtKeyId', true);
    if (clientSecret == null) return missing('clientSecret', true);
    if (privateKey == null) return missing('privateKey', true);
    if (username || password) return unexpected('Username and password', true);
    return null;
  }
  if (username == null) return missing('username', false);
  if (password == null) return missing('password', false);
  if (clientSecret || clientId || userIdentifierValue || jwtKeyId || privateKey) {
    return unexpected(
      'clientId, clientSecret, userIdentifierValue, jwtKeyId and privateKey',
      false,
    );
  }
  return null;
}

export const serviceNowValidators = {
  config: validateConfig,
  secrets: (secrets: ServiceNowSecrets) => validateSecrets(secrets),
  connector: validateConnector,
};
