import { apiUrlRule } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  type Config,
  ConfigSchema,
  ConverseParamsSchema,
  InvokeAIParamsSchema,
  InvokeAIRawParamsSchema,
  RunParamsSchema,
  type Secrets,
  SecretsSchema,
} from './schema.js';
import {
  converse,
  converseStream,
  invokeAI,
  invokeAIRaw,
  invokeStream,
  runApi,
} from './service.js';

/**
 * `.bedrock`: Amazon Bedrock's runtime API (Anthropic Messages and Converse), SigV4-signed.
 * Kibana's `getDashboard` (a saved-objects dashboard) and `bedrockClientSend` (AWS SDK command
 * objects) have no meaning over HTTP and are not registered.
 */

const SUB_ACTIONS = [
  'run',
  'test',
  'invokeAI',
  'invokeStream',
  'invokeAIRaw',
  'converse',
  'converseStream',
] as const;

const run = subAction<Config, Secrets, typeof RunParamsSchema>(RunParamsSchema, runApi);

export const bedrockConnector = defineSubActionConnector({
  id: '.bedrock',
  name: 'Amazon Bedrock',
  minimumLicenseRequired: 'enterprise',
  supportedFeatureIds: [
    'generativeAIForSecurity',
    'generativeAIForObservability',
    'generativeAIForSearchPlayground',
    'workflows',
  ],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: { config: apiUrlRule('Amazon Bedrock') },
  subActionNames: SUB_ACTIONS,
  subActions: {
    run,
    test: run,
    invokeAI: subAction<Config, Secrets, typeof InvokeAIParamsSchema>(
      InvokeAIParamsSchema,
      invokeAI,
    ),
    invokeStream: subAction<Config, Secrets, typeof InvokeAIParamsSchema>(
      InvokeAIParamsSchema,
      invokeStream,
    ),
    invokeAIRaw: subAction<Config, Secrets, typeof InvokeAIRawParamsSchema>(
      InvokeAIRawParamsSchema,
      invokeAIRaw,
    ),
    converse: subAction<Config, Secrets, typeof ConverseParamsSchema>(
      ConverseParamsSchema,
      converse,
    ),
    converseStream: subAction<Config, Secrets, typeof ConverseParamsSchema>(
      ConverseParamsSchema,
      converseStream,
    ),
  },
});
