import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, incidentSystemScript, requestMagic } from './magic.js';

/**
 * A ServiceNow instance as the ServiceNow connectors use it:
 * - auth: basic (username/password) or a bearer token from `POST /oauth_token.do` (JWT bearer
 *   grant: the assertion's RS256 signature is checked with the registered public key, and its
 *   kid, iss, aud, sub and exp claims with the registered OAuth application);
 * - the Table API on `incident`, `sn_si_incident` and `em_event` (create, read, patch, query by
 *   correlation id), `sys_dictionary` (fields) and `sys_choice` (choices);
 * - the Elastic ServiceNow application: health, import sets for ITSM and SecOps incidents, and
 *   SecOps observables;
 * - Event Management's `POST /api/global/em/jsonv2`.
 * Errors carry ServiceNow's `{error: {message, detail}, status: 'failure'}` body. Magic inputs
 * (see magic.ts) script failures, e.g. a short_description or a sys_id reading `respond-with-429`;
 * besides, a short_description `respond-with-import-error` makes the import set row fail and
 * `respond-with-no-rows` makes it answer no row, and `appInstalled = false` removes the
 * Elastic application.
 */

export const SN_CREATED_ON = '2024-05-02 10:11:12';
export const SN_UPDATED_ON = '2024-05-02 10:15:00';
const TOKEN_LIFETIME_SECONDS = 1800;

export interface ServiceNowOAuthApp {
  clientId: string;
  clientSecret: string;
  keyId: string;
  userIdentifierValue: string;
  publicKey: string;
}

export interface ServiceNowSimulatorOptions {
  username?: string;
  password?: string;
  oauth?: ServiceNowOAuthApp;
}

interface TableDefinition {
  prefix: string;
}

const TABLES: Record<string, TableDefinition> = {
  incident: { prefix: 'INC' },
  sn_si_incident: { prefix: 'SIR' },
  em_event: { prefix: 'EVT' },
};

const IMPORT_SETS: Record<string, { table: string; transformMap: string }> = {
  x_elas2_inc_int_elastic_incident: { table: 'incident', transformMap: 'Elastic Incident' },
  x_elas2_sir_int_elastic_si_incident: {
    table: 'sn_si_incident',
    transformMap: 'Elastic SIR Incident',
  },
};

const APP_SCOPES = ['x_elas2_inc_int', 'x_elas2_sir_int'];

export const SN_FIELDS = [
  { column_label: 'Close notes', mandatory: 'false', max_length: '4000', element: 'close_notes' },
  { column_label: 'Description', mandatory: 'false', max_length: '4000', element: 'description' },
  {
    column_label: 'Short description',
    mandatory: 'false',
    max_length: '160',
    element: 'short_description',
  },
];

const choice = (element: string, value: string, label: string, dependent_value = '') => ({
  label,
  value,
  dependent_value,
  element,
});

export const SN_CHOICES = [
  choice('severity', '1', '1 - High'),
  choice('severity', '2', '2 - Medium'),
  choice('severity', '3', '3 - Low'),
  choice('urgency', '1', '1 - High'),
  choice('urgency', '2', '2 - Medium'),
  choice('urgency', '3', '3 - Low'),
  choice('impact', '1', '1 - High'),
  choice('impact', '2', '2 - Medium'),
  choice('impact', '3', '3 - Low'),
  choice('category', 'software', 'Software'),
  choice('subcategory', 'os', 'Operating System', 'software'),
  choice('priority', '1', '1 - Critical'),
];

function errorBody(status: number) {
  const error = (message: string, detail: string | null) => ({
    error: { message, detail },
    status: 'failure',
  });
  switch (status) {
    case 400:
      return error('Invalid request', 'Field short_description is not valid');
    case 401:
      return error('User Not Authenticated', 'Required to provide Auth information');
    case 404:
      return error('No Record found', "Record doesn't exist or ACL restricts the record retrieval");
    case 429:
      return error('Rate limit exceeded', 'Too many requests from user admin');
    default:
      return error('Internal server error', null);
  }
}

const noResource = (res: ServerResponse) =>
  sendJson(res, 400, {
    error: { message: 'Requested URI does not represent any resource', detail: null },
    status: 'failure',
  });

export interface ServiceNowSimulator extends Simulator {
  records: Map<string, Map<string, Record<string, unknown>>>;
  /** Tokens issued by /oauth_token.do. */
  tokensIssued: string[];
  /** false: the Elastic ServiceNow application is not installed. */
  appInstalled: boolean;
}

function decodeSegment(segment: string | undefined): unknown {
  if (segment === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(segment, 'base64url').toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

export async function startServiceNowSimulator(
  options: ServiceNowSimulatorOptions,
): Promise<ServiceNowSimulator> {
  const records = new Map<string, Map<string, Record<string, unknown>>>(
    Object.keys(TABLES).map((t) => [t, new Map()]),
  );
  const tokens = new Map<string, number>();
  const tokensIssued: string[] = [];
  let sequence = 0;
  let importSets = 0;
  const basic =
    options.username !== undefined && options.password !== undefined
      ? `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`
      : undefined;
  const publicKey: KeyObject | undefined = options.oauth
    ? createPublicKey(options.oauth.publicKey)
    : undefined;

  /** The reason a JWT bearer grant is refused, or undefined. */
  const refuseGrant = (form: URLSearchParams): { status: number; body: object } | undefined => {
    const app = options.oauth;
    if (app === undefined || publicKey === undefined) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'no OAuth app' } };
    }
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      return { status: 400, body: { error: 'unsupported_grant_type' } };
    }
    if (form.get('client_id') !== app.clientId || form.get('client_secret') !== app.clientSecret) {
      return {
        status: 401,
        body: { error: 'access_denied', error_description: 'invalid client credentials' },
      };
    }
    const [header, payload, signature] = (form.get('assertion') ?? '').split('.');
    const invalid = (description: string) => ({
      status: 400,
      body: { error: 'invalid_grant', error_description: description },
    });
    const head = decodeSegment(header) as { alg?: string; kid?: string } | undefined;
    const claims = decodeSegment(payload) as Record<string, unknown> | undefined;
    if (head === undefined || claims === undefined || signature === undefined) {
      return invalid('malformed assertion');
    }
    if (head.alg !== 'RS256' || head.kid !== app.keyId) return invalid('unknown key');
    const signed = verify(
      'sha256',
      Buffer.from(`${header}.${payload}`),
      publicKey,
      Buffer.from(signature, 'base64url'),
    );
    if (!signed) return invalid('signature verification failed');
    if (claims.iss !== app.clientId || claims.aud !== app.clientId)
      return invalid('wrong audience');
    if (claims.sub !== app.userIdentifierValue) return invalid('User not found');
    if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now()) {
      return invalid('assertion expired');
    }
    return undefined;
  };

  const authorized = (req: RecordedRequest): boolean => {
    const header = req.headers.authorization;
    if (header === undefined) return false;
    if (basic !== undefined && header === basic) return true;
    const bearer = /^Bearer (.+)$/.exec(header)?.[1];
    const until = bearer === undefined ? undefined : tokens.get(bearer);
    return until !== undefined && until > Date.now();
  };

  const create = (table: string, fields: Record<string, unknown>) => {
    sequence += 1;
    const sysId = sequence.toString(16).padStart(32, '0');
    const definition = TABLES[table] ?? { prefix: 'REC' };
    const record: Record<string, unknown> = {
      ...fields,
      sys_id: sysId,
      number: `${definition.prefix}${String(1000 + sequence).padStart(7, '0')}`,
      state: '1',
      sys_created_on: SN_CREATED_ON,
      sys_updated_on: SN_CREATED_ON,
    };
    records.get(table)?.set(sysId, record);
    return record;
  };

  const update = (record: Record<string, unknown>, fields: Record<string, unknown>) => {
    Object.assign(record, fields, { sys_updated_on: SN_UPDATED_ON });
    return record;
  };

  const importSet = (req: RecordedRequest, res: ServerResponse, name: string) => {
    const target = IMPORT_SETS[name];
    const body = req.json as Record<string, unknown> | undefined;
    if (target === undefined || body === undefined) return noResource(res);
    importSets += 1;
    const header = {
      import_set: `ISET${String(importSets).padStart(7, '0')}`,
      staging_table: name,
    };
    const fields: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) {
      if (key === 'elastic_incident_id') continue;
      fields[key.startsWith('u_') ? key.slice(2) : key] = value;
    }
    const rowError = (message: string) =>
      sendJson(res, 201, {
        ...header,
        result: [
          {
            transform_map: target.transformMap,
            status: 'error',
            error_message: message,
            status_message: message,
          },
        ],
      });
    if (fields.short_description === 'respond-with-no-rows') {
      return sendJson(res, 201, { ...header, result: [] });
    }
    if (fields.short_description === 'respond-with-import-error') {
      return rowError('Unable to resolve target record, coalesce values not present');
    }
    const existingId = body.elastic_incident_id;
    let record: Record<string, unknown>;
    let status: string;
    if (typeof existingId === 'string') {
      const existing = records.get(target.table)?.get(existingId);
      if (existing === undefined) return rowError(`Incident ${existingId} not found`);
      record = update(existing, fields);
      status = 'updated';
    } else {
      record = create(target.table, fields);
      status = 'inserted';
    }
    return sendJson(res, 201, {
      ...header,
      result: [
        {
          transform_map: target.transformMap,
          table: target.table,
          display_name: 'number',
          display_value: record.number,
          record_link: `/api/now/table/${target.table}/${String(record.sys_id)}`,
          status,
          sys_id: record.sys_id,
        },
      ],
    });
  };

  const table = (req: RecordedRequest, res: ServerResponse, name: string, sysId?: string) => {
    const rows = records.get(name);
    if (rows === undefined) return noResource(res);
    const body = (req.json ?? {}) as Record<string, unknown>;
    if (sysId === undefined && req.method === 'POST') {
      return sendJson(res, 201, { result: create(name, body) });
    }
    if (sysId === undefined && req.method === 'GET') {
      const query = req.query.get('sysparm_query') ?? '';
      const correlation = /\^correlation_id=(.*)$/.exec(query)?.[1];
      const found = [...rows.values()]
        .filter((r) => correlation === undefined || r.correlation_id === correlation)
        .reverse();
      return sendJson(res, 200, { result: found });
    }
    const record = sysId === undefined ? undefined : rows.get(sysId);
    if (record === undefined) return sendJson(res, 404, errorBody(404));
    if (req.method === 'GET') return sendJson(res, 200, { result: record });
    if (req.method === 'PATCH' || req.method === 'PUT') {
      return sendJson(res, 200, { result: update(record, body) });
    }
    return noResource(res);
  };

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const path = req.path;
    if (path === '/oauth_token.do' && req.method === 'POST') {
      const refused = refuseGrant(new URLSearchParams(req.text));
      if (refused !== undefined) return sendJson(res, refused.status, refused.body);
      const token = `sn-access-${tokensIssued.length + 1}`;
      tokens.set(token, Date.now() + TOKEN_LIFETIME_SECONDS * 1000);
      tokensIssued.push(token);
      return sendJson(res, 200, {
        access_token: token,
        scope: 'useraccount',
        token_type: 'Bearer',
        expires_in: TOKEN_LIFETIME_SECONDS,
      });
    }
    if (!authorized(req)) return sendJson(res, 401, errorBody(401));

    const health = /^\/api\/([^/]+)\/elastic_api\/health$/.exec(path);
    if (health !== null && req.method === 'GET') {
      const scope = health[1] ?? '';
      if (!sim.appInstalled || !APP_SCOPES.includes(scope)) return noResource(res);
      return sendJson(res, 200, { result: { name: 'Elastic', scope, version: '1.1.0' } });
    }
    const observables =
      /^\/api\/x_elas2_sir_int\/elastic_api\/incident\/([^/]+)\/observables(\/bulk)?$/.exec(path);
    if (observables !== null && req.method === 'POST') {
      if (!sim.appInstalled) return noResource(res);
      const incident = records.get('sn_si_incident')?.get(observables[1] ?? '');
      if (incident === undefined) return sendJson(res, 404, errorBody(404));
      const list = (Array.isArray(req.json) ? req.json : [req.json]) as Array<{ value: string }>;
      const result = list.map((o, i) => ({ value: o.value, observable_sys_id: `obs-${i + 1}` }));
      return sendJson(res, 200, { result: observables[2] !== undefined ? result : result[0] });
    }
    const importSetPath = /^\/api\/now\/import\/([^/]+)$/.exec(path);
    if (importSetPath !== null && req.method === 'POST') {
      if (!sim.appInstalled) return noResource(res);
      return importSet(req, res, importSetPath[1] ?? '');
    }
    const tablePath = /^\/api\/now\/v2\/table\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (tablePath !== null) return table(req, res, tablePath[1] ?? '', tablePath[2]);
    if (path === '/api/now/table/sys_dictionary' && req.method === 'GET') {
      return sendJson(res, 200, { result: SN_FIELDS });
    }
    if (path === '/api/now/table/sys_choice' && req.method === 'GET') {
      const query = req.query.get('sysparm_query') ?? '';
      const elements = [...query.matchAll(/(?:^|\^(?:OR)?)element=([^^]*)/g)].map((m) => m[1]);
      return sendJson(res, 200, {
        result: SN_CHOICES.filter((c) => elements.includes(c.element)),
      });
    }
    if (path === '/api/global/em/jsonv2' && req.method === 'POST') {
      const events = (req.json as { records?: unknown[] } | undefined)?.records ?? [];
      return sendJson(res, 200, {
        result: { 'Default Bulk Endpoint': `${events.length} events were inserted` },
      });
    }
    return noResource(res);
  };

  const sim: ServiceNowSimulator = Object.assign(
    await startSimulator((req, res) => {
      const normal = () => handle(req, res);
      if (answerMagic(requestMagic(req), res, incidentSystemScript(res, errorBody, normal))) return;
      handle(req, res);
    }),
    { records, tokensIssued, appInstalled: true },
  );
  return sim;
}
