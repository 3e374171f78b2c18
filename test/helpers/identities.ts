import { type Api, basicAuth } from './server.js';

/** Shortcuts for tests of users, roles and API keys, made through Kibana's own routes. */

export interface KibanaPrivileges {
  base?: string[];
  feature?: Record<string, string[]>;
  spaces?: string[];
}

export async function createRole(
  api: Api,
  name: string,
  kibana: KibanaPrivileges[],
  elasticsearch: Record<string, unknown> = {},
): Promise<void> {
  const res = await api('PUT', `/api/security/role/${name}`, { body: { elasticsearch, kibana } });
  if (res.status !== 204) throw new Error(`role ${name}: ${res.status} ${res.text}`);
}

/** Creates a user and returns its Basic Authorization header. */
export async function createUser(
  api: Api,
  username: string,
  roles: string[],
  password = `${username}-password-1`,
): Promise<string> {
  const res = await api('POST', `/internal/security/users/${username}`, {
    body: { username, password, roles },
  });
  if (res.status !== 200) throw new Error(`user ${username}: ${res.status} ${res.text}`);
  return basicAuth(username, password);
}

export interface MintedKey {
  id: string;
  name: string;
  api_key: string;
  encoded: string;
  /** The Authorization header value. */
  auth: string;
}

export async function createApiKey(
  api: Api,
  body: Record<string, unknown>,
  auth?: string,
): Promise<MintedKey> {
  const res = await api<Omit<MintedKey, 'auth'>>('POST', '/internal/security/api_key', {
    body,
    ...(auth !== undefined ? { auth } : {}),
  });
  if (res.status !== 200) throw new Error(`api key: ${res.status} ${res.text}`);
  return { ...res.body, auth: `ApiKey ${res.body.encoded}` };
}

/** Kibana's 403 for a connector operation. */
export const forbidden = (message: string) => ({
  statusCode: 403,
  error: 'Forbidden',
  message,
});

/** Elasticsearch's error text as Kibana passes it through. */
export const esMessage = (type: string, reason: string) =>
  `[${type}\n\tRoot causes:\n\t\t${type}: ${reason}]: ${reason}`;
