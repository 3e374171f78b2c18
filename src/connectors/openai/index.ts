import { apiUrlRule } from '../lib/sub-action-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import {
  type ChatCompletion,
  type Config,
  ConfigSchema,
  InvokeAIParamsSchema,
  RunParamsSchema,
  type Secrets,
  SecretsSchema,
  StreamParamsSchema,
} from './schema.js';
import { chatBody, invokeAIData, runApi, streamApi } from './service.js';

/**
 * `.gen-ai`: OpenAI, Azure OpenAI and OpenAI-compatible ("Other") chat completions.
 * Kibana's `getDashboard` (a saved-objects dashboard) and `invokeAsyncIterator` (in-process
 * iterators) have no meaning over HTTP and are not registered.
 */

const PEM_TYPES = { cert: 'CERTIFICATE', key: 'PRIVATE KEY' } as const;

function checkPem(data: string | undefined, type: 'CERTIFICATE' | 'PRIVATE KEY', what: string) {
  if (data && !Buffer.from(data, 'base64').includes(`-----BEGIN ${type}-----`)) {
    throw new Error(
      `Invalid ${what} file format: The file must be a PEM-encoded certificate beginning with "-----BEGIN ${type}-----".`,
    );
  }
}

/** With certificate or key data the connector uses PKI; otherwise it needs an API key. */
export function checkSecrets(secrets: Secrets): void {
  const pki =
    ('certificateData' in secrets && secrets.certificateData) ||
    ('privateKeyData' in secrets && secrets.privateKeyData);
  if (!pki) {
    if (!secrets.apiKey)
      throw new Error('[apiKey]: expected value of type [string] but got [undefined]');
    return;
  }
  if (!('certificateData' in secrets) || !secrets.certificateData) {
    throw new Error('Certificate data must be provided for PKI');
  }
  if (!secrets.privateKeyData) throw new Error('Private key data must be provided for PKI');
  checkPem(secrets.certificateData, PEM_TYPES.cert, 'Certificate data');
  checkPem(secrets.privateKeyData, PEM_TYPES.key, 'Private key data');
  checkPem(secrets.caData, PEM_TYPES.cert, 'CA certificate data');
}

const SUB_ACTIONS = ['run', 'test', 'stream', 'invokeAI', 'invokeStream'] as const;

const run = subAction<Config, Secrets, typeof RunParamsSchema>(RunParamsSchema, (ctx, params) =>
  runApi(ctx, params),
);

export const openAIConnector = defineSubActionConnector({
  id: '.gen-ai',
  name: 'OpenAI',
  minimumLicenseRequired: 'enterprise',
  supportedFeatureIds: [
    'generativeAIForSecurity',
    'generativeAIForObservability',
    'generativeAIForSearchPlayground',
  ],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: {
    config: apiUrlRule('OpenAI'),
    secrets: checkSecrets,
  },
  subActionNames: SUB_ACTIONS,
  subActions: {
    run,
    test: run,
    stream: subAction<Config, Secrets, typeof StreamParamsSchema>(
      StreamParamsSchema,
      (ctx, params) => streamApi(ctx, params),
    ),
    invokeAI: subAction<Config, Secrets, typeof InvokeAIParamsSchema>(
      InvokeAIParamsSchema,
      async (ctx, params) => {
        const completion = await runApi(ctx, { body: chatBody(params), timeout: params.timeout });
        return invokeAIData(completion as ChatCompletion);
      },
    ),
    invokeStream: subAction<Config, Secrets, typeof InvokeAIParamsSchema>(
      InvokeAIParamsSchema,
      (ctx, params) =>
        streamApi(ctx, { body: chatBody(params), stream: true, timeout: params.timeout }),
    ),
  },
});
