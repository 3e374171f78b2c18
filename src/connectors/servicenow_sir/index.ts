import { pushToService } from '../lib/servicenow/api.js';
import { SERVICENOW_SIR } from '../lib/servicenow/config.js';
import type { ServiceNowConfig, ServiceNowSecrets } from '../lib/servicenow/schema.js';
import { createServiceNowService, type ServiceNowService } from '../lib/servicenow/service.js';
import { serviceNowValidators } from '../lib/servicenow/validators.js';
import { runSubAction, type SubActionTable } from '../lib/sub_action_table.js';
import { ok } from '../result.js';
import { defineConnector } from '../types.js';
import {
  ConfigSchema,
  ParamsSchema,
  SecretsSchema,
  type SirParams,
  type SirPushParams,
} from './schema.js';
import {
  bulkAddObservables,
  formatObservables,
  OBSERVABLE_TYPES,
  observablesAsArray,
  observablesAsText,
} from './service.js';

interface SirRun {
  service: ServiceNowService;
  config: ServiceNowConfig;
  secrets: ServiceNowSecrets;
}

async function pushSecurityIncident({ service, config, secrets }: SirRun, params: SirPushParams) {
  const { dest_ip, malware_hash, malware_url, source_ip } = params.incident;
  const usesTableApi = config.usesTableApi === true;
  // The legacy Table API takes the observables in the incident; the application adds them after.
  const incident = usesTableApi
    ? {
        ...params.incident,
        dest_ip: observablesAsText(dest_ip),
        malware_hash: observablesAsText(malware_hash),
        malware_url: observablesAsText(malware_url),
        source_ip: observablesAsText(source_ip),
      }
    : { ...params.incident, dest_ip: null, malware_hash: null, malware_url: null, source_ip: null };
  const pushed = await pushToService(service, SERVICENOW_SIR, secrets, { ...params, incident });
  if (!usesTableApi) {
    const observables = [
      ...formatObservables(
        [...observablesAsArray(dest_ip), ...observablesAsArray(source_ip)],
        OBSERVABLE_TYPES.ip4,
      ),
      ...formatObservables(observablesAsArray(malware_hash), OBSERVABLE_TYPES.sha256),
      ...formatObservables(observablesAsArray(malware_url), OBSERVABLE_TYPES.url),
    ];
    if (observables.length > 0) await bulkAddObservables(service, observables, String(pushed.id));
  }
  return pushed;
}

const handlers = {
  getFields: ({ service }) => service.getFields(),
  getIncident: ({ service }, params) => service.getIncident(params.externalId),
  handshake: async () => {
    throw new Error('[Action][ExternalService] subAction handshake not implemented.');
  },
  pushToService: pushSecurityIncident,
  getChoices: ({ service }, params) => service.getChoices(params.fields),
} satisfies SubActionTable<SirParams, SirRun>;

export const serviceNowSirConnector = defineConnector({
  id: '.servicenow-sir',
  name: 'ServiceNow SecOps',
  minimumLicenseRequired: 'platinum',
  supportedFeatureIds: ['alerting', 'cases', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: serviceNowValidators,
  async execute(ctx) {
    const config: ServiceNowConfig = ctx.config;
    const service = createServiceNowService(ctx, SERVICENOW_SIR);
    const run: SirRun = { service, config, secrets: ctx.secrets };
    return ok((await runSubAction(handlers, run, ctx.params)) ?? {});
  },
});
