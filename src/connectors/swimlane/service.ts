import type { PushResult } from '../lib/case_schemas.js';
import {
  actionErrorMessage,
  retryOf,
  throwIfResponseIsNotValid,
  type VendorResponse,
  vendorRequest,
  withoutTrailingSlash,
} from '../lib/vendor-request.js';
import { ConnectorError, type ConnectorHttp } from '../types.js';
import type {
  Incident,
  Mappings,
  PushToServiceParams,
  SwimlaneConfig,
  SwimlaneSecrets,
} from './schema.js';

export const CONNECTOR_NAME = 'Swimlane';

type MappedKey = Exclude<keyof Mappings, 'commentsConfig'>;
type IncidentField = Exclude<keyof Incident, 'externalId'>;

const MAPPED_FIELDS: Readonly<Record<MappedKey, IncidentField>> = {
  ruleNameConfig: 'ruleName',
  alertIdConfig: 'alertId',
  caseIdConfig: 'caseId',
  caseNameConfig: 'caseName',
  severityConfig: 'severity',
  descriptionConfig: 'description',
};

/** The record Swimlane receives: each mapped, non-empty incident field under its field id. */
export function recordBody(
  appId: string,
  mappings: Mappings,
  incident: Omit<Incident, 'externalId'>,
  recordId?: string,
) {
  const values: Record<string, unknown> = {};
  for (const key of Object.keys(mappings) as Array<keyof Mappings>) {
    const mapping = mappings[key];
    if (mapping === null || key === 'commentsConfig') continue;
    const value = incident[MAPPED_FIELDS[key]];
    if (!value) continue;
    if (mapping.fieldType === 'numeric') {
      const number = Number(value);
      values[mapping.id] = Number.isNaN(number) ? 0 : number;
    } else {
      values[mapping.id] = value;
    }
  }
  return { applicationId: appId, ...(recordId ? { id: recordId } : {}), values };
}

/** `<Argument> (<ErrorCode>)` from Swimlane's error body, else `unknown`. */
function reasonOf(data: unknown): string {
  if (typeof data !== 'object' || data === null) return 'unknown';
  const { ErrorCode, Argument } = data as { ErrorCode?: unknown; Argument?: unknown };
  return Argument != null && ErrorCode != null
    ? `${String(Argument)} (${String(ErrorCode)})`
    : 'unknown';
}

export class SwimlaneService {
  private readonly headers: Record<string, string>;
  private readonly url: string;
  private readonly api: string;

  constructor(
    private readonly http: ConnectorHttp,
    private readonly config: SwimlaneConfig,
    secrets: SwimlaneSecrets,
  ) {
    if (!config.apiUrl || !config.appId || !secrets.apiToken) {
      throw new ConnectorError(`[Action]${CONNECTOR_NAME}: Wrong configuration.`);
    }
    this.headers = { 'Content-Type': 'application/json', 'Private-Token': secrets.apiToken };
    this.url = withoutTrailingSlash(config.apiUrl);
    this.api = this.url.endsWith('api') ? this.url : `${this.url}/api`;
  }

  private failure(err: unknown, context: string): ConnectorError {
    const response = (err as { response?: VendorResponse }).response;
    return new ConnectorError(
      actionErrorMessage(
        CONNECTOR_NAME,
        `${context} in application with id ${this.config.appId}. Status: ${response?.status ?? 500}. Error: ${(err as Error).message}. Reason: ${reasonOf(response?.data)}`,
      ),
      'framework',
      { retry: retryOf(err) },
    );
  }

  private recordsUrl(): string {
    return `${this.api}/app/${this.config.appId}/record`;
  }

  private viewUrl(recordId: string): string {
    return `${this.url}/record/${this.config.appId}/${recordId}`;
  }

  async createRecord(incident: Omit<Incident, 'externalId'>): Promise<PushResult> {
    try {
      const response = await vendorRequest(this.http, {
        url: this.recordsUrl(),
        method: 'post',
        headers: this.headers,
        data: recordBody(this.config.appId, this.config.mappings, incident),
      });
      throwIfResponseIsNotValid(response, ['id', 'name', 'createdDate']);
      const record = response.data as { id: string; name: string; createdDate: string };
      return {
        id: record.id,
        title: record.name,
        url: this.viewUrl(record.id),
        pushedDate: new Date(record.createdDate).toISOString(),
      };
    } catch (err) {
      throw this.failure(err, 'Unable to create record');
    }
  }

  async updateRecord(
    recordId: string,
    incident: Omit<Incident, 'externalId'>,
  ): Promise<PushResult> {
    try {
      const response = await vendorRequest(this.http, {
        url: `${this.recordsUrl()}/${recordId}`,
        method: 'patch',
        headers: this.headers,
        data: recordBody(this.config.appId, this.config.mappings, incident, recordId),
      });
      throwIfResponseIsNotValid(response, ['id', 'name', 'modifiedDate']);
      const record = response.data as { id: string; name: string; modifiedDate: string };
      return {
        id: record.id,
        title: record.name,
        url: this.viewUrl(recordId),
        pushedDate: new Date(record.modifiedDate).toISOString(),
      };
    } catch (err) {
      throw this.failure(err, 'Unable to update record');
    }
  }

  async createComment(recordId: string, message: string, createdDate: string): Promise<void> {
    try {
      const fieldId = this.config.mappings.commentsConfig?.id || null;
      if (fieldId === null)
        throw new Error(`No comment field mapped in ${CONNECTOR_NAME} connector`);
      // Swimlane answers nothing worth reading, so the answer is not checked.
      await vendorRequest(this.http, {
        url: `${this.recordsUrl()}/${recordId}/${fieldId}/comment`,
        method: 'post',
        headers: this.headers,
        data: { createdDate, fieldId, isRichText: true, message },
      });
    } catch (err) {
      throw this.failure(err, 'Unable to create comment');
    }
  }

  async pushToService(params: PushToServiceParams): Promise<PushResult> {
    const { externalId, ...incident } = params.incident;
    const result =
      externalId != null
        ? await this.updateRecord(externalId, incident)
        : await this.createRecord(incident);
    const comments = params.comments ?? [];
    if (comments.length > 0) {
      // One moment for all comments of a push, as Kibana stamps them.
      const createdDate = new Date().toISOString();
      result.comments = [];
      for (const comment of comments) {
        await this.createComment(result.id, comment.comment, createdDate);
        result.comments.push({ commentId: comment.commentId, pushedDate: createdDate });
      }
    }
    return result;
  }
}
