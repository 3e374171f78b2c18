import type { OutboundResponse } from '../../http/client.js';
import type { ExecuteContext } from '../types.js';

/**
 * Microsoft Exchange Online through Microsoft Graph: an app-only access token from the
 * identity platform (OAuth2 client credentials), cached per connector until it expires, then
 * POST /users/{from}/sendMail. Graph accepts a message with 202 and an empty body.
 */

/** The keys of connectors.baseUrls that point the token endpoint and Graph elsewhere. */
export const LOGIN_BASE_URL_KEY = '.email:login';
export const GRAPH_BASE_URL_KEY = '.email:graph';

/** https://learn.microsoft.com/en-us/graph/api/user-sendmail#response */
export const SEND_MAIL_ACCEPTED = 202;

/** A vendor answer that is not a success, kept with what decides a retry. */
export class VendorHttpError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly headers: Record<string, string>,
  ) {
    super(message);
    this.name = 'VendorHttpError';
  }
}

export interface GraphMail {
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  subject: string;
  html: string;
}

export interface ExchangeCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  /** The connector's own token URL, instead of the identity platform's. */
  oauthTokenUrl: string | null;
}

type Ctx = Pick<ExecuteContext, 'connectorId' | 'env' | 'http' | 'tokens' | 'log'>;

/** JSON with object keys sorted at every level, as Kibana words a token endpoint's refusal. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => stableStringify(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A body as axios would hand it over: parsed JSON when it is JSON, else the text. */
function bodyOf(res: OutboundResponse): unknown {
  const text = res.text();
  const parsed = res.json();
  return parsed === undefined ? text : parsed;
}

/** Form encoding with keys in alphabetical order and RFC 3986 escapes, as Kibana sends it. */
function formEncode(fields: Record<string, string>): string {
  const strict = (v: string) =>
    encodeURIComponent(v).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    );
  return Object.keys(fields)
    .sort()
    .map((k) => `${strict(k)}=${strict(fields[k] ?? '')}`)
    .join('&');
}

export function tokenUrlFor(ctx: Ctx, credentials: ExchangeCredentials): string {
  if (credentials.oauthTokenUrl) return credentials.oauthTokenUrl;
  const base = ctx.env.baseUrl(
    LOGIN_BASE_URL_KEY,
    ctx.env.settings['xpack.actions.microsoftExchangeUrl'],
  );
  return `${base}/${credentials.tenantId}/oauth2/v2.0/token`;
}

/** `<token_type> <access_token>`, from the cache or a fresh client-credentials grant. */
async function accessToken(ctx: Ctx, credentials: ExchangeCredentials): Promise<string> {
  const cached = ctx.tokens.get();
  if (cached !== undefined) return cached.token;
  const requestedAt = Date.now();
  const res = await ctx.http.request({
    url: tokenUrlFor(ctx, credentials),
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    body: formEncode({
      scope: ctx.env.settings['xpack.actions.microsoftGraphApiScope'],
      client_id: credentials.clientId,
      client_secret: credentials.clientSecret,
      grant_type: 'client_credentials',
    }),
  });
  const body = bodyOf(res);
  const grant = body as { token_type?: unknown; access_token?: unknown; expires_in?: unknown };
  if (res.status !== 200 || typeof grant.access_token !== 'string') {
    ctx.log.warn({ status: res.status }, 'error getting the Microsoft Exchange access token');
    throw new VendorHttpError(stableStringify(body), res.status, res.headers);
  }
  const token = `${String(grant.token_type)} ${grant.access_token}`;
  const expiresIn = Number(grant.expires_in);
  if (Number.isFinite(expiresIn) && expiresIn > 0) {
    ctx.tokens.set(token, requestedAt + expiresIn * 1000);
  }
  return token;
}

/** Send one email through Graph; resolves with Graph's (empty) answer. */
export async function sendWithGraph(
  ctx: Ctx,
  credentials: ExchangeCredentials,
  mail: GraphMail,
): Promise<unknown> {
  const authorization = await accessToken(ctx, credentials);
  const graph = ctx.env.baseUrl(
    GRAPH_BASE_URL_KEY,
    ctx.env.settings['xpack.actions.microsoftGraphApiUrl'],
  );
  const recipients = (addresses: readonly string[]) =>
    addresses.map((address) => ({ emailAddress: { address } }));
  const res = await ctx.http.request({
    url: `${graph}/users/${mail.from}/sendMail`,
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: authorization },
    json: {
      message: {
        subject: mail.subject,
        body: { contentType: 'HTML', content: mail.html },
        toRecipients: recipients(mail.to),
        ccRecipients: recipients(mail.cc),
        bccRecipients: recipients(mail.bcc),
        attachments: [],
      },
    },
  });
  // A 4xx may mean the token no longer works; the next run asks for a new one.
  if (res.status >= 400 && res.status < 500) ctx.tokens.delete();
  if (res.status === SEND_MAIL_ACCEPTED) return bodyOf(res);
  ctx.log.warn(
    { status: res.status, clientId: credentials.clientId },
    'error sending Microsoft Exchange email',
  );
  throw new VendorHttpError(JSON.stringify(bodyOf(res)), res.status, res.headers);
}
