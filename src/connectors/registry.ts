import { bedrockConnector } from './bedrock/index.js';
import { casesWebhookConnector } from './cases_webhook/index.js';
import { crowdstrikeConnector } from './crowdstrike/index.js';
import { d3SecurityConnector } from './d3security/index.js';
import { emailConnector } from './email/index.js';
import { indexConnector } from './es_index/index.js';
import { geminiConnector } from './gemini/index.js';
import { jiraConnector } from './jira/index.js';
import { microsoftDefenderEndpointConnector } from './microsoft_defender_endpoint/index.js';
import { openAIConnector } from './openai/index.js';
import { opsgenieConnector } from './opsgenie/index.js';
import { pagerDutyConnector } from './pagerduty/index.js';
import { resilientConnector } from './resilient/index.js';
import { sentinelOneConnector } from './sentinelone/index.js';
import { serverLogConnector } from './server_log/index.js';
import { serviceNowItomConnector } from './servicenow_itom/index.js';
import { serviceNowItsmConnector } from './servicenow_itsm/index.js';
import { serviceNowSirConnector } from './servicenow_sir/index.js';
import { slackConnector } from './slack/index.js';
import { slackApiConnector } from './slack_api/index.js';
import { swimlaneConnector } from './swimlane/index.js';
import { teamsConnector } from './teams/index.js';
import { theHiveConnector } from './thehive/index.js';
import { tinesConnector } from './tines/index.js';
import { torqConnector } from './torq/index.js';
import type { AnyConnectorType } from './types.js';
import { webhookConnector } from './webhook/index.js';
import { xmattersConnector } from './xmatters/index.js';
import { xsoarConnector } from './xsoar/index.js';

/**
 * Every connector type the server knows, in Kibana's registration order, which is the order
 * GET /api/actions/connector_types lists them in. Adding a type is one import and one line here.
 */
export const CONNECTOR_TYPES: readonly AnyConnectorType[] = [
  emailConnector,
  indexConnector,
  pagerDutyConnector,
  swimlaneConnector,
  serverLogConnector,
  slackConnector,
  slackApiConnector,
  webhookConnector,
  casesWebhookConnector,
  xmattersConnector,
  serviceNowItsmConnector,
  serviceNowSirConnector,
  serviceNowItomConnector,
  jiraConnector,
  teamsConnector,
  torqConnector,
  opsgenieConnector,
  tinesConnector,
  openAIConnector,
  bedrockConnector,
  geminiConnector,
  d3SecurityConnector,
  resilientConnector,
  theHiveConnector,
  xsoarConnector,
  sentinelOneConnector,
  crowdstrikeConnector,
  microsoftDefenderEndpointConnector,
];

export class ConnectorTypeRegistry {
  private readonly byId: ReadonlyMap<string, AnyConnectorType>;
  private readonly enabledAll: boolean;
  private readonly enabled: ReadonlySet<string>;

  constructor(types: readonly AnyConnectorType[], enabledActionTypes: readonly string[]) {
    this.byId = new Map(types.map((t) => [t.id, t]));
    this.enabledAll = enabledActionTypes.includes('*');
    this.enabled = new Set(enabledActionTypes);
  }

  get(id: string): AnyConnectorType | undefined {
    return this.byId.get(id);
  }

  list(): AnyConnectorType[] {
    return [...this.byId.values()];
  }

  /** xpack.actions.enabledActionTypes. */
  isEnabledInConfig(id: string): boolean {
    return this.enabledAll || this.enabled.has(id);
  }
}
