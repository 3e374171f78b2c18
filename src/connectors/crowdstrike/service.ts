import type { HttpMethod } from '../../http/client.js';
import {
  ENDPOINT_STYLE,
  type ResponseErrorMessage,
  type SubActionRequest,
  subActionRequest,
} from '../lib/sub-action-request.js';
import { basicAuthorization, VendorRequestError } from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import {
  type Config,
  type GetAgentsParams,
  type HostActionsParams,
  type RTRCommandParams,
  type Secrets,
  SUPPORTED_RTR_COMMANDS,
} from './schema.js';

/**
 * CrowdStrike Falcon's API: an OAuth2 client-credentials token (cached for this connector in this
 * space, renewed once when the API answers 401), host containment, device queries and real-time
 * response batch commands.
 */

type Ctx = SubActionContext<Config, Secrets>;

/** Tokens live 30 minutes: https://github.com/CrowdStrike/falconpy/wiki/oauth2 */
const DEFAULT_TOKEN_LIFETIME_S = 30 * 60;
/** A token is renewed this long before it expires, so it never expires in flight. */
const TOKEN_SAFETY_MARGIN_MS = 5_000;
/** Kibana forgets a batch session idle this long; CrowdStrike expires unrefreshed ones: https://github.com/crowdstrike/psfalcon/wiki/Update-FalconSession */
export const RTR_SESSION_IDLE_MS = 10 * 60 * 1000;
/** As Kibana does, a batch session in use is refreshed every 5 minutes to keep it alive. */
export const RTR_SESSION_REFRESH_MS = 5 * 60 * 1000;
const RTR_SESSION_KIND_PREFIX = 'rtr-batch:';

const PATHS = {
  token: '/oauth2/token',
  agents: '/devices/entities/devices/v2',
  agentStatus: '/devices/entities/online-state/v1',
  hostAction: '/devices/entities/devices-actions/v2',
  batchInitSession: '/real-time-response/combined/batch-init-session/v1',
  batchRefreshSession: '/real-time-response/combined/batch-refresh-session/v1',
  batchCommand: '/real-time-response/combined/batch-command/v1',
  batchActiveResponderCommand: '/real-time-response/combined/batch-active-responder-command/v1',
  batchAdminCommand: '/real-time-response/combined/batch-admin-command/v1',
  scripts: '/real-time-response/entities/scripts/v1',
} as const;

/** Kibana's description of a failed CrowdStrike call: the API's first error, else the body. */
export const describeFailure: ResponseErrorMessage = (error) => {
  const body = error.response?.data;
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  const first = Array.isArray(errors)
    ? (errors[0] as { message?: unknown } | undefined)
    : undefined;
  if (first) return String(first.message);
  const notFound = /^getaddrinfo ENOTFOUND (.+)$/.exec(error.message);
  if (notFound) return `URL not found: ${notFound[1]}`;
  const refused = /^connect ECONNREFUSED (.+)$/.exec(error.message);
  if (refused) return `Connection Refused: ${refused[1]}`;
  if (error.response === undefined) return `Unknown API Error: ${JSON.stringify(body ?? {})}`;
  return `API Error: ${JSON.stringify(body ?? {})}`;
};

/** Kibana's CrowdstrikeError keeps only the part after `Status code: <n>. Message: `. */
function crowdstrikeMessage(message: string): string {
  const match = /Status code: (\d+). Message: (.+)/.exec(message);
  return (match ? match[2] : message) || 'Unknown Crowdstrike error';
}

function asCrowdstrikeError(err: unknown): Error {
  if (err instanceof VendorRequestError) return err.reworded(crowdstrikeMessage(err.message));
  return new Error(crowdstrikeMessage((err as Error).message ?? String(err)));
}

/** `key=value` pairs with both sides URI-encoded; an array value is sent comma-joined. */
function crowdstrikeQuery(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
    .join('&');
}

function url(ctx: Ctx, path: string): string {
  return `${ctx.config.url}${path}`;
}

async function fetchToken(ctx: Ctx): Promise<string> {
  const requestedAt = Date.now();
  const res = await subActionRequest(
    ctx,
    {
      url: url(ctx, PATHS.token),
      method: 'POST',
      headers: {
        accept: 'application/json',
        'Content-Type': 'application/x-www-form-urlencoded',
        authorization: basicAuthorization(ctx.secrets.clientId, ctx.secrets.clientSecret),
      },
    },
    describeFailure,
    ENDPOINT_STYLE,
  );
  const answer = res.data as { access_token?: unknown; expires_in?: unknown } | undefined;
  const token = answer?.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new Error('Access token for CrowdStrike not available!');
  }
  const lifetime = Number(answer?.expires_in ?? DEFAULT_TOKEN_LIFETIME_S);
  const seconds = Number.isFinite(lifetime) ? lifetime : DEFAULT_TOKEN_LIFETIME_S;
  ctx.tokens.set(token, requestedAt + seconds * 1000 - TOKEN_SAFETY_MARGIN_MS);
  return token;
}

async function bearerToken(ctx: Ctx): Promise<string> {
  return ctx.tokens.get()?.token ?? fetchToken(ctx);
}

interface ApiCall {
  path: string;
  method?: HttpMethod;
  params?: Record<string, unknown>;
  data?: unknown;
}

async function callApi(ctx: Ctx, call: ApiCall, token: string): Promise<unknown> {
  const req: SubActionRequest = {
    url: url(ctx, call.path),
    method: call.method ?? 'GET',
    headers: { Authorization: `Bearer ${token}` },
    data: call.data,
  };
  if (call.params !== undefined) {
    req.params = call.params;
    req.paramsSerializer = crowdstrikeQuery;
  }
  const res = await subActionRequest(ctx, req, describeFailure, ENDPOINT_STYLE);
  return res.data;
}

/** One API call with the cached token; a 401 (token revoked or rotated) is retried once anew. */
async function apiRequest(ctx: Ctx, call: ApiCall): Promise<unknown> {
  try {
    try {
      return await callApi(ctx, call, await bearerToken(ctx));
    } catch (err) {
      if (!(err instanceof VendorRequestError) || err.status !== 401) throw err;
      if (err.response?.url.endsWith(PATHS.token)) throw err;
      ctx.tokens.delete();
      ctx.log.debug('CrowdStrike answered 401; renewing the access token and trying again');
      return await callApi(ctx, call, await fetchToken(ctx));
    }
  } catch (err) {
    throw asCrowdstrikeError(err);
  }
}

export function getAgentDetails(ctx: Ctx, params: GetAgentsParams) {
  return apiRequest(ctx, { path: PATHS.agents, params: { ids: params.ids } });
}

export function getAgentOnlineStatus(ctx: Ctx, params: GetAgentsParams) {
  return apiRequest(ctx, { path: PATHS.agentStatus, params: { ids: params.ids } });
}

export function hostActions(ctx: Ctx, params: HostActionsParams) {
  const { actionParameters, ids, command } = params;
  return apiRequest(ctx, {
    path: PATHS.hostAction,
    method: 'POST',
    params: { action_name: command },
    data: {
      ids,
      ...(actionParameters
        ? {
            action_parameters: Object.entries(actionParameters).map(([name, value]) => ({
              name,
              value,
            })),
          }
        : {}),
    },
  });
}

interface Session {
  batchId: string | undefined;
  refreshedAt: number;
}

function readSession(text: string): Session | undefined {
  try {
    const parsed = JSON.parse(text) as Session;
    return typeof parsed.refreshedAt === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The batch session for these hosts: opened on first use, refreshed when it is more than five
 * minutes old (a new one is opened when CrowdStrike no longer knows it), and forgotten after ten
 * idle minutes.
 */
async function batchSession(ctx: Ctx, hostIds: string[]): Promise<string | undefined> {
  const kind = RTR_SESSION_KIND_PREFIX + JSON.stringify([...hostIds].sort());
  const cached = ctx.tokens.get(kind);
  let session = cached === undefined ? undefined : readSession(cached.token);
  const now = Date.now();
  if (session !== undefined && now - session.refreshedAt >= RTR_SESSION_REFRESH_MS) {
    try {
      await apiRequest(ctx, {
        path: PATHS.batchRefreshSession,
        method: 'POST',
        data: { batch_id: session.batchId },
      });
      session = { ...session, refreshedAt: now };
    } catch {
      ctx.log.debug('CrowdStrike did not refresh the RTR batch session; opening a new one');
      ctx.tokens.delete(kind);
      session = undefined;
    }
  }
  if (session === undefined) {
    const answer = (await apiRequest(ctx, {
      path: PATHS.batchInitSession,
      method: 'POST',
      data: { host_ids: hostIds },
    })) as { batch_id?: unknown } | undefined;
    const batchId = typeof answer?.batch_id === 'string' ? answer.batch_id : undefined;
    session = { batchId, refreshedAt: now };
  }
  if (session.batchId !== undefined) {
    ctx.tokens.set(JSON.stringify(session), now + RTR_SESSION_IDLE_MS, kind);
  }
  return session.batchId;
}

async function runBatchCommand(ctx: Ctx, path: string, params: RTRCommandParams) {
  const batchId = await batchSession(ctx, params.endpoint_ids);
  const baseCommand = params.command.split(' ')[0] ?? '';
  if (!SUPPORTED_RTR_COMMANDS.includes(baseCommand)) throw new Error('Command not supported');
  return apiRequest(ctx, {
    path,
    method: 'POST',
    data: {
      base_command: baseCommand,
      command_string: params.command,
      batch_id: batchId,
      hosts: params.endpoint_ids,
      persist_all: false,
    },
  });
}

export function executeRTRCommand(ctx: Ctx, params: RTRCommandParams) {
  return runBatchCommand(ctx, PATHS.batchCommand, params);
}

export function batchActiveResponderExecuteRTR(ctx: Ctx, params: RTRCommandParams) {
  return runBatchCommand(ctx, PATHS.batchActiveResponderCommand, params);
}

export function batchAdminExecuteRTR(ctx: Ctx, params: RTRCommandParams) {
  return runBatchCommand(ctx, PATHS.batchAdminCommand, params);
}

export function getRTRCloudScripts(ctx: Ctx) {
  return apiRequest(ctx, { path: PATHS.scripts });
}
