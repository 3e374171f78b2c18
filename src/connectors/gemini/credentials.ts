import { createSign } from 'node:crypto';
import { OutboundError } from '../../http/client.js';
import type { ConnectorEnv, ExecuteContext } from '../types.js';
import {
  ASSERTION_LIFETIME_S,
  CLOUD_PLATFORM_SCOPE,
  GOOGLE_OAUTH_BASE,
  type Secrets,
  TOKEN_LIFETIME_S,
} from './schema.js';

/**
 * A Google service-account key exchanged for an OAuth access token: an RS256-signed JWT
 * assertion posted to Google's token endpoint (the JWT bearer grant).
 * https://developers.google.com/identity/protocols/oauth2/service-account#httprest
 *
 * Key files of other kinds can make Google's client libraries read local files, run commands,
 * call arbitrary URLs or act as another account. Only plain service-account keys are accepted,
 * and the token is only ever requested from the configured endpoint.
 */

const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

/** Key-file fields that would send the server elsewhere, with what they would make it do. */
const REFUSED_FIELDS: Readonly<Record<string, string>> = {
  credential_source: 'it would make the server read a local file, run a command or call a URL',
  credential_source_file: 'it would make the server read a local file',
  keyFile: 'it would make the server read a local file',
  keyFilename: 'it would make the server read a local file',
  token_url: 'it would make the server call a URL other than the configured token endpoint',
  service_account_impersonation_url: 'it would make the server impersonate another account',
  source_credentials: 'it would make the server impersonate another account',
  delegates: 'it would make the server impersonate another account',
  subject: 'it would make the server impersonate another account',
  sub: 'it would make the server impersonate another account',
};

export function tokenEndpoint(env: ConnectorEnv): string {
  const base = env.baseUrl('.gemini', GOOGLE_OAUTH_BASE);
  return `${base.endsWith('/') ? base : `${base}/`}token`;
}

function sameUrl(a: string, b: string): boolean {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}

/**
 * The secrets rule: a key file that would read files, impersonate or call another token URL is
 * refused, naming the field. Text that is not JSON is left to fail at run time, as in Kibana.
 */
export function checkCredentials(secrets: Secrets, env: ConnectorEnv): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secrets.credentialsJson);
  } catch {
    return;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return;
  const credentials = parsed as Record<string, unknown>;
  for (const [field, reason] of Object.entries(REFUSED_FIELDS)) {
    if (Object.hasOwn(credentials, field)) {
      throw new Error(`[credentialsJson.${field}]: not allowed: ${reason}`);
    }
  }
  const endpoint = tokenEndpoint(env);
  const tokenUri = credentials.token_uri;
  if (tokenUri !== undefined && (typeof tokenUri !== 'string' || !sameUrl(tokenUri, endpoint))) {
    throw new Error(
      `[credentialsJson.token_uri]: must be the configured token endpoint "${endpoint}", got "${String(tokenUri)}"`,
    );
  }
  if (credentials.type !== 'service_account') {
    throw new Error(
      `Invalid credential type. Only "service_account" credentials are supported. Type was "${String(credentials.type)}".`,
    );
  }
}

interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  privateKeyId?: string;
}

function serviceAccountOf(credentialsJson: string): ServiceAccount {
  let parsed: unknown;
  try {
    parsed = JSON.parse(credentialsJson);
  } catch {
    throw new Error('Failed to parse credentials JSON file: Invalid JSON format');
  }
  const credentials = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  const unable = (reason: string) => new Error(unableMessage(reason));
  if (typeof credentials.client_email !== 'string' || credentials.client_email === '') {
    throw unable('The incoming JSON object does not contain a client_email field');
  }
  if (typeof credentials.private_key !== 'string' || credentials.private_key === '') {
    throw unable('The incoming JSON object does not contain a private_key field');
  }
  return {
    clientEmail: credentials.client_email,
    privateKey: credentials.private_key,
    ...(typeof credentials.private_key_id === 'string' && credentials.private_key_id !== ''
      ? { privateKeyId: credentials.private_key_id }
      : {}),
  };
}

function unableMessage(reason: string): string {
  return `Unable to retrieve access token. Ensure the service account has the right permissions and the Vertex AI endpoint is enabled in the GCP project. Error: ${reason}`;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** The signed JWT assertion for the token request. */
export function signAssertion(account: ServiceAccount, audience: string, now = Date.now()): string {
  const iat = Math.floor(now / 1000);
  const header = {
    alg: 'RS256',
    typ: 'JWT',
    ...(account.privateKeyId !== undefined ? { kid: account.privateKeyId } : {}),
  };
  const claims = {
    iss: account.clientEmail,
    scope: CLOUD_PLATFORM_SCOPE,
    aud: audience,
    exp: iat + ASSERTION_LIFETIME_S,
    iat,
  };
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = createSign('RSA-SHA256').update(input).sign(account.privateKey);
  return `${input}.${base64url(signature)}`;
}

type TokenContext = Pick<ExecuteContext<unknown, Secrets>, 'secrets' | 'http' | 'env' | 'tokens'>;

function tokenFailure(status: number, body: unknown): string {
  const error = body as { error?: unknown; error_description?: unknown } | undefined;
  if (typeof error === 'object' && error !== null && error.error) {
    const description = error.error_description ? `: ${String(error.error_description)}` : '';
    return `${String(error.error)}${description}`;
  }
  return `Request failed with status code ${status}`;
}

/** The cached access token of this connector, or a new one from the token endpoint. */
export async function accessToken(ctx: TokenContext): Promise<string> {
  const account = serviceAccountOf(ctx.secrets.credentialsJson);
  const cached = ctx.tokens.get();
  if (cached !== undefined) return cached.token;

  const endpoint = tokenEndpoint(ctx.env);
  let assertion: string;
  try {
    assertion = signAssertion(account, endpoint);
  } catch (err) {
    throw new Error(unableMessage((err as Error).message));
  }
  const requestedAt = Date.now();
  let status: number;
  let body: unknown;
  try {
    const response = await ctx.http.request({
      url: endpoint,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: JWT_BEARER_GRANT, assertion }).toString(),
    });
    status = response.status;
    body = response.json();
  } catch (err) {
    const reason = err instanceof OutboundError ? err.message : String(err);
    throw new Error(unableMessage(`request to ${endpoint} failed, reason: ${reason}`));
  }
  if (status < 200 || status >= 300) throw new Error(unableMessage(tokenFailure(status, body)));
  const answer = body as { access_token?: unknown; expires_in?: unknown } | undefined;
  const token = answer?.access_token;
  if (typeof token !== 'string' || token === '') {
    // Kibana's wording, spelling included.
    throw new Error(
      'Error occurred while retrieving the access token. Ensure that the credentials are vaild.',
    );
  }
  const lifetime =
    typeof answer?.expires_in === 'number'
      ? Math.min(TOKEN_LIFETIME_S, answer.expires_in)
      : TOKEN_LIFETIME_S;
  ctx.tokens.set(token, requestedAt + lifetime * 1000);
  return token;
}
