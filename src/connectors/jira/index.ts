import { asRecord } from '../lib/extra_fields.js';
import { runSubAction, type SubActionTable } from '../lib/sub_action_table.js';
import { ensureUrlAllowed, URL_NOT_ALLOWED } from '../lib/vendor-request.js';
import { ok } from '../result.js';
import { defineConnector, type ExecuteContext } from '../types.js';
import {
  ConfigSchema,
  type JiraConfig,
  type JiraParams,
  type JiraSecrets,
  ParamsSchema,
  SecretsSchema,
} from './schema.js';
import { createJiraService, JIRA_NAME, type JiraService, type PushedIssue } from './service.js';

interface JiraRun {
  service: JiraService;
  ctx: ExecuteContext<JiraConfig, JiraSecrets, JiraParams>;
}

type PushParams = Extract<JiraParams, { subAction: 'pushToService' }>['subActionParams'];

async function pushToService({ service, ctx }: JiraRun, params: PushParams) {
  const { externalId, otherFields, ...rest } = params.incident;
  const incident = { ...rest, otherFields: asRecord(otherFields) };
  const pushed: PushedIssue & { comments?: Array<{ commentId: string; pushedDate: string }> } =
    externalId != null
      ? await service.updateIncident(externalId, incident)
      : await service.createIncident(incident);
  if (params.comments && params.comments.length > 0) {
    pushed.comments = [];
    for (const comment of params.comments) {
      if (!comment.comment) continue;
      pushed.comments.push(await service.createComment(pushed.id, comment));
    }
  }
  ctx.log.debug(`response push to service for incident id: ${pushed.id}`);
  return pushed;
}

const handlers = {
  getFields: ({ service }) => service.getFields(),
  getIncident: ({ service }, params) => service.getIncident(params.externalId),
  handshake: async () => {
    throw new Error('[Action][ExternalService] subAction handshake not implemented.');
  },
  pushToService,
  issueTypes: ({ service }) => service.getIssueTypes(),
  fieldsByIssueType: ({ service }, params) => service.getFieldsByIssueType(params.id),
  issues: ({ service }, params) => service.getIssues(params.title),
  issue: ({ service }, params) => service.getIssue(params.id),
} satisfies SubActionTable<JiraParams, JiraRun>;

export const jiraConnector = defineConnector({
  id: '.jira',
  name: JIRA_NAME,
  minimumLicenseRequired: 'gold',
  supportedFeatureIds: ['alerting', 'cases', 'uptime', 'siem', 'workflows'],
  schema: { config: ConfigSchema, secrets: SecretsSchema, params: ParamsSchema },
  validate: {
    config: (config, env) => ensureUrlAllowed(env, config.apiUrl, URL_NOT_ALLOWED.configuring),
  },
  async execute(ctx) {
    const service = createJiraService(ctx.http, ctx.config, ctx.secrets);
    const data = await runSubAction(handlers, { service, ctx }, ctx.params);
    return ok(data ?? {});
  },
});
