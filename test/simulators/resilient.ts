import type { ServerResponse } from 'node:http';
import {
  basicCredentials,
  type RecordedRequest,
  type Simulator,
  sendJson,
  startSimulator,
} from './base.js';
import { answerMagic, caseSystemScript, magicIn } from './magic.js';

/**
 * IBM Resilient (QRadar SOAR) REST API, as far as the .resilient connector uses it: incident field
 * metadata, incidents (create, read, PATCH with `changes`), and comments, under
 * `/rest/orgs/<orgId>`. Requests need Basic credentials (API key id and secret); an unknown
 * organisation is refused. PATCH checks every change's `old_value` against the incident and
 * answers `success: false` when one does not match (or when the new name is
 * `respond-with-conflict`). Scripted failures: see caseSystemScript in magic.ts.
 */

export const RESILIENT_CREATED_AT = 1589391874472;
/** Each update moves the incident's last-modified date on by this much. */
export const RESILIENT_UPDATE_STEP_MS = 60_000;

interface FieldValue {
  value: number;
  label: string;
  enabled: boolean;
  hidden: boolean;
  default: boolean;
}

export interface ResilientField {
  id: number;
  name: string;
  text: string;
  prefix: string | null;
  type_id: number;
  input_type: string;
  required: string | null;
  read_only: boolean;
  internal: boolean;
  values: FieldValue[];
  tooltip: string;
}

const value = (v: number, label: string): FieldValue => ({
  value: v,
  label,
  enabled: true,
  hidden: false,
  default: false,
});

let fieldId = 0;
const field = (
  name: string,
  text: string,
  input_type: string,
  options: Partial<ResilientField> = {},
): ResilientField => ({
  id: ++fieldId,
  name,
  text,
  prefix: null,
  type_id: 0,
  input_type,
  required: null,
  read_only: false,
  internal: false,
  values: [],
  tooltip: '',
  ...options,
});

export const RESILIENT_FIELDS: readonly ResilientField[] = [
  field('name', 'Name', 'text', { required: 'always', internal: true }),
  field('description', 'Description', 'textarea', { internal: true }),
  field('incident_type_ids', 'Incident Type', 'multiselect', {
    internal: true,
    values: [value(1001, 'Malware'), value(1002, 'Phishing'), value(19, 'Other')],
  }),
  field('severity_code', 'Severity', 'select', {
    internal: true,
    values: [value(4, 'Low'), value(5, 'Medium'), value(6, 'High')],
  }),
  field('discovered_date', 'Date Discovered', 'datetimepicker', { internal: true }),
  field('resolution_summary', 'Resolution Summary', 'textarea', { internal: true }),
  field('inc_last_modified_date', 'Last Modified', 'datetimepicker', {
    internal: true,
    read_only: true,
  }),
  field('custom_text', 'Custom text', 'text', { prefix: 'properties' }),
  field('custom_select', 'Custom select', 'select', {
    prefix: 'properties',
    values: [value(301, 'Red'), value(302, 'Blue')],
  }),
];

interface Textarea {
  format: string;
  content: string;
}

export interface ResilientIncident {
  id: number;
  name: string;
  description: Textarea | null;
  discovered_date: number;
  create_date: number;
  inc_last_modified_date: number;
  incident_type_ids: number[];
  severity_code: number | null;
  resolution_summary: Textarea | null;
  properties: Record<string, unknown>;
  comments: Array<{ id: number; text: Textarea; create_date: number }>;
}

export interface ResilientSimulator extends Simulator {
  incidents: Map<number, ResilientIncident>;
}

export interface ResilientOptions {
  orgId: string;
  apiKeyId: string;
  apiKeySecret: string;
}

function resilientError(message: string) {
  return { success: false, title: null, message, hints: [], error_code: 'generic' };
}

const SCRIPTED_MESSAGES: Record<number, string> = {
  400: 'Invalid incident data',
  403: 'Access denied',
  404: 'The object was not found',
  409: 'The incident was modified by another user',
  422: 'Unprocessable incident',
  429: 'Too many requests',
  500: 'An unexpected error occurred',
};

const FIELDS_BY_NAME = new Map(RESILIENT_FIELDS.map((f) => [f.name, f]));

function isTextarea(v: unknown): v is Textarea {
  return typeof v === 'object' && v !== null && 'format' in v && 'content' in v;
}

/** An incident as the REST API shows it; text fields as objects with objects_convert. */
function view(incident: ResilientIncident, objects: boolean) {
  const { comments: _comments, ...rest } = incident;
  const text = (t: Textarea | null) => (t === null ? null : objects ? t : t.content);
  return {
    ...rest,
    description: text(incident.description),
    resolution_summary: text(incident.resolution_summary),
    org_id: 201,
    plan_status: 'A',
    phase_id: 1005,
  };
}

/** The value shape Kibana's update sends for a field's current value. */
function currentShape(f: ResilientField, current: unknown): unknown {
  if (current === null || current === undefined) {
    return f.input_type === 'textarea' ? { textarea: null } : {};
  }
  switch (f.input_type) {
    case 'textarea':
      return { textarea: current };
    case 'multiselect':
      return { ids: current };
    case 'select':
      return { id: current };
    case 'datetimepicker':
    case 'datepicker':
      return { date: current };
    case 'boolean':
      return { boolean: current };
    case 'number':
      return { object: current };
    default:
      return { text: current };
  }
}

function fromShape(f: ResilientField, shape: Record<string, unknown>): unknown {
  switch (f.input_type) {
    case 'textarea':
      return shape.textarea ?? null;
    case 'multiselect':
      return shape.ids ?? [];
    case 'select':
      return shape.id ?? null;
    case 'datetimepicker':
    case 'datepicker':
      return shape.date ?? null;
    case 'boolean':
      return shape.boolean ?? null;
    case 'number':
      return shape.object ?? null;
    default:
      return shape.text ?? null;
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function startResilientSimulator(
  options: ResilientOptions,
): Promise<ResilientSimulator> {
  const incidents = new Map<number, ResilientIncident>();
  let nextId = 2095;
  let nextCommentId = 1;

  const handle = (req: RecordedRequest, res: ServerResponse): void => {
    const prefix = /^\/rest\/orgs\/([^/]+)(\/.*)$/.exec(req.path);
    if (prefix === null) {
      sendJson(res, 404, resilientError(`No resource at ${req.path}`));
      return;
    }
    const credentials = basicCredentials(req);
    if (
      credentials?.username !== options.apiKeyId ||
      credentials.password !== options.apiKeySecret
    ) {
      sendJson(res, 401, resilientError('Unauthorized'));
      return;
    }
    if (prefix[1] !== options.orgId) {
      sendJson(
        res,
        403,
        resilientError(`You do not have permission to access organization ${prefix[1]}.`),
      );
      return;
    }
    if (
      answerMagic(
        magicIn(req.text),
        res,
        caseSystemScript(res, (status) => resilientError(SCRIPTED_MESSAGES[status] ?? 'Error')),
      )
    ) {
      return;
    }
    const path = prefix[2] ?? '';
    const objects = req.query.get('text_content_output_format') === 'objects_convert';

    if (req.method === 'GET' && path === '/types/incident/fields') {
      sendJson(res, 200, RESILIENT_FIELDS);
      return;
    }
    const fieldMatch = /^\/types\/incident\/fields\/([^/]+)$/.exec(path);
    if (req.method === 'GET' && fieldMatch !== null) {
      const f = FIELDS_BY_NAME.get(decodeURIComponent(fieldMatch[1] ?? ''));
      if (f === undefined) sendJson(res, 404, resilientError('Field not found'));
      else sendJson(res, 200, f);
      return;
    }
    if (req.method === 'POST' && path === '/incidents') {
      createIncident(req, res, objects);
      return;
    }
    const incidentMatch = /^\/incidents\/(\d+)(\/comments)?$/.exec(path);
    if (incidentMatch !== null) {
      const id = Number(incidentMatch[1]);
      const incident = incidents.get(id);
      if (incident === undefined) {
        sendJson(res, 404, resilientError(`Incident ${id} was not found.`));
        return;
      }
      if (incidentMatch[2] !== undefined && req.method === 'POST') {
        addComment(req, res, incident);
        return;
      }
      if (incidentMatch[2] === undefined && req.method === 'GET') {
        sendJson(res, 200, view(incident, objects));
        return;
      }
      if (incidentMatch[2] === undefined && req.method === 'PATCH') {
        patchIncident(req, res, incident);
        return;
      }
    }
    sendJson(res, 405, resilientError(`${req.method} is not supported on ${path}`));
  };

  const createIncident = (req: RecordedRequest, res: ServerResponse, objects: boolean) => {
    const body = req.json as Record<string, unknown> | undefined;
    if (typeof body !== 'object' || body === null) {
      sendJson(res, 400, resilientError('The request body is not valid JSON'));
      return;
    }
    if (typeof body.name !== 'string' || body.name === '') {
      sendJson(res, 400, resilientError("'name' is a required field"));
      return;
    }
    if (typeof body.discovered_date !== 'number') {
      sendJson(res, 400, resilientError("'discovered_date' is a required field"));
      return;
    }
    for (const key of Object.keys(body)) {
      const f = FIELDS_BY_NAME.get(key);
      if (key !== 'properties' && (f === undefined || f.prefix !== null)) {
        sendJson(res, 400, resilientError(`Unrecognized field: ${key}`));
        return;
      }
    }
    const properties = (body.properties ?? {}) as Record<string, unknown>;
    for (const key of Object.keys(properties)) {
      if (FIELDS_BY_NAME.get(key)?.prefix !== 'properties') {
        sendJson(res, 400, resilientError(`Unrecognized field: properties.${key}`));
        return;
      }
    }
    const types = (body.incident_type_ids ?? []) as Array<{ id: number }>;
    const severity = body.severity_code as { id: number } | undefined;
    const incident: ResilientIncident = {
      id: nextId++,
      name: body.name,
      description: isTextarea(body.description) ? body.description : null,
      discovered_date: body.discovered_date,
      create_date: RESILIENT_CREATED_AT,
      inc_last_modified_date: RESILIENT_CREATED_AT,
      incident_type_ids: types.map((t) => t.id),
      severity_code: severity?.id ?? null,
      resolution_summary: isTextarea(body.resolution_summary) ? body.resolution_summary : null,
      properties,
      comments: [],
    };
    incidents.set(incident.id, incident);
    sendJson(res, 200, view(incident, objects));
  };

  const patchIncident = (
    req: RecordedRequest,
    res: ServerResponse,
    incident: ResilientIncident,
  ) => {
    const changes = (req.json as { changes?: unknown } | undefined)?.changes;
    if (!Array.isArray(changes)) {
      sendJson(res, 400, resilientError("'changes' is a required field"));
      return;
    }
    if (magicIn(req.text) === 'conflict') {
      sendJson(res, 200, { success: false, title: null, message: 'Conflict on name', hints: [] });
      return;
    }
    const record = incident as unknown as Record<string, unknown>;
    const applied: Array<() => void> = [];
    for (const change of changes as Array<{
      field?: { name?: string };
      old_value?: Record<string, unknown>;
      new_value?: Record<string, unknown>;
    }>) {
      const name = change.field?.name ?? '';
      const f = FIELDS_BY_NAME.get(name);
      if (f === undefined || f.read_only) {
        sendJson(res, 400, resilientError(`Field ${name} cannot be changed`));
        return;
      }
      const holder = f.prefix === 'properties' ? incident.properties : record;
      const current = holder[name];
      if (!sameJson(currentShape(f, current), change.old_value ?? {})) {
        sendJson(res, 200, {
          success: false,
          title: null,
          message: `The value of ${name} was changed by another user`,
          hints: [],
        });
        return;
      }
      const next = fromShape(f, change.new_value ?? {});
      applied.push(() => {
        holder[name] = next;
      });
    }
    for (const apply of applied) apply();
    incident.inc_last_modified_date += RESILIENT_UPDATE_STEP_MS;
    sendJson(res, 200, { success: true, title: null, message: null, hints: [] });
  };

  const addComment = (req: RecordedRequest, res: ServerResponse, incident: ResilientIncident) => {
    const text = (req.json as { text?: unknown } | undefined)?.text;
    if (!isTextarea(text)) {
      sendJson(res, 400, resilientError("'text' is a required field"));
      return;
    }
    const comment = { id: nextCommentId++, text, create_date: RESILIENT_CREATED_AT };
    incident.comments.push(comment);
    sendJson(res, 200, {
      ...comment,
      type: 'incident',
      inc_id: incident.id,
      inc_name: incident.name,
      user_id: 3,
      user_name: 'Resilient Sysadmin',
    });
  };

  const simulator = await startSimulator(handle);
  return Object.assign(simulator, { incidents });
}
