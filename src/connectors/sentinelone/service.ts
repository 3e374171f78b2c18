import type { Static } from '@sinclair/typebox';
import type { HttpMethod } from '../../http/client.js';
import {
  ENDPOINT_STYLE,
  type ResponseErrorMessage,
  streamData,
  subActionRequest,
  subActionStream,
} from '../lib/sub-action-request.js';
import type { SubActionContext } from '../sub-actions.js';
import {
  type AgentFilter,
  API_PATH,
  type Config,
  type DownloadAgentFileParamsSchema,
  type DownloadRemoteScriptResultsParamsSchema,
  type ExecuteScriptParamsSchema,
  type FetchAgentFilesParamsSchema,
  type GetActivitiesParamsSchema,
  type GetRemoteScriptResultsParamsSchema,
  type GetRemoteScriptStatusParamsSchema,
  type GetRemoteScriptsParamsSchema,
  type Secrets,
} from './schema.js';

/**
 * SentinelOne's management API. Every call but the script-results download carries the API
 * token as the `APIToken` query parameter (SentinelOne's documented alternative to the
 * `Authorization: ApiToken` header, and the one Kibana uses).
 */

type Ctx = SubActionContext<Config, Secrets>;

/** Kibana's description of a failed SentinelOne call, with the answer's body appended. */
export const describeFailure: ResponseErrorMessage = (error) => {
  const response = error.response;
  const withBody = (message: string) =>
    `${message}\nResponse body: ${JSON.stringify(response?.data ?? {})}`;
  if (response === undefined) return withBody(error.message || 'Unknown API Error');
  if (response.status === 401) return withBody('Unauthorized API Error (401)');
  return withBody(`API Error: [${response.statusText}] ${error.message}`);
};

function apiUrl(ctx: Ctx, path: string): string {
  return `${ctx.config.url}${API_PATH}${path}`;
}

async function apiRequest(
  ctx: Ctx,
  path: string,
  options: { method?: HttpMethod; params?: Record<string, unknown>; data?: unknown } = {},
): Promise<unknown> {
  const res = await subActionRequest(
    ctx,
    {
      url: apiUrl(ctx, path),
      method: options.method ?? 'GET',
      params: { ...options.params, APIToken: ctx.secrets.token },
      data: options.data,
    },
    describeFailure,
    ENDPOINT_STYLE,
  );
  return res.data;
}

interface AgentsAnswer {
  data?: Array<{ id?: string; networkStatus?: string }>;
}

export function getAgents(ctx: Ctx, filter: Omit<AgentFilter, 'alertIds'> | AgentFilter) {
  return apiRequest(ctx, '/agents', { params: { ...filter } });
}

/** The first agent the filter finds, which Kibana acts upon. */
async function firstAgent(ctx: Ctx, filter: AgentFilter) {
  const { alertIds: _alertIds, ...payload } = filter;
  const answer = (await getAgents(ctx, payload)) as AgentsAnswer | undefined;
  const agent = answer?.data?.[0];
  if (agent === undefined) throw new Error('No agents found');
  return agent;
}

export async function isolateHost(ctx: Ctx, filter: AgentFilter) {
  const agent = await firstAgent(ctx, filter);
  if (agent.networkStatus === 'disconnected') throw new Error('Agent already isolated');
  return apiRequest(ctx, '/agents/actions/disconnect', {
    method: 'POST',
    data: { filter: { ids: agent.id } },
  });
}

export async function releaseHost(ctx: Ctx, filter: AgentFilter) {
  const agent = await firstAgent(ctx, filter);
  if (agent.networkStatus !== 'disconnected') throw new Error('Agent not isolated');
  return apiRequest(ctx, '/agents/actions/connect', {
    method: 'POST',
    data: { filter: { ids: agent.id } },
  });
}

export function getRemoteScripts(ctx: Ctx, params: Static<typeof GetRemoteScriptsParamsSchema>) {
  return apiRequest(ctx, '/remote-scripts', { params: { ...params } });
}

export function executeScript(ctx: Ctx, params: Static<typeof ExecuteScriptParamsSchema>) {
  const { filter, script } = params;
  if (!filter.ids && !filter.uuids) {
    throw new Error(`A filter must be defined; either 'ids' or 'uuids'`);
  }
  return apiRequest(ctx, '/remote-scripts/execute', {
    method: 'POST',
    data: { data: { outputDestination: 'SentinelCloud', ...script }, filter },
  });
}

export function getRemoteScriptStatus(
  ctx: Ctx,
  params: Static<typeof GetRemoteScriptStatusParamsSchema>,
) {
  return apiRequest(ctx, '/remote-scripts/status', {
    params: { parent_task_id: params.parentTaskId },
  });
}

export function getRemoteScriptResults(
  ctx: Ctx,
  params: Static<typeof GetRemoteScriptResultsParamsSchema>,
) {
  return apiRequest(ctx, '/remote-scripts/fetch-files', {
    method: 'POST',
    data: { data: { taskIds: params.taskIds } },
  });
}

interface ScriptResultsAnswer {
  data?: { download_links?: Array<{ taskId?: string; downloadUrl?: string }> };
}

export async function downloadRemoteScriptResults(
  ctx: Ctx,
  params: Static<typeof DownloadRemoteScriptResultsParamsSchema>,
) {
  const { taskId } = params;
  const info = (await getRemoteScriptResults(ctx, { taskIds: [taskId] })) as
    | ScriptResultsAnswer
    | undefined;
  const link = info?.data?.download_links?.find((l) => l.taskId === taskId);
  if (!link?.downloadUrl) {
    throw new Error(`Download URL for script results of task id [${taskId}] not found`);
  }
  // The link is pre-signed by SentinelOne: it is fetched as given, without the API token.
  const res = await subActionStream(
    ctx,
    { url: link.downloadUrl, method: 'GET' },
    describeFailure,
    ENDPOINT_STYLE,
  );
  return streamData(res);
}

export function fetchAgentFiles(ctx: Ctx, params: Static<typeof FetchAgentFilesParamsSchema>) {
  const { agentId, zipPassCode, files } = params;
  return apiRequest(ctx, `/agents/${agentId}/actions/fetch-files`, {
    method: 'POST',
    data: { data: { password: zipPassCode, files } },
  });
}

export async function downloadAgentFile(
  ctx: Ctx,
  params: Static<typeof DownloadAgentFileParamsSchema>,
) {
  const res = await subActionStream(
    ctx,
    {
      url: apiUrl(ctx, `/agents/${params.agentId}/uploads/${params.activityId}`),
      method: 'GET',
      params: { APIToken: ctx.secrets.token },
    },
    describeFailure,
    ENDPOINT_STYLE,
  );
  return streamData(res);
}

export function getActivities(ctx: Ctx, params: Static<typeof GetActivitiesParamsSchema>) {
  return apiRequest(ctx, '/activities', { params: { ...params } });
}
