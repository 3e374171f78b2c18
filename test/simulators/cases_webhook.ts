import type { ServerResponse } from 'node:http';
import type { ServerOptions as HttpsOptions } from 'node:https';
import type { TLSSocket } from 'node:tls';
import {
  basicCredentials,
  type RecordedRequest,
  type Simulator,
  sendJson,
  startSimulator,
} from './base.js';
import { answerMagic, caseSystemScript, magicIn } from './magic.js';

/**
 * A case-management system for the cases webhook connector, speaking a subset of Jira's REST API
 * v2 (as Kibana's own cases webhook tests point the connector at Jira routes): create an issue,
 * read it (one by one, or `POST /rest/api/2/issue/bulkfetch`), update it (204), comment on it.
 * Requests need Basic credentials unless `credentials` is null. Errors are Jira's
 * `{errorMessages, errors}` bodies, including its field errors (a summary is required, labels may
 * not contain spaces, the project must exist). Over HTTPS with `requestCert`, the subject of the
 * client certificate each request presented is recorded. Scripted failures: see
 * caseSystemScript in magic.ts.
 */

export const JIRA_CREATED = '2020-04-27T14:17:45.490+0000';
export const JIRA_PROJECT = 'ROC';

export interface JiraIssue {
  id: string;
  key: string;
  fields: Record<string, unknown>;
  comments: Array<{ id: string; body: string }>;
}

export interface CaseSystemSimulator extends Simulator {
  issues: Map<string, JiraIssue>;
  /** CN of the client certificate of each request, in order (HTTPS with requestCert only). */
  clientCertificates: Array<string | undefined>;
}

export interface CaseSystemOptions {
  credentials: { username: string; password: string } | null;
  https?: HttpsOptions;
}

function jiraError(messages: string[], errors: Record<string, string> = {}) {
  return { errorMessages: messages, errors };
}

const SCRIPTED: Record<number, string> = {
  400: 'The request is not valid.',
  403: 'You do not have permission to do this.',
  404: 'Issue does not exist or you do not have permission to see it.',
  429: 'Rate limit exceeded.',
  500: 'Internal server error',
};

export async function startCaseSystemSimulator(
  options: CaseSystemOptions,
): Promise<CaseSystemSimulator> {
  const issues = new Map<string, JiraIssue>();
  const clientCertificates: Array<string | undefined> = [];
  let nextId = 10001;
  let nextComment = 20001;
  let baseUrl = '';

  const find = (idOrKey: string) =>
    issues.get(idOrKey) ?? [...issues.values()].find((i) => i.key === idOrKey);

  const view = (issue: JiraIssue) => ({
    id: issue.id,
    key: issue.key,
    self: `${baseUrl}/rest/api/2/issue/${issue.id}`,
    fields: {
      ...issue.fields,
      comment: { comments: issue.comments, total: issue.comments.length },
    },
  });

  const fieldErrors = (fields: Record<string, unknown>, creating: boolean) => {
    const errors: Record<string, string> = {};
    if (creating && (typeof fields.summary !== 'string' || fields.summary.trim() === '')) {
      errors.summary = 'You must specify a summary of the issue.';
    }
    if (fields.labels !== undefined) {
      const bad = Array.isArray(fields.labels)
        ? fields.labels.find((l) => typeof l !== 'string' || /\s/.test(l))
        : fields.labels;
      if (bad !== undefined)
        errors.labels = `The label '${String(bad)}' contains spaces which is invalid.`;
    }
    const project = fields.project as { key?: unknown } | undefined;
    if (creating && project?.key !== JIRA_PROJECT) errors.project = 'valid project is required';
    return errors;
  };

  const handle = (req: RecordedRequest, res: ServerResponse): void => {
    const socket = res.socket as TLSSocket | null;
    if (options.https !== undefined && socket !== null) {
      const subject = socket.getPeerCertificate?.().subject as { CN?: string } | undefined;
      clientCertificates.push(subject?.CN);
    }
    if (options.credentials !== null) {
      const given = basicCredentials(req);
      if (
        given?.username !== options.credentials.username ||
        given.password !== options.credentials.password
      ) {
        sendJson(
          res,
          401,
          jiraError([
            'You are not authenticated. Authentication required to perform this operation.',
          ]),
        );
        return;
      }
    }
    const script = caseSystemScript(res, (s) => jiraError([SCRIPTED[s] ?? 'Error']));
    if (answerMagic(magicIn(req.text), res, script)) return;
    const body = req.json as Record<string, unknown> | undefined;

    if (req.method === 'POST' && req.path === '/rest/api/2/issue') {
      const fields = (body?.fields ?? {}) as Record<string, unknown>;
      const errors = fieldErrors(fields, true);
      if (Object.keys(errors).length > 0) {
        sendJson(res, 400, jiraError([], errors));
        return;
      }
      const id = String(nextId++);
      const issue: JiraIssue = {
        id,
        key: `${JIRA_PROJECT}-${issues.size + 1}`,
        fields: { ...fields, created: JIRA_CREATED, updated: JIRA_CREATED },
        comments: [],
      };
      issues.set(id, issue);
      sendJson(res, 201, { id, key: issue.key, self: `${baseUrl}/rest/api/2/issue/${id}` });
      return;
    }

    if (req.method === 'POST' && req.path === '/rest/api/2/issue/bulkfetch') {
      const wanted = (body?.issueIdsOrKeys ?? []) as unknown[];
      const found = wanted.map((k) => find(String(k)));
      sendJson(res, 200, {
        issues: found.filter((i): i is JiraIssue => i !== undefined).map(view),
        issueErrors: wanted.filter((_, i) => found[i] === undefined),
      });
      return;
    }

    const match = /^\/rest\/api\/2\/issue\/([^/]+)(\/comment)?$/.exec(req.path);
    if (match !== null) {
      const issue = find(decodeURIComponent(match[1] ?? ''));
      if (issue === undefined) {
        sendJson(res, 404, jiraError([SCRIPTED[404] ?? '']));
        return;
      }
      if (match[2] !== undefined && req.method === 'POST') {
        if (typeof body?.body !== 'string') {
          sendJson(res, 400, jiraError([], { comment: 'Comment body can not be empty!' }));
          return;
        }
        const comment = { id: String(nextComment++), body: body.body };
        issue.comments.push(comment);
        sendJson(res, 201, {
          ...comment,
          self: `${baseUrl}/rest/api/2/issue/${issue.id}/comment/${comment.id}`,
          created: JIRA_CREATED,
          updated: JIRA_CREATED,
        });
        return;
      }
      if (match[2] === undefined && req.method === 'GET') {
        sendJson(res, 200, view(issue));
        return;
      }
      if (match[2] === undefined && req.method === 'PUT') {
        const fields = (body?.fields ?? {}) as Record<string, unknown>;
        const errors = fieldErrors(fields, false);
        if (Object.keys(errors).length > 0) {
          sendJson(res, 400, jiraError([], errors));
          return;
        }
        Object.assign(issue.fields, fields);
        res.writeHead(204);
        res.end();
        return;
      }
    }
    sendJson(res, 404, jiraError([`No route for ${req.method} ${req.path}`]));
  };

  const simulator = await startSimulator(
    handle,
    options.https !== undefined ? { https: options.https } : {},
  );
  baseUrl = simulator.url;
  return Object.assign(simulator, { issues, clientCertificates });
}
