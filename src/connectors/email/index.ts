import type { Static } from '@sinclair/typebox';
import { OutboundError } from '../../http/client.js';
import { fail, ok, retryFor } from '../result.js';
import { type ConnectorEnv, defineConnector } from '../types.js';
import { invalidEmailsMessage, withoutMustacheTemplate } from './addresses.js';
import { sendWithGraph, VendorHttpError } from './exchange.js';
import { renderMarkdown } from './markdown.js';
import {
  ConfigSchema,
  MAX_EMAIL_BODY_LENGTH,
  ParamsSchema,
  SERVICES,
  SecretsSchema,
  TEST_MESSAGE,
} from './schema.js';
import {
  elasticCloudEndpoint,
  type Mail,
  type SmtpTarget,
  secureFor,
  sendSmtp,
  serviceHost,
  smtpRetry,
} from './smtp.js';

type Config = Static<typeof ConfigSchema>;
type Secrets = Static<typeof SecretsSchema>;
type Params = Static<typeof ParamsSchema>;

export const NO_RECIPIENTS = 'At least one entry in [to], [cc], or [bcc] is required';
export const HTML_ONLY_VIA_NOTIFICATIONS = 'HTML email can only be sent via notifications';
export const ATTACHMENTS_ONLY_VIA_NOTIFICATIONS =
  'Email attachments can only be sent via notifications';
export const SEND_FAILED = 'error sending email';

const FOOTER_DIVIDER = '\n\n---\n\n';

function allowlist(env: ConnectorEnv): readonly string[] | undefined {
  return env.settings['xpack.actions.email.domain_allowlist'];
}

const isNonBlank = (address: string) => address.trim().length > 0;

function validateConfig(config: Config, env: ConnectorEnv): void {
  const fromInvalid = invalidEmailsMessage(allowlist(env), [config.from]);
  if (fromInvalid) throw new Error(`[from]: ${fromInvalid}`);

  const { oauthTokenUrl } = config;
  if (oauthTokenUrl && !env.allowedHosts.isUriAllowed(oauthTokenUrl)) {
    throw new Error(
      `[oauthTokenUrl]: host name value for '${oauthTokenUrl}' is not in the allowedHosts configuration`,
    );
  }

  if (config.service === SERVICES.json) return;
  if (config.service === SERVICES.exchange) {
    if (config.clientId === null && config.tenantId === null) {
      throw new Error('[clientId]/[tenantId] is required');
    }
    if (config.clientId === null) throw new Error('[clientId] is required');
    if (config.tenantId === null) throw new Error('[tenantId] is required');
    return;
  }
  if (config.service === SERVICES.other) {
    if (config.host === null && config.port === null) throw new Error('[host]/[port] is required');
    if (config.host === null) throw new Error('[host] is required');
    if (config.port === null) throw new Error('[port] is required');
    if (!env.allowedHosts.isHostnameAllowed(config.host)) {
      throw new Error(`[host] value '${config.host}' is not in the allowedHosts configuration`);
    }
    return;
  }
  const host = serviceHost(config.service, env);
  if (host === null) throw new Error(`[service] value '${config.service}' is not valid`);
  if (!env.allowedHosts.isHostnameAllowed(host)) {
    throw new Error(
      `[service] value '${config.service}' resolves to host '${host}' which is not in the allowedHosts configuration`,
    );
  }
}

function validateParams(params: Params, env: ConnectorEnv): void {
  const to = params.to.filter(isNonBlank);
  const cc = params.cc.filter(isNonBlank);
  const bcc = params.bcc.filter(isNonBlank);
  if (to.length + cc.length + bcc.length === 0) throw new Error(NO_RECIPIENTS);

  const addresses = withoutMustacheTemplate([...to, ...cc, ...bcc]).concat(params.replyTo ?? []);
  const invalid = invalidEmailsMessage(allowlist(env), addresses, {
    treatMustacheTemplatesAsValid: true,
  });
  if (invalid) {
    const fields = ['to', 'cc', 'bcc'];
    if (params.replyTo !== undefined && params.replyTo.length > 0) fields.push('replyTo');
    throw new Error(`[${fields.join('/')}]: ${invalid}`);
  }
}

function validateConnector(config: Config, secrets: Secrets): string | null {
  if (config.service === SERVICES.exchange) {
    return secrets.clientSecret === null ? '[clientSecret] is required' : null;
  }
  if (config.hasAuth && secrets.user === null) return '[user] is required';
  if (config.hasAuth && secrets.password === null) return '[password] is required';
  return null;
}

/**
 * Kibana cuts a body at xpack.actions.email.maximum_body_length characters and says so on top.
 */
export function trimToMaximum(
  connectorId: string,
  text: string,
  maxLength = MAX_EMAIL_BODY_LENGTH,
): string {
  if (text.length < maxLength) return text;
  const warning = `Your message's length of ${text.length} exceeded the ${maxLength} bytes limit that is set for the connector "${connectorId}" and was trimmed. You can modify the limit by increasing the value specified for the xpack.actions.email.maximum_body_length setting.`;
  return `${warning}\n\n${text.slice(0, maxLength)}`;
}

function footer(publicBaseUrl: string | undefined, link: Params['kibanaFooterLink']): string {
  if (!publicBaseUrl) return 'This message was sent by Elastic.';
  const href = `${publicBaseUrl}${link.path === '/' ? '' : link.path}`;
  return `This message was sent by Elastic. [${link.text}](${href}).`;
}

function smtpTarget(config: Config, env: ConnectorEnv): SmtpTarget {
  if (config.service === SERVICES.json) return { kind: 'json' };
  if (config.service === SERVICES.other) {
    // The config check guarantees both for this service.
    const host = config.host ?? '';
    const port = config.port ?? 0;
    return { kind: 'host', host, port, secure: secureFor(config.secure, config.port) };
  }
  if (config.service === SERVICES.elasticCloud) {
    return { kind: 'host', ...elasticCloudEndpoint(env) };
  }
  return { kind: 'service', service: config.service };
}

/** Retry advice for a failed send: the vendor's status when it answered, else the failure kind. */
function retryOf(err: unknown): boolean | Date {
  if (err instanceof VendorHttpError) return retryFor(err.status, err.headers);
  if (err instanceof OutboundError) return err.code === 'timeout' || err.code === 'network';
  return smtpRetry(err);
}

export const emailConnector = defineConnector({
  id: '.email',
  name: 'Email',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'uptime', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: {
    config: validateConfig,
    params: validateParams,
    connector: validateConnector,
  },
  async execute(ctx) {
    const { config, secrets, params, env, connectorId } = ctx;
    const recipients = [...params.to, ...params.cc, ...params.bcc].filter(isNonBlank);
    const invalid = invalidEmailsMessage(allowlist(env), recipients);
    if (invalid) return fail(`[to/cc/bcc]: ${invalid}`);
    // Runs here come from the HTTP API, never from Kibana's notification service.
    if (params.messageHTML !== null) return fail(HTML_ONLY_VIA_NOTIFICATIONS);
    if (params.attachments !== undefined) return fail(ATTACHMENTS_ONLY_VIA_NOTIFICATIONS);

    // Kibana sends a fixed test text when a connector is run through the API, except through
    // the JSON transport its own tests read back. A notification gateway can turn that off.
    const useTestMessage =
      env.settings['connectors.email.testMessageForApiRuns'] && config.service !== SERVICES.json;
    let text = trimToMaximum(connectorId, useTestMessage ? TEST_MESSAGE : params.message);
    const html = useTestMessage ? TEST_MESSAGE : null;
    if (env.settings['xpack.actions.enableFooterInEmail']) {
      text = `${text}${FOOTER_DIVIDER}${footer(env.settings['server.publicBaseUrl'], params.kibanaFooterLink)}`;
    }
    text ||= 'no message set';
    const subject = useTestMessage ? TEST_MESSAGE : params.subject;
    const mail: Mail = {
      from: config.from,
      to: params.to,
      cc: params.cc,
      bcc: params.bcc,
      ...(params.replyTo !== undefined ? { replyTo: params.replyTo } : {}),
      subject,
      text,
      html: html ?? renderMarkdown(text),
    };

    try {
      if (config.service === SERVICES.exchange) {
        const { clientId, tenantId } = config;
        const { clientSecret } = secrets;
        if (clientId === null || tenantId === null || clientSecret === null) {
          throw new Error(`Unable to retrieve access token for connectorId: ${connectorId}`);
        }
        const data = await sendWithGraph(
          ctx,
          { clientId, tenantId, clientSecret, oauthTokenUrl: config.oauthTokenUrl },
          mail,
        );
        return ok(data);
      }
      const auth =
        config.hasAuth && secrets.user !== null && secrets.password !== null
          ? { user: secrets.user, pass: secrets.password }
          : undefined;
      const data = await sendSmtp(
        {
          target: smtpTarget(config, env),
          ...(auth !== undefined ? { auth } : {}),
          hasCredentials: secrets.user !== null || secrets.password !== null,
          verificationMode: env.settings['xpack.actions.ssl.verificationMode'],
          timeoutMs: env.settings['xpack.actions.responseTimeout'],
          signal: ctx.signal,
        },
        mail,
      );
      return ok(data);
    } catch (err) {
      return fail(SEND_FAILED, {
        serviceMessage: (err as Error).message,
        retry: retryOf(err),
      });
    }
  },
});
