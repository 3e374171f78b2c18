import { ensureUrlAllowed, URL_NOT_ALLOWED } from '../lib/vendor-request.js';
import { ok } from '../result.js';
import { defineConnector, type ExecuteContext } from '../types.js';
import {
  ConfigSchema,
  ParamsSchema,
  SecretsSchema,
  type SubAction,
  type SwimlaneConfig,
  type SwimlaneParams,
  type SwimlaneSecrets,
} from './schema.js';
import { CONNECTOR_NAME, SwimlaneService } from './service.js';

/** Swimlane: pushes cases and alerts as records of a Swimlane application. */

type Handler = (
  service: SwimlaneService,
  params: SwimlaneParams['subActionParams'],
) => Promise<unknown>;

const HANDLERS = {
  pushToService: (service, params) => service.pushToService(params),
} satisfies Record<SubAction, Handler>;

export const swimlaneConnector = defineConnector({
  id: '.swimlane',
  name: CONNECTOR_NAME,
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'cases', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: {
    config: (config, env) => ensureUrlAllowed(env, config.apiUrl, URL_NOT_ALLOWED.configuring),
  },
  async execute(ctx: ExecuteContext<SwimlaneConfig, SwimlaneSecrets, SwimlaneParams>) {
    const service = new SwimlaneService(ctx.http, ctx.config, ctx.secrets);
    const data = await HANDLERS[ctx.params.subAction](service, ctx.params.subActionParams);
    return ok(data ?? {});
  },
});
