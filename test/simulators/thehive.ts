import type { ServerResponse } from 'node:http';
import { type RecordedRequest, type Simulator, sendJson, startSimulator } from './base.js';
import { answerMagic, caseSystemScript, magicIn } from './magic.js';

/**
 * TheHive 5 REST API (`/api/v1`), as far as the .thehive connector uses it: cases (create, read,
 * PATCH answered with 204), case comments and alerts. Requests need `Authorization: Bearer
 * <api key>`; an `X-Organisation` header must name a known organisation. Errors are TheHive's
 * `{type, message}` bodies; an alert whose type, source and sourceRef repeat an existing one is
 * refused. Scripted failures: see caseSystemScript in magic.ts.
 */

export const THEHIVE_CREATED_AT = 1712128153041;
export const THEHIVE_USER = 'user1@thehive.local';

const SEVERITY_LABELS = ['', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const TLP_LABELS = ['CLEAR', 'GREEN', 'AMBER', 'AMBER+STRICT', 'RED'];

export interface TheHiveSimulator extends Simulator {
  cases: Map<string, Record<string, unknown>>;
  alerts: Map<string, Record<string, unknown>>;
  comments: Array<Record<string, unknown>>;
}

export interface TheHiveOptions {
  apiKey: string;
  organisations: readonly string[];
}

const ERROR_TYPES: Record<number, string> = {
  400: 'BadRequest',
  403: 'AuthorizationError',
  404: 'NotFoundError',
  429: 'TooManyRequests',
  500: 'InternalError',
};

function hiveError(status: number, message: string) {
  return { type: ERROR_TYPES[status] ?? 'InternalError', message };
}

const SCRIPTED_MESSAGES: Record<number, string> = {
  400: 'Invalid json',
  403: 'Insufficient permissions',
  404: 'Not found',
  429: 'Too many requests',
  500: 'An unexpected error occurred',
};

function missing(body: Record<string, unknown>, keys: readonly string[]): string | undefined {
  return keys.find((k) => typeof body[k] !== 'string');
}

function level(value: unknown, fallback: number, max: number): number | string {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    return `Invalid value ${JSON.stringify(value)}`;
  }
  return value;
}

/** The severity and TLP of a case or alert (2 unless given), or what is wrong with them. */
function severityAndTlp(body: Record<string, unknown>): { severity: number; tlp: number } | string {
  const severity = level(body.severity, 2, 4);
  const tlp = level(body.tlp, 2, 4);
  if (typeof severity === 'string') return severity;
  if (typeof tlp === 'string') return tlp;
  return { severity, tlp };
}

export async function startTheHiveSimulator(options: TheHiveOptions): Promise<TheHiveSimulator> {
  const cases = new Map<string, Record<string, unknown>>();
  const alerts = new Map<string, Record<string, unknown>>();
  const comments: Array<Record<string, unknown>> = [];
  let nextId = 172064;
  let caseNumber = 1;

  const handle = (req: RecordedRequest, res: ServerResponse): void => {
    if (req.headers.authorization !== `Bearer ${options.apiKey}`) {
      sendJson(res, 401, { type: 'AuthenticationError', message: 'Authentication failure' });
      return;
    }
    const organisation = req.headers['x-organisation'];
    if (typeof organisation === 'string' && !options.organisations.includes(organisation)) {
      sendJson(res, 403, hiveError(403, `Organisation ${organisation} not found`));
      return;
    }
    const script = caseSystemScript(res, (s) => hiveError(s, SCRIPTED_MESSAGES[s] ?? 'Error'));
    if (answerMagic(magicIn(req.text), res, script)) return;
    const body = (req.json ?? {}) as Record<string, unknown>;

    if (req.method === 'POST' && req.path === '/api/v1/case') {
      const absent = missing(body, ['title', 'description']);
      if (absent !== undefined) {
        sendJson(res, 400, hiveError(400, `Invalid json: ${absent} is missing`));
        return;
      }
      const levels = severityAndTlp(body);
      if (typeof levels === 'string') {
        sendJson(res, 400, hiveError(400, levels));
        return;
      }
      const { severity, tlp } = levels;
      const id = `~${nextId++}`;
      const created = {
        _id: id,
        _type: 'Case',
        _createdBy: THEHIVE_USER,
        _createdAt: THEHIVE_CREATED_AT,
        number: caseNumber++,
        title: body.title,
        description: body.description,
        severity,
        severityLabel: SEVERITY_LABELS[severity],
        startDate: THEHIVE_CREATED_AT,
        tags: body.tags ?? [],
        flag: false,
        tlp,
        tlpLabel: TLP_LABELS[tlp],
        pap: 2,
        papLabel: 'AMBER',
        status: 'New',
        stage: 'New',
        assignee: THEHIVE_USER,
        customFields: [],
        userPermissions: ['manageCase/create', 'manageCase/update', 'manageComment'],
        extraData: {},
        newDate: THEHIVE_CREATED_AT,
        timeToDetect: 0,
      };
      cases.set(id, created);
      sendJson(res, 201, created);
      return;
    }

    const caseMatch = /^\/api\/v1\/case\/([^/]+)(\/comment)?$/.exec(req.path);
    if (caseMatch !== null) {
      const id = decodeURIComponent(caseMatch[1] ?? '');
      const found = cases.get(id);
      if (found === undefined) {
        sendJson(res, 404, hiveError(404, `Case ${id} not found`));
        return;
      }
      if (caseMatch[2] !== undefined && req.method === 'POST') {
        if (typeof body.message !== 'string') {
          sendJson(res, 400, hiveError(400, 'Invalid json: message is missing'));
          return;
        }
        const comment = {
          _id: `~${nextId++}`,
          _type: 'Comment',
          createdBy: THEHIVE_USER,
          createdAt: THEHIVE_CREATED_AT,
          message: body.message,
          isEdited: false,
          extraData: {},
        };
        comments.push({ ...comment, caseId: id });
        sendJson(res, 201, comment);
        return;
      }
      if (caseMatch[2] === undefined && req.method === 'GET') {
        sendJson(res, 200, found);
        return;
      }
      if (caseMatch[2] === undefined && req.method === 'PATCH') {
        for (const [key, value] of Object.entries(body)) {
          if (value !== null) found[key] = value;
        }
        res.writeHead(204);
        res.end();
        return;
      }
    }

    if (req.method === 'POST' && req.path === '/api/v1/alert') {
      const absent = missing(body, ['type', 'source', 'sourceRef', 'title', 'description']);
      if (absent !== undefined) {
        sendJson(res, 400, hiveError(400, `Invalid json: ${absent} is missing`));
        return;
      }
      const duplicate = [...alerts.values()].some(
        (a) => a.type === body.type && a.source === body.source && a.sourceRef === body.sourceRef,
      );
      if (duplicate) {
        sendJson(
          res,
          400,
          hiveError(
            400,
            `Alert ${String(body.type)}/${String(body.source)}/${String(body.sourceRef)} already exists`,
          ),
        );
        return;
      }
      const levels = severityAndTlp(body);
      if (typeof levels === 'string') {
        sendJson(res, 400, hiveError(400, levels));
        return;
      }
      const { severity, tlp } = levels;
      const id = `~${nextId++}`;
      const observables = Array.isArray(body.observables) ? body.observables : [];
      const alert = {
        _id: id,
        _type: 'Alert',
        _createdBy: THEHIVE_USER,
        _createdAt: THEHIVE_CREATED_AT,
        type: body.type,
        source: body.source,
        sourceRef: body.sourceRef,
        title: body.title,
        description: body.description,
        severity,
        severityLabel: SEVERITY_LABELS[severity],
        date: THEHIVE_CREATED_AT,
        tags: body.tags ?? [],
        tlp,
        tlpLabel: TLP_LABELS[tlp],
        pap: 2,
        papLabel: 'AMBER',
        follow: true,
        customFields: [],
        observableCount: observables.length,
        status: 'New',
        stage: 'New',
        extraData: {},
        newDate: THEHIVE_CREATED_AT,
        timeToDetect: 0,
      };
      alerts.set(id, { ...alert, received: body });
      sendJson(res, 201, alert);
      return;
    }

    sendJson(res, 404, hiveError(404, `No route for ${req.method} ${req.path}`));
  };

  const simulator = await startSimulator(handle);
  return Object.assign(simulator, { cases, alerts, comments });
}
