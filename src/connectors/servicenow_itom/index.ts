import { SERVICENOW_ITOM } from '../lib/servicenow/config.js';
import { createServiceNowService, type ServiceNowService } from '../lib/servicenow/service.js';
import { serviceNowValidators } from '../lib/servicenow/validators.js';
import { runSubAction, type SubActionTable } from '../lib/sub_action_table.js';
import { ok } from '../result.js';
import { defineConnector } from '../types.js';
import { ConfigSchema, type ItomParams, ParamsSchema, SecretsSchema } from './schema.js';
import { addEvent } from './service.js';

interface ItomRun {
  service: ServiceNowService;
}

const handlers = {
  addEvent: ({ service }, params) => addEvent(service, params),
  getChoices: ({ service }, params) => service.getChoices(params.fields),
} satisfies SubActionTable<ItomParams, ItomRun>;

export const serviceNowItomConnector = defineConnector({
  id: '.servicenow-itom',
  name: 'ServiceNow ITOM',
  minimumLicenseRequired: 'platinum',
  supportedFeatureIds: ['alerting', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: serviceNowValidators,
  async execute(ctx) {
    const service = createServiceNowService(ctx, SERVICENOW_ITOM);
    return ok((await runSubAction(handlers, { service }, ctx.params)) ?? {});
  },
});
