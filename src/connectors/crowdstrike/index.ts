import { urlAllowListValidator } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  CONNECTOR_ID,
  CONNECTOR_NAME,
  type Config,
  ConfigSchema,
  GetAgentsParamsSchema,
  HostActionsParamsSchema,
  RTRCommandParamsSchema,
  type Secrets,
  SecretsSchema,
  SUB_ACTIONS,
} from './schema.js';
import * as service from './service.js';

type C = Config;
type S = Secrets;

export const crowdstrikeConnector = defineSubActionConnector({
  id: CONNECTOR_ID,
  name: CONNECTOR_NAME,
  minimumLicenseRequired: 'enterprise',
  supportedFeatureIds: ['endpointSecurity'],
  subFeature: 'endpointSecurity',
  // Kibana asks the extra sub-actions privilege for every HTTP run but this one.
  readOnlySubActions: ['getAgentDetails'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: {
    config: urlAllowListValidator('url'),
  },
  subActionNames: SUB_ACTIONS,
  subActions: {
    getAgentDetails: subAction<C, S, typeof GetAgentsParamsSchema>(
      GetAgentsParamsSchema,
      service.getAgentDetails,
    ),
    hostActions: subAction<C, S, typeof HostActionsParamsSchema>(
      HostActionsParamsSchema,
      service.hostActions,
    ),
    getAgentOnlineStatus: subAction<C, S, typeof GetAgentsParamsSchema>(
      GetAgentsParamsSchema,
      service.getAgentOnlineStatus,
    ),
    executeRTRCommand: subAction<C, S, typeof RTRCommandParamsSchema>(
      RTRCommandParamsSchema,
      service.executeRTRCommand,
    ),
    batchActiveResponderExecuteRTR: subAction<C, S, typeof RTRCommandParamsSchema>(
      RTRCommandParamsSchema,
      service.batchActiveResponderExecuteRTR,
    ),
    batchAdminExecuteRTR: subAction<C, S, typeof RTRCommandParamsSchema>(
      RTRCommandParamsSchema,
      service.batchAdminExecuteRTR,
    ),
    // Kibana takes any params here and sends none.
    getRTRCloudScripts: subAction<C, S, undefined>(undefined, (ctx) =>
      service.getRTRCloudScripts(ctx),
    ),
  },
});
