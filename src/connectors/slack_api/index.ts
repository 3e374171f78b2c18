import { ensureUrlAllowed } from '../lib/vendor-request.js';
import type { ConnectorEnv, ConnectorResult } from '../types.js';
import { defineConnector } from '../types.js';
import {
  ConfigSchema,
  ParamsSchema,
  SecretsSchema,
  type SlackApiSubAction,
  type SubActionParamsOf,
} from './schema.js';
import { SLACK_API_CONNECTOR_ID, SLACK_API_DEFAULT_URL, SlackApiService } from './service.js';

type Handler<N extends SlackApiSubAction> = (
  service: SlackApiService,
  params: SubActionParamsOf<N>,
) => Promise<ConnectorResult>;

const HANDLERS: { [N in SlackApiSubAction]: Handler<N> } = {
  validChannelId: (s, p) => s.validChannelId(p),
  postMessage: (s, p) => s.postMessage(p),
  postBlockkit: (s, p) => s.postBlockkit(p),
  getConversationsList: (s, p) => s.getConversationsList(p),
  getConversationsHistory: (s, p) => s.getConversationsHistory(p),
  getConversationsReplies: (s, p) => s.getConversationsReplies(p),
  getUsersList: (s, p) => s.getUsersList(p),
  getChannelDigest: (s, p) => s.getChannelDigest(p),
};

/** Kibana checks the Web API URL, not anything the user typed, against the allowed hosts. */
function validateSecrets(_secrets: unknown, env: ConnectorEnv): void {
  const url = env.baseUrl(SLACK_API_CONNECTOR_ID, SLACK_API_DEFAULT_URL);
  ensureUrlAllowed(env, url, 'error configuring slack action: ');
}

export const slackApiConnector = defineConnector({
  id: SLACK_API_CONNECTOR_ID,
  name: 'Slack API',
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['uptime', 'alerting', 'siem'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: { secrets: validateSecrets },
  async execute(ctx) {
    const { subAction, subActionParams } = ctx.params;
    // Each handler takes its own sub-action's params; the schema has already paired them.
    const handler = HANDLERS[subAction] as Handler<SlackApiSubAction>;
    return handler(new SlackApiService(ctx), subActionParams);
  },
});
