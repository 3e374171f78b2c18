import type { HttpMethod } from '../../http/client.js';
import {
  ENDPOINT_STYLE,
  type ResponseErrorMessage,
  type SubActionRequest,
  streamData,
  subActionRequest,
  subActionStream,
} from '../lib/sub-action-request.js';
import { VendorRequestError } from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import type {
  AgentDetailsParams,
  AgentListParams,
  CancelParams,
  Config,
  GetActionResultsParams,
  GetActionsParams,
  IsolateHostParams,
  RunScriptParams,
  Secrets,
} from './schema.js';

/**
 * Microsoft Defender for Endpoint's API, reached with an Entra ID client-credentials token
 * (cached for this connector in this space, renewed once when the API answers 401).
 */

type Ctx = SubActionContext<Config, Secrets>;

/** Entra ID tokens last about an hour; the answer's expires_in says exactly: https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow#get-a-token */
const DEFAULT_TOKEN_LIFETIME_S = 3599;
/** A token is renewed this long before it expires, so it never expires in flight. */
const TOKEN_SAFETY_MARGIN_MS = 5_000;
/** The page Kibana asks for when none is given. */
const DEFAULT_PAGE_SIZE = 20;
/** Live response needs an argument; Kibana sends this one when the caller gives none. */
const NO_ARGS = '--noargs';
/** The machine id Kibana's connector test aims at; Defender answers it with ResourceNotFound. */
const TEST_MACHINE_ID = 'elastic-connector-test';

function urls(ctx: Ctx) {
  const api = ctx.config.apiUrl;
  return {
    machines: `${api}/api/machines`,
    machineActions: `${api}/api/machineactions`,
    libraryFiles: `${api}/api/libraryfiles`,
  };
}

/** Entra ID's token endpoint for the tenant, on the configured login host. */
export function tokenUrl(config: Config): string {
  const url = new URL(config.oAuthServerUrl);
  url.pathname = `/${config.tenantId}/oauth2/v2.0/token`;
  return url.toString();
}

/** Kibana's description of a failed Defender call, naming the call and quoting the answer. */
export const describeFailure: ResponseErrorMessage = (failure) => {
  const response = failure.response;
  const withContext = (message: string) =>
    `${message}\nURL called:[${response?.method}] ${response?.url}\nResponse body: ${JSON.stringify(
      response?.data ?? {},
    )}`;
  if (response === undefined) return withContext(failure.message || 'Unknown API Error');
  const error = (response.data as { error?: unknown } | undefined)?.error;
  if (typeof error === 'object' && error !== null) {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (code === 'ActiveRequestAlreadyExists') {
      return `${String(message)}. Please wait or force clear with 'cancel' response action`;
    }
  }
  if (response.status === 401) return withContext('Unauthorized API Error (401)');
  return withContext(`API Error: [${response.statusText}] ${failure.message}`);
};

function call(ctx: Ctx, req: SubActionRequest) {
  return subActionRequest(ctx, req, describeFailure, ENDPOINT_STYLE);
}

async function fetchToken(ctx: Ctx): Promise<string> {
  const requestedAt = Date.now();
  const res = await call(ctx, {
    url: tokenUrl(ctx.config),
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    data: {
      grant_type: 'client_credentials',
      client_id: ctx.config.clientId,
      scope: ctx.config.oAuthScope,
      client_secret: ctx.secrets.clientSecret,
    },
  });
  const answer = res.data as { access_token?: unknown; expires_in?: unknown } | undefined;
  const token = answer?.access_token;
  if (typeof token !== 'string' || token === '') {
    throw new Error('Access token for Microsoft Defend for Endpoint not available!');
  }
  const lifetime = Number(answer?.expires_in ?? DEFAULT_TOKEN_LIFETIME_S);
  const seconds = Number.isFinite(lifetime) ? lifetime : DEFAULT_TOKEN_LIFETIME_S;
  ctx.tokens.set(token, requestedAt + seconds * 1000 - TOKEN_SAFETY_MARGIN_MS);
  return token;
}

interface ApiCall {
  url: string;
  method?: HttpMethod;
  params?: Record<string, unknown>;
  data?: unknown;
}

async function callApi(ctx: Ctx, api: ApiCall, token: string): Promise<unknown> {
  const res = await call(ctx, {
    url: api.url,
    method: api.method ?? 'GET',
    headers: { Authorization: `Bearer ${token}` },
    data: api.data,
    ...(api.params !== undefined ? { params: api.params } : {}),
  });
  return res.data;
}

/** One API call with the cached token; a 401 (e.g. rotated credentials) is retried once anew. */
async function fetchFromMicrosoft(ctx: Ctx, call: ApiCall): Promise<unknown> {
  const token = ctx.tokens.get()?.token ?? (await fetchToken(ctx));
  try {
    return await callApi(ctx, call, token);
  } catch (err) {
    if (!(err instanceof VendorRequestError) || err.status !== 401) throw err;
    ctx.log.debug('Defender answered 401; renewing the access token and trying again');
    ctx.tokens.delete();
    return callApi(ctx, call, await fetchToken(ctx));
  }
}

interface ODataOptions {
  filter: Record<string, unknown>;
  page?: number | undefined;
  pageSize?: number | undefined;
  sortField?: string | undefined;
  sortDirection?: string | undefined;
}

function quoted(value: unknown): string {
  return `'${String(value)}'`;
}

/** The OData query Kibana builds: a count, a page, an order and `eq`/`in` filters joined by AND. */
export function odataParams({
  filter,
  page = 1,
  pageSize = DEFAULT_PAGE_SIZE,
  sortField = '',
  sortDirection = 'desc',
}: ODataOptions): Record<string, unknown> {
  const params: Record<string, unknown> = { $count: true };
  if (pageSize) params.$top = pageSize;
  if (page > 1) params.$skip = page * pageSize - pageSize;
  if (sortField) params.$orderby = `${sortField} ${sortDirection}`;
  const clauses = Object.entries(filter).map(([key, value]) =>
    Array.isArray(value)
      ? `${key} in (${value.map(quoted).join(',')})`
      : `${key} eq ${quoted(value)}`,
  );
  if (clauses.length > 0) params.$filter = clauses.join(' AND ');
  return params;
}

function withPaging(answer: unknown, page: number, pageSize: number) {
  const body = (answer ?? {}) as Record<string, unknown>;
  return { ...body, page, pageSize, total: body['@odata.count'] ?? -1 };
}

export function getAgentDetails(ctx: Ctx, { id }: AgentDetailsParams) {
  return fetchFromMicrosoft(ctx, { url: `${urls(ctx).machines}/${id}` });
}

export async function getAgentList(ctx: Ctx, params: AgentListParams) {
  const { page = 1, pageSize = DEFAULT_PAGE_SIZE, ...filter } = params;
  const answer = await fetchFromMicrosoft(ctx, {
    url: urls(ctx).machines,
    params: odataParams({ filter, page, pageSize }),
  });
  return withPaging(answer, page, pageSize);
}

export function isolateHost(ctx: Ctx, { id, comment }: IsolateHostParams) {
  return fetchFromMicrosoft(ctx, {
    url: `${urls(ctx).machines}/${id}/isolate`,
    method: 'POST',
    data: { Comment: comment, IsolationType: 'Full' },
  });
}

export function releaseHost(ctx: Ctx, { id, comment }: IsolateHostParams) {
  return fetchFromMicrosoft(ctx, {
    url: `${urls(ctx).machines}/${id}/unisolate`,
    method: 'POST',
    data: { Comment: comment },
  });
}

export function runScript(ctx: Ctx, { id, comment, parameters }: RunScriptParams) {
  return fetchFromMicrosoft(ctx, {
    url: `${urls(ctx).machines}/${id}/runliveresponse`,
    method: 'POST',
    data: {
      Comment: comment,
      Commands: [
        {
          type: 'RunScript',
          params: [
            { key: 'ScriptName', value: parameters.scriptName },
            { key: 'Args', value: parameters.args || NO_ARGS },
          ],
        },
      ],
    },
  });
}

export function cancelAction(ctx: Ctx, { actionId, comment }: CancelParams) {
  return fetchFromMicrosoft(ctx, {
    url: `${urls(ctx).machineActions}/${actionId}/cancel`,
    method: 'POST',
    data: { Comment: comment },
  });
}

export async function getActions(ctx: Ctx, params: GetActionsParams) {
  const {
    page = 1,
    pageSize = DEFAULT_PAGE_SIZE,
    sortField,
    sortDirection = 'desc',
    ...filter
  } = params;
  const answer = await fetchFromMicrosoft(ctx, {
    url: urls(ctx).machineActions,
    params: odataParams({ filter, page, pageSize, sortField, sortDirection }),
  });
  return withPaging(answer, page, pageSize);
}

export async function getActionResults(ctx: Ctx, { id }: GetActionResultsParams) {
  // Kibana downloads the first command's result.
  const link = (await fetchFromMicrosoft(ctx, {
    url: `${urls(ctx).machineActions}/${id}/GetLiveResponseResultDownloadLink(index=0)`,
  })) as { value?: unknown } | undefined;
  const fileUrl = link?.value;
  if (typeof fileUrl !== 'string' || fileUrl === '') {
    throw new Error(`Download URL for script results of machineId [${id}] not found`);
  }
  // The link is a pre-signed storage URL: it is fetched as given, without the bearer token.
  const res = await subActionStream(
    ctx,
    { url: fileUrl, method: 'GET' },
    describeFailure,
    ENDPOINT_STYLE,
  );
  return streamData(res);
}

export function getLibraryFiles(ctx: Ctx) {
  return fetchFromMicrosoft(ctx, { url: urls(ctx).libraryFiles });
}

/**
 * Calls each API the connector needs with a machine that does not exist: a ResourceNotFound
 * answer proves access as well as a success does; any other failure stops the test.
 */
export async function testConnector(ctx: Ctx) {
  const results: string[] = [];
  const step = async (call: () => Promise<unknown>, success: string) => {
    try {
      await call();
    } catch (err) {
      if (!(err as Error).message.includes('ResourceNotFound')) throw err;
    }
    results.push(success);
  };
  const comment = 'connector test';
  await step(
    () => getAgentDetails(ctx, { id: TEST_MACHINE_ID }),
    'API call to Machines API was successful',
  );
  await step(
    () => isolateHost(ctx, { id: TEST_MACHINE_ID, comment }),
    'API call to Machine Isolate was successful',
  );
  await step(
    () => releaseHost(ctx, { id: TEST_MACHINE_ID, comment }),
    'API call to Machine Release was successful',
  );
  await step(() => getActions(ctx, { pageSize: 1 }), 'API call to Machine Actions was successful');
  await step(
    () => runScript(ctx, { id: TEST_MACHINE_ID, comment, parameters: { scriptName: 'test' } }),
    'API call to Machine RunScript was successful',
  );
  return { results };
}
