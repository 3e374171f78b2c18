import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { HttpMethod } from '../../../http/client.js';
import type { ConnectorTokenScope } from '../../tokens.js';
import type { ConnectorHttp, ErrorSource } from '../../types.js';
import {
  actionErrorMessage,
  isPlainRecord,
  retryAtRetryAfter,
  VendorRequestError,
  type VendorResponse,
  vendorRequest,
  withoutTrailingSlash,
} from '../vendor-request.js';
import { FIELD_PREFIX, SERVICENOW_NAME, type ServiceNowProduct } from './config.js';
import { getAccessToken } from './oauth.js';
import type { ServiceNowConfig, ServiceNowSecrets } from './schema.js';

/**
 * A ServiceNow instance as Kibana's ServiceNow connectors use it: the Table API, or the Elastic
 * ServiceNow application (import set API + health check) for connectors that do not use the
 * legacy Table API; basic auth or OAuth (JWT bearer grant). Every failure is thrown as
 * `[Action][ServiceNow]: <what failed>. Error: <cause> Reason: <ServiceNow's words>
 * [status=..] [method=..] [endpoint=..]`, the same error object gaining each outer context.
 */

type Endpoint = 'table' | 'import_set' | 'health' | 'other';
export interface RequestContext {
  endpoint: Endpoint;
  method?: 'get' | 'post' | 'patch';
}

const TABLE_GET: RequestContext = { endpoint: 'table', method: 'get' };
const HEALTH_GET: RequestContext = { endpoint: 'health', method: 'get' };

/** A well-formed answer that reports a failure (the import set API does so with a 2xx). */
export class ServiceNowApiError extends Error {
  readonly status: number;
  readonly body: unknown;
  readonly errorSource: ErrorSource = 'user';
  constructor(message: string, status: number, body: unknown) {
    super(message);
    this.name = 'ServiceNowApiError';
    this.status = status;
    this.body = body;
  }
}

interface Describable {
  message: string;
  code?: string;
  response?: VendorResponse;
  status?: number;
}

/** ServiceNow's `{error: {message, detail}}`, an OAuth error in the message, or the message. */
function describe(error: Describable): { error: string; reason: string } {
  const data = error.response?.data;
  if (data) {
    const snError = isPlainRecord(data) && isPlainRecord(data.error) ? data.error : undefined;
    const message = snError?.message;
    const detail = snError?.detail;
    const reason = message
      ? detail
        ? `${String(message)}: ${String(detail)}`
        : String(message)
      : 'unknown: no error in error response';
    return { error: error.message, reason };
  }
  if (error.message) {
    try {
      const parsed = JSON.parse(error.message) as unknown;
      if (isPlainRecord(parsed) && typeof parsed.error === 'string') {
        const description = parsed.error_description;
        return { error: parsed.error, reason: description ? String(description) : '' };
      }
    } catch {
      // not an OAuth error
    }
    return { error: error.message, reason: '' };
  }
  return { error: '', reason: '' };
}

/**
 * Puts Kibana's context around a failure: the same error, message rewritten (a vendor failure
 * keeps its answer, so an outer context describes it again; an answer too large to read is the
 * user's to fix; the vendor's Retry-After moment is kept).
 */
export function addServiceMessage(
  failure: unknown,
  message: string,
  context?: RequestContext,
): Error {
  const error = (failure instanceof Error ? failure : new Error(String(failure))) as Error &
    Describable;
  const { error: errorPart, reason } = describe(error);
  const parts = [`${message}.`, 'Error:', errorPart];
  if (reason) parts.push('Reason:', reason);
  if (context !== undefined) {
    const status =
      error.response?.status ??
      (error instanceof ServiceNowApiError ? error.status : undefined) ??
      error.code ??
      'none';
    parts.push(`[status=${status}]`);
    if (context.method !== undefined) parts.push(`[method=${context.method}]`);
    parts.push(`[endpoint=${context.endpoint}]`);
  }
  const text = actionErrorMessage(SERVICENOW_NAME, parts.join(' '));
  if (error instanceof VendorRequestError) {
    return error.reworded(text, {
      errorSource: error.tooLarge ? 'user' : error.errorSource,
      retry: retryAtRetryAfter(error),
    });
  }
  error.message = text;
  return error;
}

export async function guarded<T>(
  message: string,
  context: RequestContext | undefined,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw addServiceMessage(err, message, context);
  }
}

/** ServiceNow dates are `YYYY-MM-DD HH:mm:ss` in GMT. */
export function pushedDate(timestamp: unknown): string {
  if (timestamp != null) return new Date(`${String(timestamp)} GMT`).toISOString();
  return new Date().toISOString();
}

export interface PushedIncident {
  title: unknown;
  id: unknown;
  pushedDate: string;
  url: string;
}

export type Incident = Record<string, unknown> & {
  additional_fields?: Record<string, unknown> | null;
};

export interface ServiceNowRunContext {
  http: ConnectorHttp;
  tokens: ConnectorTokenScope;
  log: Logger;
  connectorId: string;
  config: ServiceNowConfig;
  secrets: ServiceNowSecrets;
}

export function createServiceNowService(run: ServiceNowRunContext, product: ServiceNowProduct) {
  const { config, secrets } = run;
  const { apiUrl, isOAuth, clientId, jwtKeyId, userIdentifierValue } = config;
  const { username, password, clientSecret, privateKey } = secrets;
  if (
    !apiUrl ||
    (!isOAuth && (!username || !password)) ||
    (isOAuth && (!clientSecret || !privateKey || !clientId || !jwtKeyId || !userIdentifierValue))
  ) {
    throw new Error(`[Action]${SERVICENOW_NAME}: Wrong configuration.`);
  }
  const base = withoutTrailingSlash(apiUrl);
  const tableUrl = `${base}/api/now/v2/table/${product.table}`;
  const importSetUrl = `${base}/api/now/import/${product.importSetTable}`;
  const fieldsUrl = `${base}/api/now/table/sys_dictionary?sysparm_query=name=task^ORname=${product.table}^internal_type=string&active=true&array=false&read_only=false&sysparm_fields=max_length,element,column_label,mandatory`;
  const choicesUrl = `${base}/api/now/table/sys_choice`;
  const healthUrl = `${base}/api/${product.appScope}/elastic_api/health`;
  const useTableApi = !product.useImportAPI || config.usesTableApi === true;
  const updateContext: RequestContext = {
    endpoint: useTableApi ? 'table' : 'import_set',
    method: useTableApi ? 'patch' : 'post',
  };

  const authorization = async (): Promise<string> => {
    const token = await getAccessToken(run.http, run.tokens, {
      tokenUrl: `${base}/oauth_token.do`,
      clientId: clientId ?? '',
      clientSecret: clientSecret ?? '',
      userIdentifierValue: userIdentifierValue ?? '',
      jwtKeyId: jwtKeyId ?? '',
      privateKey: privateKey ?? '',
      privateKeyPassword: secrets.privateKeyPassword || null,
    });
    if (!token)
      throw new Error(`Unable to retrieve access token for connectorId: ${run.connectorId}`);
    return token;
  };

  const request = async (method: HttpMethod, url: string, json?: unknown) => {
    const basic = !isOAuth && username && password ? { username, password } : undefined;
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (basic === undefined) headers.Authorization = await authorization();
    try {
      return await vendorRequest(run.http, {
        url,
        method,
        headers,
        ...(basic !== undefined ? { auth: basic } : {}),
        data: json,
      });
    } catch (err) {
      // A 4xx may mean the token went stale; Kibana forgets it to be sure.
      const status = err instanceof VendorRequestError ? err.status : undefined;
      if (basic === undefined && status !== undefined && status >= 400 && status < 500) {
        run.tokens.delete();
      }
      throw err;
    }
  };

  const resultOf = (res: VendorResponse): unknown =>
    isPlainRecord(res.data) ? res.data.result : undefined;

  const checkInstance = (res: VendorResponse) => {
    if (res.status >= 200 && res.status < 400 && resultOf(res) == null) {
      const { protocol, hostname } = new URL(res.url);
      const servername = protocol === 'https:' && isIP(hostname) === 0 ? hostname : '';
      throw new Error(
        `There is an issue with your Service Now Instance. Please check ${servername}.`,
      );
    }
  };

  const throwIfImportSetError = (res: VendorResponse) => {
    const result = resultOf(res);
    const first = Array.isArray(result) ? (result[0] as unknown) : undefined;
    if (first === undefined)
      throw new ServiceNowApiError('Unexpected result', res.status, res.data);
    if (isPlainRecord(first) && first.status === 'error') {
      throw new ServiceNowApiError(String(first.error_message), res.status, res.data);
    }
  };

  const sysIdOf = (res: VendorResponse): string => {
    const result = resultOf(res);
    const record = useTableApi ? result : Array.isArray(result) ? result[0] : undefined;
    return String(isPlainRecord(record) ? record.sys_id : undefined);
  };

  const viewUrl = (id: unknown) => `${base}/nav_to.do?uri=${product.table}.do?sys_id=${String(id)}`;

  const throwIfAdditionalFieldsNotSupported = (incident: Incident) => {
    if (useTableApi && incident.additional_fields) {
      throw new VendorRequestError(
        'ServiceNow additional fields are not supported for deprecated connectors.',
        { code: '400' },
      );
    }
  };

  /** Import set rows name the incident fields `u_<field>`; additional fields go as they are. */
  const prepareIncident = (incident: Incident): Record<string, unknown> => {
    const { additional_fields: additional, ...rest } = incident;
    if (useTableApi) return rest;
    const prefixed = Object.fromEntries(
      Object.entries(rest).map(([key, value]) => [`${FIELD_PREFIX}${key}`, value]),
    );
    return { ...additional, ...prefixed };
  };

  const getApplicationInformation = () =>
    guarded('Unable to get application version', HEALTH_GET, async () => {
      const res = await request('GET', healthUrl);
      checkInstance(res);
      return { ...(resultOf(res) as Record<string, unknown>) };
    });

  const checkIfApplicationIsInstalled = async () => {
    if (useTableApi) return;
    const { version, scope } = await getApplicationInformation();
    run.log.debug(
      `Create incident: Application scope: ${String(scope)}: Application version${String(version)}`,
    );
  };

  const getIncident = (id: string) =>
    guarded(`Unable to get incident with id ${id}`, TABLE_GET, async () => {
      if (id.trim() === '') throw new Error('Incident id is empty.');
      const res = await request('GET', `${tableUrl}/${id}`);
      checkInstance(res);
      return { ...(resultOf(res) as Record<string, unknown>) };
    });

  const createIncident = (incident: Incident): Promise<PushedIncident> =>
    guarded(
      'Unable to create incident',
      { endpoint: useTableApi ? 'table' : 'import_set', method: 'post' },
      async () => {
        throwIfAdditionalFieldsNotSupported(incident);
        await checkIfApplicationIsInstalled();
        const res = await request(
          'POST',
          useTableApi ? tableUrl : importSetUrl,
          prepareIncident(incident),
        );
        checkInstance(res);
        if (!useTableApi) throwIfImportSetError(res);
        const inserted = await getIncident(sysIdOf(res));
        return {
          title: inserted.number,
          id: inserted.sys_id,
          pushedDate: pushedDate(inserted.sys_created_on),
          url: viewUrl(inserted.sys_id),
        };
      },
    );

  const updateIncident = (incidentId: string, incident: Incident): Promise<PushedIncident> =>
    guarded(`Unable to update incident with id ${incidentId}`, updateContext, async () => {
      throwIfAdditionalFieldsNotSupported(incident);
      await checkIfApplicationIsInstalled();
      const res = await request(
        useTableApi ? 'PATCH' : 'POST',
        useTableApi ? `${tableUrl}/${incidentId}` : importSetUrl,
        {
          ...prepareIncident(incident),
          // The import set API finds the incident to update by this field.
          ...(useTableApi ? {} : { elastic_incident_id: incidentId }),
        },
      );
      checkInstance(res);
      if (!useTableApi) throwIfImportSetError(res);
      const updated = await getIncident(sysIdOf(res));
      return {
        title: updated.number,
        id: updated.sys_id,
        pushedDate: pushedDate(updated.sys_updated_on),
        url: viewUrl(updated.sys_id),
      };
    });

  const getIncidentByCorrelationId = (correlationId: string) =>
    guarded(`Unable to get incident by correlation ID ${correlationId}`, TABLE_GET, async () => {
      if (correlationId.trim() === '') throw new Error('Correlation ID is empty.');
      const res = await request(
        'GET',
        `${tableUrl}?sysparm_query=ORDERBYDESCsys_created_on^correlation_id=${correlationId}`,
      );
      checkInstance(res);
      const result = resultOf(res);
      const found = Array.isArray(result) ? (result[0] as unknown) : undefined;
      return isPlainRecord(found) ? found : null;
    });

  const closeIncident = async (params: {
    incidentId: string | null;
    correlationId: string | null;
  }): Promise<PushedIncident | null> => {
    const { incidentId, correlationId } = params;
    try {
      if (correlationId == null && incidentId == null) {
        throw new Error('No correlationId or incidentId found.');
      }
      let toClose: Record<string, unknown> | null = null;
      if (incidentId) toClose = await getIncident(incidentId);
      else if (correlationId) toClose = await getIncidentByCorrelationId(correlationId);
      if (toClose === null || Object.keys(toClose).length === 0) {
        run.log.warn(
          `[ServiceNow][CloseIncident] No incident found with correlation_id: ${correlationId} or incidentId: ${incidentId}.`,
        );
        return null;
      }
      if (toClose.state === '7') {
        run.log.warn(
          `[ServiceNow][CloseIncident] Incident with correlation_id: ${correlationId} or incidentId: ${incidentId} is closed.`,
        );
        return {
          title: toClose.number,
          id: toClose.sys_id,
          pushedDate: pushedDate(toClose.sys_updated_on),
          url: viewUrl(toClose.sys_id),
        };
      }
      return await updateIncident(String(toClose.sys_id), {
        state: '7',
        close_code: 'Closed/Resolved by Caller',
        close_notes: 'Closed by Caller',
      });
    } catch (err) {
      if (err instanceof VendorRequestError && err.response?.status === 404) {
        run.log.warn(
          `[ServiceNow][CloseIncident] No incident found with incidentId: ${incidentId}.`,
        );
        return null;
      }
      throw addServiceMessage(err, 'Unable to close incident', updateContext);
    }
  };

  const getFields = () =>
    guarded('Unable to get fields', TABLE_GET, async () => {
      const res = await request('GET', fieldsUrl);
      checkInstance(res);
      const result = resultOf(res);
      return Array.isArray(result) && result.length > 0 ? result : [];
    });

  const getChoices = (fields: readonly string[]) =>
    guarded('Unable to get choices', TABLE_GET, async () => {
      const elements = fields
        .slice(1)
        .reduce((acc, field) => `${acc}^ORelement=${field}`, `element=${fields[0]}`);
      const res = await request(
        'GET',
        `${choicesUrl}?sysparm_query=name=task^ORname=${product.table}^${elements}^language=en&sysparm_fields=label,value,dependent_value,element`,
      );
      checkInstance(res);
      return resultOf(res);
    });

  return {
    url: base,
    request,
    checkInstance,
    resultOf,
    checkIfApplicationIsInstalled,
    getApplicationInformation,
    getIncident,
    createIncident,
    updateIncident,
    closeIncident,
    getFields,
    getChoices,
  };
}

export type ServiceNowService = ReturnType<typeof createServiceNowService>;
