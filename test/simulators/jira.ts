import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  type Simulator,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { answerMagic, incidentSystemScript, requestMagic } from './magic.js';

/**
 * Jira's REST API v2 as the Jira connector uses it (Cloud shapes by default, Data Center shapes
 * with `flavor: 'datacenter'`): basic auth with an account email and API token; issues created,
 * read and updated in memory; comments; create metadata (issue types and their fields); JQL
 * search. Errors carry Jira's `{errorMessages, errors}` body; magic inputs (see magic.ts) script
 * failures, e.g. a summary, issue id, title or project key reading `respond-with-429`.
 */

export const JIRA_PROJECT = 'ROC';
export const JIRA_CREATED = '2024-05-02T10:11:12.345+0000';
export const JIRA_UPDATED = '2024-05-02T10:15:00.000+0000';
export const JIRA_COMMENTED = '2024-05-02T10:16:30.500+0000';

export const JIRA_ISSUE_TYPES = [
  { id: '10006', name: 'Task' },
  { id: '10007', name: 'Sub-task' },
];

const field = (fieldId: string, name: string, required: boolean, schema: object, extra = {}) => ({
  required,
  schema,
  name,
  key: fieldId,
  fieldId,
  hasDefaultValue: false,
  operations: ['set'],
  ...extra,
});

const PRIORITIES = [
  { self: 'https://jira.example/rest/api/2/priority/1', name: 'Highest', id: '1' },
  { self: 'https://jira.example/rest/api/2/priority/3', name: 'Medium', id: '3' },
];

const PRIORITY_FIELD = field(
  'priority',
  'Priority',
  false,
  { type: 'priority', system: 'priority' },
  { allowedValues: PRIORITIES, defaultValue: PRIORITIES[1], hasDefaultValue: true },
);

/** Create metadata per issue type: both share summary and priority; only Task has labels. */
export const JIRA_FIELDS: Record<string, Array<Record<string, unknown>>> = {
  '10006': [
    field('summary', 'Summary', true, { type: 'string', system: 'summary' }),
    PRIORITY_FIELD,
    field('labels', 'Labels', false, { type: 'array', items: 'string', system: 'labels' }),
  ],
  '10007': [
    field('summary', 'Summary', true, { type: 'string', system: 'summary' }),
    PRIORITY_FIELD,
    field('parent', 'Parent', true, { type: 'issuelink', system: 'parent' }),
  ],
};

interface Issue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  comments: Array<{ id: string; body: string }>;
}

export interface JiraSimulator extends Simulator {
  issues: Map<string, Issue>;
}

export interface JiraSimulatorOptions {
  email: string;
  apiToken: string;
  flavor?: 'cloud' | 'datacenter';
}

function errorBody(status: number) {
  switch (status) {
    case 400:
      return { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } };
    case 401:
      return {
        errorMessages: [
          'You are not authenticated. Authentication required to perform this operation.',
        ],
        errors: {},
      };
    case 404:
      return {
        errorMessages: ['Issue does not exist or you do not have permission to see it.'],
        errors: {},
      };
    case 429:
      return { errorMessages: ['Rate limit exceeded.'], errors: {} };
    default:
      return { errorMessages: ['Internal server error'], errors: {} };
  }
}

const notFound = (res: ServerResponse, message: string) =>
  sendJson(res, 404, { errorMessages: [message], errors: {} });

export async function startJiraSimulator(options: JiraSimulatorOptions): Promise<JiraSimulator> {
  const issues = new Map<string, Issue>();
  let nextId = 10000;
  let nextComment = 20000;
  const expectedAuth = `Basic ${Buffer.from(`${options.email}:${options.apiToken}`).toString('base64')}`;
  const values = options.flavor === 'datacenter' ? 'values' : undefined;

  const find = (idOrKey: string) =>
    issues.get(idOrKey) ?? [...issues.values()].find((i) => i.key === idOrKey);

  const issueJson = (issue: Issue, base: string) => ({
    expand: 'renderedFields,names,schema',
    id: issue.id,
    self: `${base}/rest/api/2/issue/${issue.id}`,
    key: issue.key,
    fields: issue.fields,
  });

  const handle = (req: RecordedRequest, res: ServerResponse, base: string) => {
    if (req.headers.authorization !== expectedAuth) {
      // Jira answers a bad API token with a plain-text page, not its JSON error body.
      return sendText(res, 401, 'Client must be authenticated to access this resource.');
    }
    const path = req.path;
    const meta = /^\/rest\/api\/2\/issue\/createmeta\/([^/]+)\/issuetypes(?:\/([^/]+))?$/.exec(
      path,
    );
    if (meta !== null && req.method === 'GET') {
      const [, project, typeId] = meta;
      if (project !== JIRA_PROJECT) {
        return notFound(res, `No project could be found with key '${project}'.`);
      }
      if (typeId === undefined) {
        const list = JIRA_ISSUE_TYPES.map((t) => ({
          self: `${base}/rest/api/2/issuetype/${t.id}`,
          id: t.id,
          description: `A ${t.name.toLowerCase()}`,
          iconUrl: `${base}/images/icons/${t.id}.svg`,
          name: t.name,
          subtask: t.name === 'Sub-task',
        }));
        return sendJson(res, 200, {
          maxResults: 50,
          startAt: 0,
          total: list.length,
          isLast: true,
          [values ?? 'issueTypes']: list,
        });
      }
      const fields = JIRA_FIELDS[typeId];
      if (fields === undefined) return notFound(res, `Issue type with id '${typeId}' not found.`);
      return sendJson(res, 200, {
        maxResults: 50,
        startAt: 0,
        total: fields.length,
        isLast: true,
        [values ?? 'fields']: fields,
      });
    }
    if (path === '/rest/api/2/search/jql' && req.method === 'GET') {
      const jql = req.query.get('jql') ?? '';
      const term = /summary ~"(.*)"$/.exec(jql)?.[1] ?? '';
      const words = term.replaceAll('\\', '').toLowerCase().split(/\s+/).filter(Boolean);
      const found = [...issues.values()].filter((i) =>
        words.every((w) => String(i.fields.summary).toLowerCase().includes(w)),
      );
      return sendJson(res, 200, {
        issues: found.map((i) => ({
          expand: '',
          id: i.id,
          self: `${base}/rest/api/2/issue/${i.id}`,
          key: i.key,
          fields: { summary: i.fields.summary },
        })),
        isLast: true,
      });
    }
    if (path === '/rest/api/2/issue' && req.method === 'POST') {
      const fields = (req.json as { fields?: Record<string, unknown> } | undefined)?.fields;
      if (fields === undefined || typeof fields.summary !== 'string' || fields.summary === '') {
        return sendJson(res, 400, errorBody(400));
      }
      const id = String(nextId++);
      const key = `${JIRA_PROJECT}-${issues.size + 1}`;
      const { project: _p, ...rest } = fields;
      issues.set(id, {
        id,
        key,
        fields: { ...rest, created: JIRA_CREATED, updated: JIRA_CREATED },
        comments: [],
      });
      return sendJson(res, 201, { id, key, self: `${base}/rest/api/2/issue/${id}` });
    }
    const one = /^\/rest\/api\/2\/issue\/([^/]+)(\/comment)?$/.exec(path);
    if (one !== null) {
      const [, idOrKey = '', comment] = one;
      const issue = find(idOrKey);
      if (issue === undefined) return sendJson(res, 404, errorBody(404));
      if (comment !== undefined && req.method === 'POST') {
        const body = (req.json as { body?: unknown } | undefined)?.body;
        if (typeof body !== 'string' || body === '') {
          return sendJson(res, 400, {
            errorMessages: [],
            errors: { comment: 'Comment body can not be empty!' },
          });
        }
        const id = String(nextComment++);
        issue.comments.push({ id, body });
        return sendJson(res, 201, {
          self: `${base}/rest/api/2/issue/${issue.id}/comment/${id}`,
          id,
          body,
          created: JIRA_COMMENTED,
          updated: JIRA_COMMENTED,
        });
      }
      if (comment === undefined && req.method === 'GET') {
        return sendJson(res, 200, issueJson(issue, base));
      }
      if (comment === undefined && req.method === 'PUT') {
        const fields = (req.json as { fields?: Record<string, unknown> } | undefined)?.fields ?? {};
        const { project: _p, ...rest } = fields;
        Object.assign(issue.fields, rest, { updated: JIRA_UPDATED });
        res.writeHead(204);
        res.end();
        return;
      }
    }
    return notFound(res, `No route for ${req.method} ${path}`);
  };

  let base = '';
  const sim = await startSimulator((req, res) => {
    const normal = () => handle(req, res, base);
    if (answerMagic(requestMagic(req), res, incidentSystemScript(res, errorBody, normal))) return;
    normal();
  });
  base = sim.url;
  return Object.assign(sim, { issues });
}
