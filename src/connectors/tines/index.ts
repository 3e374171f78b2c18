import type { Static } from '@sinclair/typebox';
import { subActionRequest, urlAllowListValidator } from '../lib/sub-action-request.js';
import type { VendorRequestError } from '../lib/vendor-request.js';
import { defineSubActionConnector, type SubActionContext, subAction } from '../sub-actions.js';
import {
  ActionResponseSchema,
  AgentsResponseSchema,
  API_MAX_RESULTS,
  ConfigSchema,
  RunParamsSchema,
  RunResponseSchema,
  SecretsSchema,
  StoriesResponseSchema,
  WebhooksParamsSchema,
} from './schema.js';

type Config = Static<typeof ConfigSchema>;
type Secrets = Static<typeof SecretsSchema>;
type Ctx = SubActionContext<Config, Secrets>;

const API_PATH = '/api/v1';
const WEBHOOK_PATH = '/webhook';
export const WEBHOOK_AGENT_TYPE = 'Agents::WebhookAgent';

type StoriesResponse = Static<typeof StoriesResponseSchema>;
type AgentsResponse = Static<typeof AgentsResponseSchema>;
type Agent = Static<typeof ActionResponseSchema>;

function errorMessage(error: VendorRequestError): string {
  if (error.response?.statusText) return `API Error: ${error.response.statusText}`;
  return `AxiosError: ${error.message}`;
}

const authHeaders = (ctx: Ctx) => ({
  'x-user-email': ctx.secrets.email,
  'x-user-token': ctx.secrets.token,
});

async function apiGet<T>(
  ctx: Ctx,
  path: string,
  responseSchema: typeof StoriesResponseSchema | typeof AgentsResponseSchema,
  params: Record<string, string | number> = {},
): Promise<T> {
  const res = await subActionRequest(
    ctx,
    {
      url: `${ctx.config.url}${API_PATH}${path}`,
      headers: authHeaders(ctx),
      params: { ...params, per_page: API_MAX_RESULTS },
      responseSchema,
    },
    errorMessage,
  );
  return res.data as T;
}

/** The path and secret of a webhook, read from Tines so stale or forged ids are caught. */
async function webhookUrlOf(ctx: Ctx, webhook: { id: unknown; storyId: unknown }) {
  const id = Number(webhook.id);
  const res = await subActionRequest(
    ctx,
    {
      url: `${ctx.config.url}${API_PATH}/actions/${id}`,
      headers: authHeaders(ctx),
      responseSchema: ActionResponseSchema,
    },
    errorMessage,
  );
  const agent = res.data as Agent;
  const matches =
    agent.type === WEBHOOK_AGENT_TYPE &&
    agent.id === id &&
    agent.story_id === Number(webhook.storyId);
  if (!matches || !agent.options.path || !agent.options.secret) {
    throw new Error(`Invalid configuration for webhook id: ${id}. Verify webhook exists in Tines.`);
  }
  return `${ctx.config.url}${WEBHOOK_PATH}/${agent.options.path}/${agent.options.secret}`;
}

const runWebhook = subAction<Config, Secrets, typeof RunParamsSchema>(
  RunParamsSchema,
  async (ctx, { webhook, webhookUrl, body }) => {
    if (!webhook && !webhookUrl) {
      throw new Error('Invalid subActionsParams: [webhook] or [webhookUrl] expected but got none');
    }
    const url = webhookUrl || (webhook ? await webhookUrlOf(ctx, webhook) : '');
    const res = await subActionRequest(
      ctx,
      { url, method: 'POST', data: body, responseSchema: RunResponseSchema },
      errorMessage,
    );
    return res.data;
  },
);

export const tinesConnector = defineSubActionConnector({
  id: '.tines',
  name: 'Tines',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema },
  validate: { config: urlAllowListValidator('url') },
  subActionNames: ['stories', 'webhooks', 'run', 'test'],
  subActions: {
    stories: subAction<Config, Secrets, undefined>(undefined, async (ctx) => {
      const data = await apiGet<StoriesResponse>(ctx, '/stories', StoriesResponseSchema);
      return {
        stories: data.stories.map(({ id, name, published }) => ({ id, name, published })),
        incompleteResponse: data.meta.pages > 1,
      };
    }),
    webhooks: subAction<Config, Secrets, typeof WebhooksParamsSchema>(
      WebhooksParamsSchema,
      async (ctx, { storyId }) => {
        const data = await apiGet<AgentsResponse>(ctx, '/agents', AgentsResponseSchema, {
          story_id: Number(storyId),
          action_type: WEBHOOK_AGENT_TYPE,
        });
        return {
          webhooks: data.agents
            .filter((agent) => agent.type === WEBHOOK_AGENT_TYPE)
            .map(({ id, name, story_id }) => ({ id, name, storyId: story_id })),
          incompleteResponse: data.meta.pages > 1,
        };
      },
    ),
    run: runWebhook,
    // The connector's test tab runs the same call.
    test: runWebhook,
  },
});
