import { type PushComment, type PushResult, toNumber, toRecord } from '../lib/case_schemas.js';
import { CASE_STYLE, type SubActionRequest, subActionRequest } from '../lib/sub-action-request.js';
import {
  actionErrorMessage,
  isPlainRecord,
  retryOf,
  type VendorRequestError,
  withoutTrailingSlash,
} from '../lib/vendor-request.js';
import type { SubActionContext } from '../sub-actions.js';
import { ConnectorError } from '../types.js';
import {
  AnyObjectResponseSchema,
  CreatedResponseSchema,
  type FieldMeta,
  FieldsResponseSchema,
  IncidentResponseSchema,
  type PushToServiceParams,
  type ResilientConfig,
  type ResilientSecrets,
  UpdatedResponseSchema,
  ValuesResponseSchema,
} from './schema.js';

export const CONNECTOR_NAME = 'IBM Resilient';

/** The incident as a push hands it over, numbers coerced and additionalFields parsed. */
export interface Incident {
  name: string;
  description: string | null;
  incidentTypes: number[] | null;
  severityCode: number | null;
  additionalFields: Record<string, unknown> | null;
}

type Ctx = SubActionContext<ResilientConfig, ResilientSecrets>;

/** Kibana wraps every failure of a Resilient call in its own error, which drops errorSource. */
function wrap(err: unknown, context: string): ConnectorError {
  return new ConnectorError(
    actionErrorMessage(CONNECTOR_NAME, `${context}. Error: ${(err as Error).message}.`),
    'framework',
    { retry: retryOf(err) },
  );
}

function validateValues(meta: FieldMeta, given: unknown[]): true {
  const options = meta.values;
  if (Array.isArray(options) && !given.every((id) => options.some((o) => o.value === id))) {
    const accepted = options.map((o) => `${String(o.value)} (for "${o.label}")`).join(',');
    throw new Error(
      `Invalid values provided to ${meta.name}: ${JSON.stringify(given, null, 2)}. Accepted values: ${accepted}`,
    );
  }
  return true;
}

/** The value an incident holds for a field, as an update's old_value reads it. */
function oldFieldValue(meta: FieldMeta, value: unknown): unknown {
  switch (meta.input_type) {
    case 'textarea':
      return value ?? null;
    case 'multiselect':
    case 'select':
    case 'datetimepicker':
    case 'datepicker':
    case 'boolean':
    case 'number':
    case 'text':
      return value;
    default:
      return null;
  }
}

/** The shape Resilient expects for a field value in an update, by the field's input type. */
function fieldValueShape(meta: FieldMeta, value: unknown, oldValue?: unknown): unknown {
  switch (meta.input_type) {
    case 'textarea': {
      if (value === null || value === undefined) return { textarea: null };
      if (isPlainRecord(value) && 'format' in value && 'content' in value) {
        return { textarea: { ...value } };
      }
      const format = isPlainRecord(oldValue) && 'format' in oldValue ? oldValue.format : 'text';
      return { textarea: { format, content: value } };
    }
    case 'multiselect': {
      if (value === null || value === undefined) return {};
      const ids = Array.isArray(value) ? [...value] : [value];
      validateValues(meta, ids);
      return { ids };
    }
    case 'select':
      if (value === null || value === undefined) return {};
      validateValues(meta, [value]);
      return { id: value };
    case 'datetimepicker':
    case 'datepicker':
      return typeof value === 'number' ? { date: value } : {};
    case 'boolean':
      return typeof value === 'boolean' ? { boolean: value } : {};
    case 'number':
      return typeof value === 'number' ? { object: value } : {};
    case 'text':
      return typeof value === 'string' ? { text: value } : {};
    default:
      return {};
  }
}

const UPDATE_FIELD_NAMES: Readonly<Record<string, string>> = {
  incidentTypes: 'incident_type_ids',
  severityCode: 'severity_code',
};

export function formatUpdateRequest(
  oldIncident: Record<string, unknown>,
  newIncident: Partial<Incident>,
  fields: readonly FieldMeta[],
): { changes: Array<{ field: { name: string }; old_value: unknown; new_value: unknown }> } {
  const { additionalFields, ...root } = newIncident;
  const updates: Record<string, unknown> = { ...(additionalFields ?? {}), ...root };
  const byName = new Map(fields.map((f) => [f.name, f]));
  return {
    changes: Object.keys(updates).map((key) => {
      const name = UPDATE_FIELD_NAMES[key] ?? key;
      const meta = byName.get(name);
      if (meta === undefined) throw new Error(`No metadata found for field ${name}`);
      let oldValue = oldIncident[name] ? oldIncident[name] : oldIncident[key];
      if (meta.prefix) {
        const holder = oldIncident[meta.prefix];
        oldValue = holder && isPlainRecord(holder) ? holder[key] : null;
      }
      const newValue = updates[name] ? updates[name] : updates[key];
      return {
        field: { name },
        old_value: fieldValueShape(meta, oldFieldValue(meta, oldValue)),
        new_value: fieldValueShape(meta, newValue, oldValue),
      };
    }),
  };
}

/** Additional fields split into top-level keys and their prefixed holders (e.g. properties). */
export function additionalFieldsForCreation(
  fields: readonly FieldMeta[],
  additionalFields: Record<string, unknown>,
): Record<string, unknown> {
  const { properties, ...rest } = additionalFields;
  const flattened = { ...(isPlainRecord(properties) ? properties : {}), ...rest };
  const byName = new Map(fields.map((f) => [f.name, f]));
  const data: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(flattened)) {
    const meta = byName.get(key);
    if (meta?.input_type === 'select' || meta?.input_type === 'multiselect') {
      validateValues(meta, Array.isArray(value) ? value : [value]);
    }
    if (meta?.prefix) {
      const holder = isPlainRecord(data[meta.prefix]) ? data[meta.prefix] : {};
      data[meta.prefix] = { ...(holder as Record<string, unknown>), [key]: value };
    } else {
      data[key] = value;
    }
  }
  return data;
}

/** Kibana's getResponseErrorMessage for IBM Resilient. */
function describeFailure(err: VendorRequestError) {
  const response = err.response;
  if (!response?.status) return 'Unknown API Error';
  if (response.status === 401) return 'Unauthorized API Error';
  if (typeof response.data === 'object' && response.data !== null && 'message' in response.data) {
    return `API Error: ${String((response.data as { message: unknown }).message)}`;
  }
  return `API Error: ${response.statusText}`;
}

export class ResilientService {
  private readonly orgUrl: string;

  constructor(private readonly ctx: Ctx) {
    this.orgUrl = `${ctx.config.apiUrl}/rest/orgs/${ctx.config.orgId}`;
  }

  private get fieldsUrl(): string {
    return `${this.orgUrl}/types/incident/fields`;
  }

  private viewUrl(id: string): string {
    return `${withoutTrailingSlash(this.ctx.config.apiUrl)}/#incidents/${id}`;
  }

  private call(call: SubActionRequest) {
    return subActionRequest(
      this.ctx,
      {
        ...call,
        auth: { username: this.ctx.secrets.apiKeyId, password: this.ctx.secrets.apiKeySecret },
      },
      describeFailure,
      CASE_STYLE,
    );
  }

  async getFields(): Promise<FieldMeta[]> {
    try {
      const response = await this.call({
        url: this.fieldsUrl,
        method: 'get',
        responseSchema: FieldsResponseSchema,
      });
      const raw = response.data as FieldMeta[];
      return raw.map((f) => ({
        name: f.name,
        input_type: f.input_type,
        read_only: f.read_only,
        required: f.required,
        text: f.text,
        prefix: f.prefix,
        values: f.values,
      }));
    } catch (err) {
      throw wrap(err, 'Unable to get fields');
    }
  }

  private async getValues(field: string, context: string) {
    try {
      const response = await this.call({
        url: `${this.fieldsUrl}/${field}`,
        method: 'get',
        responseSchema: ValuesResponseSchema,
      });
      const values = (response.data as { values: Array<{ value: unknown; label: string }> }).values;
      return values.map((v) => ({ id: String(v.value), name: v.label }));
    } catch (err) {
      throw wrap(err, context);
    }
  }

  getIncidentTypes() {
    return this.getValues('incident_type_ids', 'Unable to get incident types');
  }

  getSeverity() {
    return this.getValues('severity_code', 'Unable to get severity');
  }

  async getIncident(id: string): Promise<Record<string, unknown>> {
    try {
      const response = await this.call({
        url: `${this.orgUrl}/incidents/${id}?text_content_output_format=objects_convert`,
        method: 'get',
        responseSchema: IncidentResponseSchema,
      });
      return response.data as Record<string, unknown>;
    } catch (err) {
      throw wrap(err, `Unable to get incident with id ${id}`);
    }
  }

  async createIncident(incident: Incident): Promise<PushResult> {
    try {
      let data: Record<string, unknown> = { name: incident.name, discovered_date: Date.now() };
      if (incident.description) {
        data.description = { format: 'html', content: incident.description };
      }
      if (incident.incidentTypes) {
        data.incident_type_ids = incident.incidentTypes.map((id) => ({ id }));
      }
      if (incident.severityCode) data.severity_code = { id: incident.severityCode };
      if (incident.additionalFields) {
        const fields = await this.getFields();
        const { properties, ...rest } = additionalFieldsForCreation(
          fields,
          incident.additionalFields,
        );
        data = { ...data, ...rest, ...(properties ? { properties } : {}) };
      }
      const response = await this.call({
        url: `${this.orgUrl}/incidents?text_content_output_format=objects_convert`,
        method: 'post',
        data,
        responseSchema: CreatedResponseSchema,
      });
      const created = response.data as { id: number | string; create_date: number | string };
      const id = String(created.id);
      return {
        title: id,
        id,
        pushedDate: new Date(toNumber(created.create_date)).toISOString(),
        url: this.viewUrl(id),
      };
    } catch (err) {
      throw wrap(err, 'Unable to create incident');
    }
  }

  async updateIncident(incidentId: string, incident: Incident): Promise<PushResult> {
    try {
      const latest = await this.getIncident(incidentId);
      const fields = await this.getFields();
      // Null values are left out: sending them would empty the field in Resilient.
      const changed = Object.fromEntries(
        Object.entries(incident).filter(([, value]) => value !== null && value !== undefined),
      ) as Partial<Incident>;
      const response = await this.call({
        url: `${this.orgUrl}/incidents/${incidentId}`,
        method: 'patch',
        data: formatUpdateRequest(latest, changed, fields),
        responseSchema: UpdatedResponseSchema,
      });
      const data = response.data as { success: boolean; message?: string | null };
      // A message left out reads as the schema's default, null.
      if (!data.success) {
        throw new Error(`Error while updating incident: ${String(data.message ?? null)}`);
      }
      const updated = await this.getIncident(incidentId);
      const id = String(updated.id);
      return {
        title: id,
        id,
        pushedDate: new Date(toNumber(updated.inc_last_modified_date as number)).toISOString(),
        url: this.viewUrl(id),
      };
    } catch (err) {
      throw wrap(err, `Unable to update incident with id ${incidentId}`);
    }
  }

  async addComment(incidentId: string, comment: string): Promise<void> {
    try {
      await this.call({
        url: `${this.orgUrl}/incidents/${incidentId}/comments`,
        method: 'post',
        data: { text: { format: 'text', content: comment } },
        responseSchema: AnyObjectResponseSchema,
      });
    } catch (err) {
      throw wrap(err, `Unable to create comment at incident with id ${incidentId}`);
    }
  }

  /** Kibana's CaseConnector.pushToService: create or update, then one call per comment. */
  async pushToService(params: PushToServiceParams): Promise<PushResult> {
    const { externalId, ...rest } = params.incident;
    const incident: Incident = {
      name: rest.name,
      description: rest.description,
      incidentTypes: rest.incidentTypes === null ? null : rest.incidentTypes.map(toNumber),
      severityCode: rest.severityCode === null ? null : toNumber(rest.severityCode),
      additionalFields: rest.additionalFields === null ? null : toRecord(rest.additionalFields),
    };
    const result =
      externalId != null
        ? await this.updateIncident(externalId, incident)
        : await this.createIncident(incident);
    const comments: PushComment[] = params.comments ?? [];
    if (comments.length > 0) {
      result.comments = [];
      for (const comment of comments) {
        await this.addComment(result.id, comment.comment);
        result.comments.push({ commentId: comment.commentId, pushedDate: result.pushedDate });
      }
    }
    return result;
  }
}
