import { urlAllowListValidator } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  ConfigSchema,
  NoParamsSchema,
  PushToServiceParamsSchema,
  type ResilientConfig,
  type ResilientSecrets,
  SecretsSchema,
} from './schema.js';
import { CONNECTOR_NAME, ResilientService } from './service.js';

/** IBM Resilient (IBM Security QRadar SOAR): a case connector on Kibana's sub-action framework. */

const SUB_ACTIONS = ['pushToService', 'getFields', 'incidentTypes', 'severity'] as const;

type Action = typeof subAction<ResilientConfig, ResilientSecrets, typeof NoParamsSchema>;
const withService = (run: (service: ResilientService) => Promise<unknown>): ReturnType<Action> =>
  subAction<ResilientConfig, ResilientSecrets, typeof NoParamsSchema>(NoParamsSchema, (ctx) =>
    run(new ResilientService(ctx)),
  );

export const resilientConnector = defineSubActionConnector({
  id: '.resilient',
  name: CONNECTOR_NAME,
  minimumLicenseRequired: 'platinum',
  supportedFeatureIds: ['alerting', 'cases', 'siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: { config: urlAllowListValidator('apiUrl') },
  subActionNames: SUB_ACTIONS,
  subActions: {
    pushToService: subAction<ResilientConfig, ResilientSecrets, typeof PushToServiceParamsSchema>(
      PushToServiceParamsSchema,
      (ctx, params) => new ResilientService(ctx).pushToService(params),
    ),
    getFields: withService((service) => service.getFields()),
    incidentTypes: withService((service) => service.getIncidentTypes()),
    severity: withService((service) => service.getSeverity()),
  },
});
