import { urlAllowListValidator } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  ConfigSchema,
  RunParamsSchema,
  SecretsSchema,
  type XsoarConfig,
  type XsoarSecrets,
} from './schema.js';
import { XsoarService } from './service.js';

/** Palo Alto Cortex XSOAR: list playbooks, and create incidents that may run one. */

const SUB_ACTIONS = ['getPlaybooks', 'run'] as const;

export const xsoarConnector = defineSubActionConnector({
  id: '.xsoar',
  name: 'XSOAR',
  minimumLicenseRequired: 'platinum',
  supportedFeatureIds: ['siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: { config: urlAllowListValidator('url') },
  subActionNames: SUB_ACTIONS,
  subActions: {
    // Kibana registers getPlaybooks without a params schema: whatever is given is ignored.
    getPlaybooks: subAction<XsoarConfig, XsoarSecrets, undefined>(undefined, (ctx) =>
      new XsoarService(ctx).getPlaybooks(),
    ),
    run: subAction<XsoarConfig, XsoarSecrets, typeof RunParamsSchema>(
      RunParamsSchema,
      (ctx, params) => new XsoarService(ctx).run(params),
    ),
  },
});
