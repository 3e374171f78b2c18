import type { Static } from '@sinclair/typebox';
import type { HttpMethod, OutboundResponse } from '../../http/client.js';
import { OutboundError } from '../../http/client.js';
import { ensureUrlAllowed } from '../lib/vendor-request.js';
import { fail, ok, retryAfterDate } from '../result.js';
import { type ConnectorEnv, type ConnectorResult, defineConnector } from '../types.js';
import {
  AUTH_TYPE,
  CERT_TYPE,
  ConfigSchema,
  ParamsSchema,
  SecretsSchema,
  type WebhookMethod,
} from './schema.js';
import { prepareRequest, requestFailureText, type WebhookContext } from './service.js';

const PREFIX = 'error validation webhook action config: ';

const MESSAGES = {
  requestFailed: 'error calling webhook, request failed',
  invalidResponse: 'error calling webhook, invalid response',
  retryLater: 'error calling webhook, retry later',
  retryAt: (at: Date) => `error calling webhook, retry at ${at.toISOString()}`,
  unexpected: 'error calling webhook, unexpected error',
} as const;

/**
 * Vendor answers Kibana's webhook type blames on the connector's user: its own list, not the
 * sub-action framework's USER_ERROR_STATUSES.
 */
const WEBHOOK_USER_ERROR_STATUSES = new Set([400, 404, 405, 406, 410, 411, 414, 428, 431]);

function checkUrl(url: string, env: ConnectorEnv): void {
  try {
    new URL(url);
  } catch (err) {
    throw new Error(`${PREFIX}unable to parse url: ${String(err)}`);
  }
  ensureUrlAllowed(env, url, PREFIX);
}

function isNonEmptyJsonObject(text: string): boolean {
  try {
    const parsed: unknown = JSON.parse(text);
    return (
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed) &&
      Object.keys(parsed).length > 0
    );
  } catch {
    return false;
  }
}

function validateConfig(config: Static<typeof ConfigSchema>, env: ConnectorEnv): void {
  checkUrl(config.url, env);
  if (config.authType && !config.hasAuth) {
    throw new Error(`${PREFIX}authType must be null or undefined if hasAuth is false`);
  }
  if (config.certType === CERT_TYPE.pfx && !env.settings['xpack.actions.webhook.ssl.pfx.enabled']) {
    throw new Error(`${PREFIX}certType "${CERT_TYPE.pfx}" is disabled`);
  }
  if (config.additionalFields && !isNonEmptyJsonObject(config.additionalFields)) {
    throw new Error(`${PREFIX}additionalFields must be a non-empty JSON object.`);
  }
  if (config.authType === AUTH_TYPE.oauth2ClientCredentials) {
    const missing: string[] = [];
    if (!config.accessTokenUrl) missing.push('Access Token URL (accessTokenUrl)');
    if (!config.clientId) missing.push('Client ID (clientId)');
    if (missing.length > 0 || !config.accessTokenUrl) {
      throw new Error(`${PREFIX}missing ${missing.join(', ')} fields`);
    }
    checkUrl(config.accessTokenUrl, env);
  }
}

function methodExpectsBody(method: WebhookMethod): boolean {
  return method !== 'get' && method !== 'delete';
}

/** `[<status>] <reason>`, plus the `message` of a JSON answer when it has one. */
function responseText(res: OutboundResponse): string {
  const body = res.json();
  const raw =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as { message?: unknown }).message
      : undefined;
  const detail = typeof raw === 'string' ? raw : raw != null ? JSON.stringify(raw) : undefined;
  return `[${res.status}] ${res.statusText}${detail ? `: ${detail}` : ''}`;
}

function failedResponse(res: OutboundResponse): ConnectorResult {
  const serviceMessage = responseText(res);
  if (res.status >= 500) return fail(MESSAGES.retryLater, { serviceMessage, retry: true });
  if (res.status === 429) {
    const at = retryAfterDate(res.headers);
    return at
      ? fail(MESSAGES.retryAt(at), { serviceMessage, retry: at })
      : fail(MESSAGES.retryLater, { serviceMessage, retry: true });
  }
  return fail(MESSAGES.invalidResponse, {
    serviceMessage,
    ...(WEBHOOK_USER_ERROR_STATUSES.has(res.status) ? { errorSource: 'user' as const } : {}),
  });
}

async function run(ctx: WebhookContext & { params: { body?: string } }) {
  const { config, params, connectorId, log } = ctx;
  let prepared: Awaited<ReturnType<typeof prepareRequest>>;
  try {
    prepared = await prepareRequest(ctx);
  } catch (err) {
    const text = (err as Error).message || 'unknown error - could not prepare the request';
    // The text may quote the token endpoint's answer: it goes to the caller, not to the log.
    log.error(`ConnectorId "${connectorId}": could not authenticate the webhook request`);
    return fail(MESSAGES.requestFailed, { serviceMessage: text });
  }
  const body = methodExpectsBody(config.method) && params.body ? params.body : undefined;
  let res: OutboundResponse;
  try {
    res = await ctx.http.request({
      url: config.url,
      method: config.method.toUpperCase() as HttpMethod,
      headers: prepared.headers,
      ...(body !== undefined ? { body } : {}),
      ...(prepared.tls ? { tls: prepared.tls } : {}),
    });
  } catch (err) {
    if (err instanceof OutboundError) {
      const text = requestFailureText(err);
      log.error(`error on ${connectorId} webhook event: ${text}`);
      return fail(MESSAGES.requestFailed, { serviceMessage: text });
    }
    log.error(`error on ${connectorId} webhook action: unexpected error`);
    return fail(MESSAGES.unexpected);
  }
  // Any 4xx may mean the token went stale: forget it so the next run fetches a new one.
  if (prepared.usesOAuthToken && res.status >= 400 && res.status < 500) ctx.tokens.delete();
  if (res.status >= 200 && res.status < 300) {
    log.debug(`response from webhook action "${connectorId}": [HTTP ${res.status}]`);
    // Kibana answers with the body it sent, not the vendor's reply.
    return ok(params.body);
  }
  const result = failedResponse(res);
  log.error(`error on ${connectorId} webhook event: [${res.status}] ${res.statusText}`);
  return result;
}

export const webhookConnector = defineConnector({
  id: '.webhook',
  name: 'Webhook',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'uptime', 'siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: { config: validateConfig },
  execute: (ctx) => run(ctx),
});
