import type { Static } from '@sinclair/typebox';
import type { OutboundError, TlsOptions } from '../../http/client.js';
import { axiosCode, basicAuthorization } from '../lib/vendor-request.js';
import type { ExecuteContext } from '../types.js';
import { AUTH_TYPE, type ConfigSchema, type SecretsSchema } from './schema.js';

/**
 * How a webhook request is authenticated: Basic credentials, a client certificate, or an OAuth2
 * client-credentials token (cached per connector), plus the TLS overrides of the connector.
 */

type Config = Static<typeof ConfigSchema>;
type Secrets = Static<typeof SecretsSchema>;
export type WebhookContext = ExecuteContext<Config, Secrets, unknown>;

export const OAUTH_GRANT_TYPE = 'client_credentials';
/** Lifetime assumed when the token answer has no expires_in, as Kibana assumes. */
export const DEFAULT_TOKEN_LIFETIME_S = 3600;

export interface PreparedRequest {
  headers: Record<string, string>;
  tls?: TlsOptions;
  /** The token came from the cache or the token endpoint: a 4xx should forget it. */
  usesOAuthToken: boolean;
}

const isString = (v: unknown): v is string => typeof v === 'string';

/** Connectors saved before authType existed mean Basic when hasAuth is on. */
export function isBasicAuth(config: Pick<Config, 'hasAuth' | 'authType'>): boolean {
  return config.hasAuth && (config.authType === AUTH_TYPE.basic || !config.authType);
}

function sslOverrides(config: Config, secrets: Secrets): TlsOptions | undefined {
  const tls: TlsOptions = {};
  if (config.hasAuth && config.authType === AUTH_TYPE.ssl) {
    if (isString(secrets.pfx)) {
      tls.pfx = Buffer.from(secrets.pfx, 'base64');
      if (isString(secrets.password)) tls.passphrase = secrets.password;
    } else if (isString(secrets.crt) && isString(secrets.key)) {
      tls.cert = Buffer.from(secrets.crt, 'base64');
      tls.key = Buffer.from(secrets.key, 'base64');
      if (isString(secrets.password)) tls.passphrase = secrets.password;
    }
  }
  if (config.verificationMode) tls.verificationMode = config.verificationMode;
  if (config.ca) tls.ca = Buffer.from(config.ca, 'base64');
  return Object.keys(tls).length === 0 ? undefined : tls;
}

export async function prepareRequest(ctx: WebhookContext): Promise<PreparedRequest> {
  const { config, secrets } = ctx;
  if (config.authType === AUTH_TYPE.oauth2ClientCredentials) {
    const token = await oauthAccessToken(ctx);
    // Kibana sends only the config headers here, and no TLS overrides.
    return { headers: { ...config.headers, Authorization: token }, usesOAuthToken: true };
  }
  const merged: Record<string, string> = { ...config.headers, ...secrets.secretHeaders };
  let headers = merged;
  if (isBasicAuth(config) && isString(secrets.user) && isString(secrets.password)) {
    // A configured Authorization header wins over the credentials, as in Kibana.
    headers = { Authorization: basicAuthorization(secrets.user, secrets.password), ...merged };
  }
  const tls = sslOverrides(config, secrets);
  return { headers, ...(tls ? { tls } : {}), usesOAuthToken: false };
}

/** JSON with object keys sorted, as Kibana words a token endpoint's refusal. */
export function stableStringify(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value)) ?? 'undefined';
}

/** A form body with keys in sorted order, undefined values left out (query-string's rules). */
export function formEncode(fields: Record<string, unknown>): string {
  const strict = (s: string) =>
    encodeURIComponent(s).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return Object.keys(fields)
    .sort()
    .filter((k) => fields[k] !== undefined)
    .map((k) => {
      const v = fields[k];
      return v === null ? strict(k) : `${strict(k)}=${strict(String(v))}`;
    })
    .join('&');
}

function parseAdditionalFields(text: string | null | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

interface TokenAnswer {
  token_type?: unknown;
  access_token?: unknown;
  expires_in?: unknown;
}

/** `<token_type> <access_token>` from the cache, or from the token endpoint. */
export async function oauthAccessToken(ctx: WebhookContext): Promise<string> {
  const { config, secrets } = ctx;
  if (!config.clientId || !secrets.clientSecret || !config.accessTokenUrl) {
    throw new Error('Unable to retrieve new access token');
  }
  const cached = ctx.tokens.get();
  if (cached !== undefined) return cached.token;

  const requestedAt = Date.now();
  const form = formEncode({
    scope: config.scope,
    ...parseAdditionalFields(config.additionalFields),
    client_id: config.clientId,
    client_secret: secrets.clientSecret,
    grant_type: OAUTH_GRANT_TYPE,
  });
  let answer: TokenAnswer;
  try {
    const res = await ctx.http.request({
      url: config.accessTokenUrl,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: form,
    });
    if (res.status !== 200) {
      const body = res.json() ?? res.text();
      ctx.log.warn(`error getting the access token: HTTP ${res.status}`);
      throw new Error(stableStringify(body));
    }
    answer = res.json<TokenAnswer>() ?? {};
  } catch (err) {
    throw new Error(`Unable to retrieve/refresh the access token: ${(err as Error).message}`);
  }
  if (!isString(answer.access_token) || answer.access_token === '') {
    throw new Error('Unable to retrieve new access token');
  }
  const token = `${String(answer.token_type)} ${answer.access_token}`;
  const lifetime =
    typeof answer.expires_in === 'number' ? answer.expires_in : DEFAULT_TOKEN_LIFETIME_S;
  ctx.tokens.set(token, requestedAt + lifetime * 1000);
  return token;
}

/**
 * `[<code>] <message>` for a request that got no answer, with the codes Kibana's HTTP client
 * (axios) reports, so the text reads as Kibana's does.
 */
export function requestFailureText(err: OutboundError): string {
  if (err.code === 'redirect' || err.code === 'not_allowed') {
    return `[ERR_FR_REDIRECTION_FAILURE] Redirected request failed: ${err.message}`;
  }
  return `[${axiosCode(err) ?? 'ERR_NETWORK'}] ${err.message}`;
}
