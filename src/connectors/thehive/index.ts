import { urlAllowListValidator } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  ConfigSchema,
  CreateAlertParamsSchema,
  PushToServiceParamsSchema,
  SecretsSchema,
  type TheHiveConfig,
  type TheHiveSecrets,
} from './schema.js';
import { TheHiveService } from './service.js';

/** TheHive (v5 API): cases through pushToService, and alerts. */

const SUB_ACTIONS = ['pushToService', 'createAlert'] as const;

export const theHiveConnector = defineSubActionConnector({
  id: '.thehive',
  name: 'TheHive',
  minimumLicenseRequired: 'platinum',
  supportedFeatureIds: ['alerting', 'siem', 'uptime', 'cases', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: { config: urlAllowListValidator('url') },
  subActionNames: SUB_ACTIONS,
  subActions: {
    pushToService: subAction<TheHiveConfig, TheHiveSecrets, typeof PushToServiceParamsSchema>(
      PushToServiceParamsSchema,
      (ctx, params) => new TheHiveService(ctx).pushToService(params),
    ),
    createAlert: subAction<TheHiveConfig, TheHiveSecrets, typeof CreateAlertParamsSchema>(
      CreateAlertParamsSchema,
      (ctx, params) => new TheHiveService(ctx).createAlert(params),
    ),
  },
});
