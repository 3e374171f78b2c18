import { apiUrlRule } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import { checkCredentials } from './credentials.js';
import {
  type Config,
  ConfigSchema,
  InvokeAIParamsSchema,
  RunParamsSchema,
  type Secrets,
  SecretsSchema,
} from './schema.js';
import { invokeAI, invokeAIRaw, invokeStream, runApi } from './service.js';

/**
 * `.gemini`: Google Gemini on Vertex AI, authorised with a service-account key.
 * Kibana's `getDashboard` (a saved-objects dashboard) has no meaning here and is not registered.
 */

const SUB_ACTIONS = ['run', 'test', 'invokeAI', 'invokeAIRaw', 'invokeStream'] as const;

const run = subAction<Config, Secrets, typeof RunParamsSchema>(RunParamsSchema, runApi);
const invoke = (handler: typeof invokeAI | typeof invokeAIRaw | typeof invokeStream) =>
  subAction<Config, Secrets, typeof InvokeAIParamsSchema>(InvokeAIParamsSchema, handler);

export const geminiConnector = defineSubActionConnector({
  id: '.gemini',
  name: 'Google Gemini',
  minimumLicenseRequired: 'enterprise',
  supportedFeatureIds: [
    'generativeAIForSecurity',
    'generativeAIForSearchPlayground',
    'generativeAIForObservability',
    'workflows',
  ],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: {
    config: apiUrlRule('Google Gemini'),
    secrets: checkCredentials,
  },
  subActionNames: SUB_ACTIONS,
  subActions: {
    run,
    test: run,
    invokeAI: invoke(invokeAI),
    invokeAIRaw: invoke(invokeAIRaw),
    invokeStream: invoke(invokeStream),
  },
});
