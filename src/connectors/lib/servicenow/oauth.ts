import { createPrivateKey, sign } from 'node:crypto';
import type { ConnectorTokenScope } from '../../tokens.js';
import type { ConnectorHttp } from '../../types.js';
import { isPlainRecord, vendorRequest } from '../vendor-request.js';

/**
 * ServiceNow's OAuth JWT bearer grant (RFC 7523), as Kibana uses it: a JWT signed RS256 with the
 * connector's private key is exchanged at `<instance>/oauth_token.do` for an access token, which
 * is cached for the connector until it expires.
 */

export const JWT_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Kibana asks for assertions valid one hour. */
const ASSERTION_LIFETIME_SECONDS = 3600;

export interface JwtClaims {
  audience: string;
  issuer: string;
  subject: string;
  keyId: string;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function createJwtAssertion(
  privateKey: string,
  passphrase: string | null,
  claims: JwtClaims,
  now = Date.now(),
): string {
  const iat = Math.floor(now / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: claims.keyId };
  const payload = {
    sub: claims.subject,
    aud: claims.audience,
    iss: claims.issuer,
    iat,
    exp: iat + ASSERTION_LIFETIME_SECONDS,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}`;
  try {
    const key = createPrivateKey(passphrase ? { key: privateKey, passphrase } : privateKey);
    return `${signingInput}.${base64url(sign('sha256', Buffer.from(signingInput), key))}`;
  } catch (err) {
    throw new Error(`Unable to generate JWT token. Error: ${String(err)}`);
  }
}

/** x-www-form-urlencoded as Kibana's query-string sends it: keys sorted, RFC 3986 escaping. */
export function formEncode(fields: Record<string, string>): string {
  const strict = (text: string) =>
    encodeURIComponent(text).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return Object.keys(fields)
    .sort()
    .map((key) => `${strict(key)}=${strict(fields[key] ?? '')}`)
    .join('&');
}

/** JSON with object keys sorted, as Kibana words a refused token request. */
function stableStringify(value: unknown): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (!isPlainRecord(v)) return v;
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((key) => [key, sortKeys(v[key])]),
    );
  };
  return JSON.stringify(sortKeys(value)) ?? 'undefined';
}

export interface JwtGrantInput {
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  userIdentifierValue: string;
  jwtKeyId: string;
  privateKey: string;
  privateKeyPassword: string | null;
}

/** The Authorization header value to use: the cached token, or a fresh one. */
export async function getAccessToken(
  http: ConnectorHttp,
  tokens: ConnectorTokenScope,
  input: JwtGrantInput,
): Promise<string> {
  const cached = tokens.get();
  if (cached !== undefined) return cached.token;
  const assertion = createJwtAssertion(input.privateKey, input.privateKeyPassword, {
    audience: input.clientId,
    issuer: input.clientId,
    subject: input.userIdentifierValue,
    keyId: input.jwtKeyId,
  });
  const requestedAt = Date.now();
  const res = await vendorRequest(
    http,
    {
      url: input.tokenUrl,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      data: formEncode({
        assertion,
        client_id: input.clientId,
        client_secret: input.clientSecret,
        grant_type: JWT_BEARER_GRANT_TYPE,
      }),
    },
    { validateStatus: () => true },
  );
  if (res.status !== 200) throw new Error(stableStringify(res.data));
  const data = (isPlainRecord(res.data) ? res.data : {}) as {
    token_type?: unknown;
    access_token?: unknown;
    expires_in?: unknown;
  };
  const token = `${String(data.token_type)} ${String(data.access_token)}`;
  const expiresIn = Number(data.expires_in);
  tokens.set(token, requestedAt + (Number.isFinite(expiresIn) ? expiresIn : 0) * 1000);
  return token;
}
