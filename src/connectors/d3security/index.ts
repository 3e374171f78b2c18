import type { Static } from '@sinclair/typebox';
import { subActionRequest, urlAllowListValidator } from '../lib/sub-action-request.js';
import type { VendorRequestError } from '../lib/vendor-request.js';
import { defineSubActionConnector, subAction } from '../sub-actions.js';
import { ConfigSchema, RunParamsSchema, RunResponseSchema, SecretsSchema } from './schema.js';

type Config = Static<typeof ConfigSchema>;
type Secrets = Static<typeof SecretsSchema>;

function errorMessage(error: VendorRequestError): string {
  const response = error.response;
  if (!response?.status) return 'Unknown API Error';
  if (response.status === 401) return 'Unauthorized API Error';
  return `API Error: ${response.status} - ${response.statusText}`;
}

/**
 * The event D3 ingests, shaped like an Elasticsearch hit: the body (as JSON when it is JSON,
 * else as text) with the event type and severity beside it.
 */
export function d3Event(body: string, severity: string, eventType: string): string {
  let rawData: unknown = body;
  try {
    rawData = JSON.parse(body);
  } catch {
    // not JSON: sent as text
  }
  return JSON.stringify({
    hits: {
      hits: {
        _source: { rawData, 'event.type': eventType, 'kibana.alert.severity': severity },
      },
    },
  });
}

const runApi = subAction<Config, Secrets, typeof RunParamsSchema>(
  RunParamsSchema,
  async (ctx, { body, severity, eventType }) => {
    const res = await subActionRequest(
      ctx,
      {
        url: ctx.config.url,
        method: 'POST',
        data: d3Event(body ?? '', severity ?? '', eventType ?? ''),
        headers: { d3key: ctx.secrets.token || '' },
        responseSchema: RunResponseSchema,
      },
      errorMessage,
    );
    return res.data;
  },
);

export const d3SecurityConnector = defineSubActionConnector({
  id: '.d3security',
  name: 'D3 Security',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: { config: urlAllowListValidator('url') },
  subActionNames: ['run', 'test'],
  subActions: { run: runApi, test: runApi },
});
