import { ensureUrlAllowed } from '../lib/vendor-request.js';
import { ok } from '../result.js';
import { defineConnector, type ExecuteContext } from '../types.js';
import {
  AUTH_TYPES,
  type CasesWebhookConfig,
  type CasesWebhookParams,
  type CasesWebhookSecrets,
  ConfigSchema,
  ParamsSchema,
  SecretsSchema,
  type SubAction,
} from './schema.js';
import { CasesWebhookService, CONNECTOR_NAME } from './service.js';

/**
 * Webhook - Case Management: pushes Kibana cases to any case system through configured,
 * mustache-templated URLs and JSON bodies (create, get, update, comment).
 */

type Handler = (
  service: CasesWebhookService,
  params: CasesWebhookParams['subActionParams'],
) => Promise<unknown>;

const HANDLERS = {
  pushToService: (service, params) => service.pushToService(params),
} satisfies Record<SubAction, Handler>;

const CONFIG_ERROR = 'error configuring cases webhook action: ';

function validateConfig(config: CasesWebhookConfig, env: ExecuteContext['env']): void {
  if (config.authType === AUTH_TYPES.oauth2ClientCredentials) {
    throw new Error('OAuth2 authentication is not supported for cases webhook connector');
  }
  const urls = [
    config.createIncidentUrl,
    config.createCommentUrl,
    config.viewIncidentUrl,
    config.getIncidentUrl,
    config.updateIncidentUrl,
  ];
  for (const url of urls) {
    if (!url) continue;
    try {
      new URL(url);
    } catch (err) {
      throw new Error(`${CONFIG_ERROR}unable to parse ${url}: ${String(err)}`);
    }
    ensureUrlAllowed(env, url, CONFIG_ERROR);
  }
}

function hasNoSecrets(secrets: CasesWebhookSecrets): boolean {
  return Object.values(secrets).every((value) => value === null || value === undefined);
}

export const casesWebhookConnector = defineConnector({
  id: '.cases-webhook',
  name: CONNECTOR_NAME,
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['cases'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: {
    config: validateConfig,
    connector: (config, secrets) =>
      config.hasAuth && hasNoSecrets(secrets) ? 'must specify a secrets configuration' : null,
  },
  async execute(ctx: ExecuteContext<CasesWebhookConfig, CasesWebhookSecrets, CasesWebhookParams>) {
    const service = new CasesWebhookService(ctx.http, ctx.env, ctx.config, ctx.secrets);
    // A failure throws: Kibana reports it as the generic error, with the step's own text.
    return ok(await HANDLERS[ctx.params.subAction](service, ctx.params.subActionParams));
  },
});
