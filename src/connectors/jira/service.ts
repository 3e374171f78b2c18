import type { HttpMethod } from '../../http/client.js';
import {
  actionErrorMessage,
  isPlainRecord,
  retryAtRetryAfter,
  throwIfResponseIsNotValid,
  type VendorResponse,
  vendorRequest,
  withoutTrailingSlash,
} from '../lib/vendor-request.js';
import { ConnectorError, type ConnectorHttp } from '../types.js';
import type { JiraConfig, JiraSecrets } from './schema.js';

/**
 * Jira's REST API v2 (Cloud and Data Center), as Kibana's Jira connector calls it. Every failure
 * is thrown as `[Action][Jira]: <what failed>. Error: <cause>. Reason: <Jira's own words>`.
 */

export const JIRA_NAME = 'Jira';
const API_PATH = 'rest/api/2';

/** Jira's search syntax reserves these: https://confluence.atlassian.com/jirasoftwareserver/search-syntax-for-text-fields-939938747.html */
const JQL_SPECIAL_CHARACTERS = /[-!^+&*()[\]/{}|:?~]/g;

export function escapeJqlSpecialCharacters(text: string): string {
  return text
    .replaceAll('"', '')
    .replaceAll('\\', '\\\\')
    .replaceAll("'", '\\\\')
    .replaceAll(JQL_SPECIAL_CHARACTERS, (char) => `\\\\${char}`);
}

interface JiraErrorBody {
  errorMessages?: unknown;
  errors?: unknown;
}

function reasonOf(data: unknown): string {
  if (data === undefined || data === null) return 'unknown: errorResponse was null';
  const { errorMessages, errors } = (typeof data === 'object' ? data : {}) as JiraErrorBody;
  if (Array.isArray(errorMessages) && errorMessages.length > 0) return errorMessages.join(', ');
  if (errors === undefined || errors === null) return 'unknown: errorResponse.errors was null';
  return Object.values(errors as Record<string, unknown>).reduce<string>(
    (reason, value) => (reason.length > 0 ? `${reason} ${String(value)}` : String(value)),
    '',
  );
}

/**
 * A failure as Kibana's Jira connector reports it: a new error, so an outer context no longer
 * sees the vendor's answer; 429 is the user's fault, the rest ours; the vendor's Retry-After
 * moment is kept.
 */
function wrap(error: unknown, context: string): ConnectorError {
  const e = error as { message?: unknown; response?: VendorResponse };
  const reason = reasonOf(e.response?.data);
  return new ConnectorError(
    actionErrorMessage(JIRA_NAME, `${context}. Error: ${String(e.message)}. Reason: ${reason}`),
    e.response?.status === 429 ? 'user' : 'framework',
    { retry: retryAtRetryAfter(error) },
  );
}

async function guarded<T>(context: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw wrap(err, context);
  }
}

export interface IssueType {
  id: string;
  name: string;
}

export interface FieldDescription {
  required: unknown;
  allowedValues: unknown;
  defaultValue: unknown;
  schema: unknown;
  name: unknown;
}

export interface JiraIncident {
  summary: string;
  description?: string | null;
  issueType?: string | null;
  priority?: string | null;
  labels?: string[] | null;
  parent?: string | null;
  otherFields?: Record<string, unknown> | null;
}

export interface PushedIssue {
  title: string;
  id: string;
  pushedDate: string;
  url: string;
}

interface RawIssue {
  id: string;
  key: string;
  fields?: Record<string, unknown>;
}

function summaryOf(text: string): string {
  return text
    .split(/[\n\r]/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(', ');
}

export function createJiraService(http: ConnectorHttp, config: JiraConfig, secrets: JiraSecrets) {
  const { apiUrl, projectKey } = config;
  const { email, apiToken } = secrets;
  if (!apiUrl || !projectKey || !email || !apiToken) {
    throw new Error(`[Action]${JIRA_NAME}: Wrong configuration.`);
  }
  const base = withoutTrailingSlash(apiUrl);
  const issueUrl = `${base}/${API_PATH}/issue`;
  const issueTypesUrl = `${base}/${API_PATH}/issue/createmeta/${projectKey}/issuetypes`;
  const searchUrl = `${base}/${API_PATH}/search/jql`;

  const call = (method: HttpMethod, url: string, json?: unknown) =>
    vendorRequest(http, {
      url,
      method,
      headers: { Accept: 'application/json' },
      auth: { username: email, password: apiToken },
      data: json,
    });

  const viewUrl = (key: string) => `${base}/browse/${key}`;

  const fieldsOf = (incident: JiraIncident): Record<string, unknown> => {
    let fields: Record<string, unknown> = {
      summary: summaryOf(incident.summary),
      project: { key: projectKey },
    };
    if (incident.issueType) fields.issuetype = { id: incident.issueType };
    if (incident.description) fields.description = incident.description;
    if (incident.labels) fields.labels = incident.labels;
    if (incident.priority) fields.priority = { name: incident.priority };
    if (incident.parent) fields.parent = { key: incident.parent };
    if (incident.otherFields) fields = { ...fields, ...incident.otherFields };
    return fields;
  };

  const getIncident = (id: string) =>
    guarded(`Unable to get incident with id ${id}`, async () => {
      const res = await call('GET', `${issueUrl}/${id}`);
      throwIfResponseIsNotValid(res, ['id', 'key']);
      const issue = res.data as RawIssue;
      const fields = issue.fields ?? {};
      return {
        id: issue.id,
        key: issue.key,
        created: fields.created,
        updated: fields.updated,
        ...fields,
      };
    });

  const getIssueTypes = () =>
    guarded('Unable to get issue types', async (): Promise<IssueType[]> => {
      const res = await call('GET', issueTypesUrl);
      throwIfResponseIsNotValid(res);
      // Cloud answers `issueTypes`, Data Center `values`.
      const data = isPlainRecord(res.data) ? res.data : {};
      const types = (data.issueTypes ?? data.values ?? []) as IssueType[];
      return types.map((type) => ({ id: type.id, name: type.name }));
    });

  const getFieldsByIssueType = (issueTypeId: string) =>
    guarded('Unable to get fields', async (): Promise<Record<string, FieldDescription>> => {
      const res = await call('GET', `${issueTypesUrl}/${issueTypeId}`);
      throwIfResponseIsNotValid(res);
      // Cloud answers `fields`, Data Center `values`.
      const data = isPlainRecord(res.data) ? res.data : {};
      const list = (data.fields ?? data.values ?? []) as Array<Record<string, unknown>>;
      const out: Record<string, FieldDescription> = {};
      for (const field of list) {
        out[String(field.fieldId)] = {
          required: field.required,
          allowedValues: field.allowedValues ?? [],
          defaultValue: field.defaultValue ?? {},
          schema: field.schema,
          name: field.name,
        };
      }
      return out;
    });

  /** The fields every issue type of the project has (described as the first type has them). */
  const getFields = async () => {
    const types = await getIssueTypes();
    const perType = await Promise.all(types.map((type) => getFieldsByIssueType(type.id)));
    return perType.reduce<Record<string, FieldDescription>>((common, fields) => {
      const known = Object.keys(common);
      if (known.length === 0) return fields;
      const kept: Record<string, FieldDescription> = {};
      for (const key of known) {
        const field = common[key];
        if (Object.hasOwn(fields, key) && field !== undefined) kept[key] = field;
      }
      return kept;
    }, {});
  };

  const createIncident = async (incident: JiraIncident): Promise<PushedIssue> => {
    let issueType = incident.issueType;
    // Outside the create context on purpose: Kibana reports this failure on its own.
    if (!issueType) issueType = (await getIssueTypes())[0]?.id ?? '';
    return guarded('Unable to create incident', async () => {
      const res = await call('POST', issueUrl, { fields: fieldsOf({ ...incident, issueType }) });
      throwIfResponseIsNotValid(res, ['id']);
      const created = await getIncident(String((res.data as RawIssue).id));
      return {
        title: created.key,
        id: created.id,
        pushedDate: new Date(created.created as string).toISOString(),
        url: viewUrl(created.key),
      };
    });
  };

  const updateIncident = (incidentId: string, incident: JiraIncident): Promise<PushedIssue> =>
    guarded(`Unable to update incident with id ${incidentId}`, async () => {
      const present = Object.fromEntries(
        Object.entries(incident).filter(([, value]) => value !== null && value !== undefined),
      ) as unknown as JiraIncident;
      const res = await call('PUT', `${issueUrl}/${incidentId}`, { fields: fieldsOf(present) });
      throwIfResponseIsNotValid(res);
      const updated = await getIncident(incidentId);
      return {
        title: updated.key,
        id: updated.id,
        pushedDate: new Date(updated.updated as string).toISOString(),
        url: viewUrl(updated.key),
      };
    });

  const createComment = (incidentId: string, comment: { comment: string; commentId: string }) =>
    guarded(`Unable to create comment at incident with id ${incidentId}`, async () => {
      const res = await call('POST', `${issueUrl}/${incidentId}/comment`, {
        body: comment.comment,
      });
      throwIfResponseIsNotValid(res, ['id', 'created']);
      const data = res.data as { created: string };
      return {
        commentId: comment.commentId,
        pushedDate: new Date(data.created).toISOString(),
      };
    });

  const getIssues = (title: string) =>
    guarded('Unable to get issues', async () => {
      const jql = `project="${projectKey}" and summary ~"${escapeJqlSpecialCharacters(title)}"`;
      const res = await call(
        'GET',
        `${searchUrl}?jql=${encodeURIComponent(jql)}&fields=summary,key`,
      );
      throwIfResponseIsNotValid(res);
      const data = isPlainRecord(res.data) ? res.data : {};
      const issues = (data.issues ?? []) as RawIssue[];
      return issues.map((issue) => ({
        id: issue.id,
        key: issue.key,
        title: issue.fields?.summary ?? null,
      }));
    });

  const getIssue = (id: string) =>
    guarded(`Unable to get issue with id ${id}`, async () => {
      const res = await call('GET', `${issueUrl}/${id}`);
      throwIfResponseIsNotValid(res);
      const issue = (isPlainRecord(res.data) ? res.data : {}) as Partial<RawIssue>;
      return { id: issue.id, key: issue.key, title: issue.fields?.summary ?? null };
    });

  return {
    getIncident,
    getIssueTypes,
    getFieldsByIssueType,
    getFields,
    createIncident,
    updateIncident,
    createComment,
    getIssues,
    getIssue,
  };
}

export type JiraService = ReturnType<typeof createJiraService>;
