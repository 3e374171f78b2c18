import { closeIncident, pushToService } from '../lib/servicenow/api.js';
import { SERVICENOW_ITSM } from '../lib/servicenow/config.js';
import type { ServiceNowSecrets } from '../lib/servicenow/schema.js';
import { createServiceNowService, type ServiceNowService } from '../lib/servicenow/service.js';
import { serviceNowValidators } from '../lib/servicenow/validators.js';
import { runSubAction, type SubActionTable } from '../lib/sub_action_table.js';
import { ok } from '../result.js';
import { defineConnector } from '../types.js';
import { ConfigSchema, type ItsmParams, ParamsSchema, SecretsSchema } from './schema.js';

interface ItsmRun {
  service: ServiceNowService;
  secrets: ServiceNowSecrets;
}

const notImplemented = (name: string) => async () => {
  throw new Error(`[Action][ExternalService] subAction ${name} not implemented.`);
};

const handlers = {
  getFields: ({ service }) => service.getFields(),
  getIncident: ({ service }, params) => service.getIncident(params.externalId),
  handshake: notImplemented('handshake'),
  pushToService: ({ service, secrets }, params) =>
    pushToService(service, SERVICENOW_ITSM, secrets, params),
  getChoices: ({ service }, params) => service.getChoices(params.fields),
  closeIncident: ({ service }, params) => closeIncident(service, params),
} satisfies SubActionTable<ItsmParams, ItsmRun>;

export const serviceNowItsmConnector = defineConnector({
  id: '.servicenow',
  name: 'ServiceNow ITSM',
  minimumLicenseRequired: 'platinum',
  supportedFeatureIds: ['alerting', 'cases', 'uptime', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: serviceNowValidators,
  async execute(ctx) {
    const service = createServiceNowService(ctx, SERVICENOW_ITSM);
    const data = await runSubAction(handlers, { service, secrets: ctx.secrets }, ctx.params);
    return ok(data ?? {});
  },
});
