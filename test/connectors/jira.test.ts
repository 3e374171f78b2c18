import { describe, expect, it } from 'vitest';
import {
  badRequest,
  execute,
  expectCreateRefused,
  expectListedType,
  expectNoSecrets,
  failureClassTests,
  RUN_FAILED,
  retryAt,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { basicAuth, withServer } from '../helpers/server.js';
import {
  JIRA_COMMENTED,
  JIRA_CREATED,
  JIRA_PROJECT,
  JIRA_UPDATED,
  startJiraSimulator,
} from '../simulators/jira.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';

const EMAIL = 'jira-bot@example.com';
const API_TOKEN = 'ATATT3xJiraTokenSecret-77';
const AUTH = basicAuth(EMAIL, API_TOKEN);

function failure(connectorId: string, serviceMessage: string, errorSource = 'framework') {
  return thrownEnvelope(connectorId, serviceMessage, true, errorSource);
}

function jsonError(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('.jira', () => {
  const h = connectorHarness({
    type: '.jira',
    simulator: () => startJiraSimulator({ email: EMAIL, apiToken: API_TOKEN }),
    connector: (jira) => ({
      name: 'jira',
      config: { apiUrl: `${jira.url}/`, projectKey: JIRA_PROJECT },
      secrets: { email: EMAIL, apiToken: API_TOKEN },
    }),
    limited: {
      settings: () => SHORT_LIMITS,
      connector: (jira) => ({
        config: { apiUrl: jira.url, projectKey: JIRA_PROJECT },
        secrets: { email: EMAIL, apiToken: API_TOKEN },
      }),
    },
  });
  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.jira',
      name: 'Jira',
      minimum_license_required: 'gold',
      supported_feature_ids: ['alerting', 'cases', 'uptime', 'siem', 'workflows'],
    });
  });

  it('creates a connector and keeps the secrets out of the reply', async () => {
    const res = await h.server.api('POST', '/api/actions/connector', {
      body: {
        name: 'my jira',
        connector_type_id: '.jira',
        config: { apiUrl: h.sim.url, projectKey: JIRA_PROJECT },
        secrets: { email: EMAIL, apiToken: API_TOKEN },
      },
    });
    h.replies.push(res.text);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.any(String),
      name: 'my jira',
      connector_type_id: '.jira',
      config: { apiUrl: h.sim.url, projectKey: JIRA_PROJECT },
      is_preconfigured: false,
      is_system_action: false,
      is_deprecated: false,
      is_missing_secrets: false,
      is_connector_type_deprecated: false,
    });
  });

  it('runs the docs example {"subAction":"issueTypes"} without subActionParams', async () => {
    const before = h.sim.requests.length;
    const res = await run({ subAction: 'issueTypes' });
    expect(res).toEqual({
      status: 'ok',
      connector_id: h.id,
      data: [
        { id: '10006', name: 'Task' },
        { id: '10007', name: 'Sub-task' },
      ],
    });
    expect(h.sim.requests.length).toBe(before + 1);
    const sent = h.sim.last();
    expect(sent.method).toBe('GET');
    expect(sent.path).toBe(`/rest/api/2/issue/createmeta/${JIRA_PROJECT}/issuetypes`);
    expect([...sent.query]).toEqual([]);
    expect(sent.headers.authorization).toBe(AUTH);
    expect(sent.headers.accept).toBe('application/json');
    expect(sent.headers['content-type']).toBeUndefined();
    expect(sent.text).toBe('');
  });

  it('reads the Data Center shape of issue types and fields (values)', async () => {
    const dc = await startJiraSimulator({
      email: EMAIL,
      apiToken: API_TOKEN,
      flavor: 'datacenter',
    });
    try {
      const dcId = await h.create({
        config: { apiUrl: dc.url, projectKey: JIRA_PROJECT },
        secrets: { email: EMAIL, apiToken: API_TOKEN },
      });
      expect((await run({ subAction: 'issueTypes', subActionParams: {} }, dcId)).data).toEqual([
        { id: '10006', name: 'Task' },
        { id: '10007', name: 'Sub-task' },
      ]);
      const fields = await run(
        { subAction: 'fieldsByIssueType', subActionParams: { id: '10007' } },
        dcId,
      );
      expect(Object.keys(fields.data as object)).toEqual(['summary', 'priority', 'parent']);
    } finally {
      await dc.close();
    }
  });

  it('describes the fields of one issue type', async () => {
    const res = await run({ subAction: 'fieldsByIssueType', subActionParams: { id: '10006' } });
    const priorities = [
      { self: 'https://jira.example/rest/api/2/priority/1', name: 'Highest', id: '1' },
      { self: 'https://jira.example/rest/api/2/priority/3', name: 'Medium', id: '3' },
    ];
    expect(res).toEqual({
      status: 'ok',
      connector_id: h.id,
      data: {
        summary: {
          required: true,
          allowedValues: [],
          defaultValue: {},
          schema: { type: 'string', system: 'summary' },
          name: 'Summary',
        },
        priority: {
          required: false,
          allowedValues: priorities,
          defaultValue: priorities[1],
          schema: { type: 'priority', system: 'priority' },
          name: 'Priority',
        },
        labels: {
          required: false,
          allowedValues: [],
          defaultValue: {},
          schema: { type: 'array', items: 'string', system: 'labels' },
          name: 'Labels',
        },
      },
    });
    expect(h.sim.last().method).toBe('GET');
    expect(h.sim.last().path).toBe(`/rest/api/2/issue/createmeta/${JIRA_PROJECT}/issuetypes/10006`);
    expect(h.sim.last().headers.authorization).toBe(AUTH);
  });

  it('getFields keeps the fields every issue type has', async () => {
    const before = h.sim.requests.length;
    const res = await run({ subAction: 'getFields', subActionParams: {} });
    expect(res.status).toBe('ok');
    const data = res.data as Record<string, { name: string; required: boolean }>;
    expect(Object.keys(data)).toEqual(['summary', 'priority']);
    expect(data.summary).toMatchObject({ name: 'Summary', required: true });
    const paths = h.sim.requests.slice(before).map((r) => `${r.method} ${r.path}`);
    expect(paths.sort()).toEqual(
      [
        `GET /rest/api/2/issue/createmeta/${JIRA_PROJECT}/issuetypes`,
        `GET /rest/api/2/issue/createmeta/${JIRA_PROJECT}/issuetypes/10006`,
        `GET /rest/api/2/issue/createmeta/${JIRA_PROJECT}/issuetypes/10007`,
      ].sort(),
    );
  });

  describe('pushToService', () => {
    let issueId: string;
    let issueKey: string;

    it('creates an issue (default issue type), reads it back, then adds the comments', async () => {
      const before = h.sim.requests.length;
      const res = await run({
        subAction: 'pushToService',
        subActionParams: {
          incident: {
            summary: '  Disk full on\n web-01 \r\n',
            description: 'The disk of web-01 is full',
            labels: ['disk', 'prod'],
            priority: 'High',
          },
          comments: [
            { comment: 'first note', commentId: 'c-1' },
            { comment: '', commentId: 'c-empty' },
          ],
        },
      });
      const sent = h.sim.requests.slice(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        `GET /rest/api/2/issue/createmeta/${JIRA_PROJECT}/issuetypes`,
        'POST /rest/api/2/issue',
        expect.stringMatching(/^GET \/rest\/api\/2\/issue\/\d+$/),
        expect.stringMatching(/^POST \/rest\/api\/2\/issue\/\d+\/comment$/),
      ]);
      const create = sent[1];
      expect(create?.headers.authorization).toBe(AUTH);
      expect(create?.headers['content-type']).toBe('application/json');
      expect(create?.json).toEqual({
        fields: {
          summary: 'Disk full on, web-01',
          project: { key: JIRA_PROJECT },
          issuetype: { id: '10006' },
          description: 'The disk of web-01 is full',
          labels: ['disk', 'prod'],
          priority: { name: 'High' },
        },
      });
      const [issue] = [...h.sim.issues.values()].slice(-1);
      issueId = issue?.id ?? '';
      issueKey = issue?.key ?? '';
      expect(sent[2]?.path).toBe(`/rest/api/2/issue/${issueId}`);
      expect(sent[3]?.json).toEqual({ body: 'first note' });
      expect(sent[3]?.headers.authorization).toBe(AUTH);
      expect(res).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          title: issueKey,
          id: issueId,
          pushedDate: new Date(JIRA_CREATED).toISOString(),
          url: `${h.sim.url}/browse/${issueKey}`,
          comments: [{ commentId: 'c-1', pushedDate: new Date(JIRA_COMMENTED).toISOString() }],
        },
      });
    });

    it('sends the given issue type, parent and otherFields (given as JSON text) on top', async () => {
      const res = await run({
        subAction: 'pushToService',
        subActionParams: {
          incident: {
            summary: 'Child task',
            issueType: '10007',
            parent: issueKey,
            otherFields: JSON.stringify({ customfield_10020: 5, project: { key: 'OPS' } }),
          },
        },
      });
      expect(res.status).toBe('ok');
      const create = h.sim.requests.find(
        (r) => r.method === 'POST' && r.path === '/rest/api/2/issue' && r.text.includes('Child'),
      );
      expect(create?.json).toEqual({
        fields: {
          summary: 'Child task',
          project: { key: 'OPS' },
          issuetype: { id: '10007' },
          parent: { key: issueKey },
          customfield_10020: 5,
        },
      });
    });

    it('updates an issue without its null fields and reports the update time', async () => {
      const before = h.sim.requests.length;
      const res = await run({
        subAction: 'pushToService',
        subActionParams: {
          incident: { summary: 'Disk full (updated)', externalId: issueId, description: null },
          comments: null,
        },
      });
      const sent = h.sim.requests.slice(before);
      expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
        `PUT /rest/api/2/issue/${issueId}`,
        `GET /rest/api/2/issue/${issueId}`,
      ]);
      expect(sent[0]?.json).toEqual({
        fields: { summary: 'Disk full (updated)', project: { key: JIRA_PROJECT } },
      });
      expect(sent[0]?.headers.authorization).toBe(AUTH);
      expect(res).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          title: issueKey,
          id: issueId,
          pushedDate: new Date(JIRA_UPDATED).toISOString(),
          url: `${h.sim.url}/browse/${issueKey}`,
        },
      });
    });

    it('getIncident answers the issue fields flattened', async () => {
      const res = await run({ subAction: 'getIncident', subActionParams: { externalId: issueId } });
      expect(h.sim.last().method).toBe('GET');
      expect(h.sim.last().path).toBe(`/rest/api/2/issue/${issueId}`);
      expect(h.sim.last().headers.authorization).toBe(AUTH);
      expect(res).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          id: issueId,
          key: issueKey,
          created: JIRA_CREATED,
          updated: JIRA_UPDATED,
          summary: 'Disk full (updated)',
          issuetype: { id: '10006' },
          description: 'The disk of web-01 is full',
          labels: ['disk', 'prod'],
          priority: { name: 'High' },
        },
      });
    });

    it('issue answers id, key and title', async () => {
      const res = await run({ subAction: 'issue', subActionParams: { id: issueKey } });
      expect(h.sim.last().path).toBe(`/rest/api/2/issue/${issueKey}`);
      expect(res).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: { id: issueId, key: issueKey, title: 'Disk full (updated)' },
      });
    });

    it('issues searches the project by summary with JQL, escaping special characters', async () => {
      const res = await run({ subAction: 'issues', subActionParams: { title: 'Disk "full" (up' } });
      const sent = h.sim.last();
      expect(sent.method).toBe('GET');
      expect(sent.path).toBe('/rest/api/2/search/jql');
      expect([...sent.query]).toEqual([
        ['jql', `project="${JIRA_PROJECT}" and summary ~"Disk full \\\\(up"`],
        ['fields', 'summary,key'],
      ]);
      expect(sent.headers.authorization).toBe(AUTH);
      expect(res).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: [{ id: issueId, key: issueKey, title: 'Disk full (updated)' }],
      });
    });
  });

  it('refuses handshake as Kibana does (not implemented)', async () => {
    const before = h.sim.requests.length;
    expect(await run({ subAction: 'handshake', subActionParams: {} })).toEqual(
      failure(h.id, '[Action][ExternalService] subAction handshake not implemented.'),
    );
    expect(h.sim.requests.length).toBe(before);
  });

  describe('vendor failures', () => {
    const issue = (value: string) => ({ subAction: 'issue', subActionParams: { id: value } });
    const context = (value: string) => `[Action][Jira]: Unable to get issue with id ${value}`;

    const failed = (magic: string, error: string) =>
      failure(h.id, `${context(magic)}. Error: ${error}`);
    const statusFailed = (status: number, reason: string) =>
      failed(
        `respond-with-${status}`,
        `Request failed with status code ${status}. Reason: ${reason}`,
      );
    const retriedAt = (magic: string, status: number, reason: string, errorSource: string) =>
      retryAt(RETRY_AFTER_SECONDS, (retry) => ({
        status: 'error',
        connector_id: h.id,
        message: RUN_FAILED,
        service_message: `${context(magic)}. Error: Request failed with status code ${status}. Reason: ${reason}`,
        retry,
        errorSource,
      }));

    failureClassTests((magic) => run(issue(magic)), {
      'respond-with-400': () => statusFailed(400, 'You must specify a summary of the issue.'),
      'respond-with-401': () =>
        statusFailed(
          401,
          'You are not authenticated. Authentication required to perform this operation.',
        ),
      'respond-with-404': () =>
        statusFailed(404, 'Issue does not exist or you do not have permission to see it.'),
      'respond-with-500': () => statusFailed(500, 'Internal server error'),
      'respond-with-502': () => statusFailed(502, 'unknown: errorResponse.errors was null'),
      // The user's fault, and retried.
      'respond-with-429': () =>
        failure(
          h.id,
          `${context('respond-with-429')}. Error: Request failed with status code 429. Reason: Rate limit exceeded.`,
          'user',
        ),
      'respond-with-429-retry-after': retriedAt(
        'respond-with-429-retry-after',
        429,
        'Rate limit exceeded.',
        'user',
      ),
      'respond-with-503-retry-after': retriedAt(
        'respond-with-503-retry-after',
        503,
        'Internal server error',
        'framework',
      ),
      // An answer that is not JSON.
      'respond-with-html': () =>
        failure(
          h.id,
          `${context('respond-with-html')}. Error: Unsupported content type: text/html;charset=UTF-8 in get ${h.sim.url}/rest/api/2/issue/respond-with-html. Supported content types: application/json. Reason: unknown: errorResponse was null`,
        ),
      'respond-with-reset': () =>
        failed('respond-with-reset', 'socket hang up. Reason: unknown: errorResponse was null'),
    });

    it('a wrong API token (Jira answers a text page)', async () => {
      const wrong = await h.create({
        config: { apiUrl: h.sim.url, projectKey: JIRA_PROJECT },
        secrets: { email: EMAIL, apiToken: 'not-the-token' },
      });
      expect(await run({ subAction: 'issueTypes' }, wrong)).toEqual(
        failure(
          wrong,
          '[Action][Jira]: Unable to get issue types. Error: Request failed with status code 401. Reason: unknown: errorResponse.errors was null',
        ),
      );
      expect(h.sim.last().headers.authorization).toBe(basicAuth(EMAIL, 'not-the-token'));
    });

    it('an unknown project', async () => {
      const other = await h.create({
        config: { apiUrl: h.sim.url, projectKey: 'NOPE' },
        secrets: { email: EMAIL, apiToken: API_TOKEN },
      });
      expect(
        await run(
          { subAction: 'pushToService', subActionParams: { incident: { summary: 'x' } } },
          other,
        ),
      ).toEqual(
        failure(
          other,
          "[Action][Jira]: Unable to get issue types. Error: Request failed with status code 404. Reason: No project could be found with key 'NOPE'.",
        ),
      );
    });

    it('a failed create, and a failed read-back nested in the update context', async () => {
      expect(
        await run({
          subAction: 'pushToService',
          subActionParams: { incident: { summary: 'respond-with-500', issueType: '10006' } },
        }),
      ).toEqual(
        failure(
          h.id,
          '[Action][Jira]: Unable to create incident. Error: Request failed with status code 500. Reason: Internal server error',
        ),
      );
      expect(
        await run({
          subAction: 'pushToService',
          subActionParams: { incident: { summary: 'gone', externalId: '999' } },
        }),
      ).toEqual(
        failure(
          h.id,
          '[Action][Jira]: Unable to update incident with id 999. Error: Request failed with status code 404. Reason: Issue does not exist or you do not have permission to see it.',
        ),
      );
    });

    it('a failed comment', async () => {
      const [issue] = [...h.sim.issues.values()];
      expect(
        await run({
          subAction: 'pushToService',
          subActionParams: {
            incident: { summary: 'with comment', externalId: issue?.id },
            comments: [{ comment: 'respond-with-400', commentId: 'c-9' }],
          },
        }),
      ).toEqual(
        failure(
          h.id,
          `[Action][Jira]: Unable to create comment at incident with id ${issue?.id}. Error: Request failed with status code 400. Reason: You must specify a summary of the issue.`,
        ),
      );
    });
  });

  describe('with a short response timeout and a small response cap', () => {
    const noAnswer = (id: string, error: string) =>
      failure(
        h.limited.id,
        `[Action][Jira]: Unable to get issue with id ${id}. Error: ${error}. Reason: unknown: errorResponse was null`,
      );
    failureClassTests(
      (id) =>
        execute(h.limited.server.api, h.limited.id, {
          subAction: 'issue',
          subActionParams: { id },
        }),
      {
        'respond-with-timeout': () => noAnswer('respond-with-timeout', 'timeout of 300ms exceeded'),
        'respond-with-large': () =>
          noAnswer('respond-with-large', 'maxContentLength size of 1024 exceeded'),
      },
    );
  });

  describe('validation', () => {
    const paramsError = (message: string) => ({
      status: 'error',
      connector_id: h.id,
      message: `error validating action params: ${message}`,
      retry: false,
      errorSource: 'user',
    });

    it('names every sub-action for an unknown one', async () => {
      expect(await run({ subAction: 'deleteEverything', subActionParams: {} })).toEqual(
        paramsError(
          [
            'types that failed validation:',
            '- [0.subAction]: expected value to equal [getFields]',
            '- [1.subAction]: expected value to equal [getIncident]',
            '- [2.subAction]: expected value to equal [handshake]',
            '- [3.subAction]: expected value to equal [pushToService]',
            '- [4.subAction]: expected value to equal [issueTypes]',
            '- [5.subAction]: expected value to equal [fieldsByIssueType]',
            '- [6.subAction]: expected value to equal [issues]',
            '- [7.subAction]: expected value to equal [issue]',
          ].join('\n'),
        ),
      );
    });

    it('reports the field of the matching sub-action', async () => {
      const res = await run({ subAction: 'issue', subActionParams: {} });
      expect(res.message).toContain(
        '- [7.subActionParams.id]: expected value of type [string] but got [undefined]',
      );
      expect(res.message).toContain('- [6.subAction]: expected value to equal [issues]');
      expect(res).toMatchObject({ status: 'error', retry: false, errorSource: 'user' });
    });

    it.each([
      [{ summary: 's', labels: ['has space'] }, 'The label has space cannot contain spaces'],
      [
        { summary: 's', otherFields: { summary: 'dup' } },
        'The following properties cannot be defined inside otherFields: summary.',
      ],
      [
        {
          summary: 's',
          otherFields: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`f${i}`, i])),
        },
        'A maximum of 20 fields in otherFields can be defined at a time.',
      ],
      [
        { summary: 's', otherFields: '{not json' },
        `[3.subActionParams.incident.otherFields]: ${jsonError('{not json')}`,
      ],
      [
        { summary: 's', unknown: 1 },
        '[3.subActionParams.incident.unknown]: definition for this key is missing',
      ],
    ])('refuses the incident %j', async (incident, expected) => {
      const res = await run({ subAction: 'pushToService', subActionParams: { incident } });
      expect(res).toMatchObject({ status: 'error', retry: false, errorSource: 'user' });
      expect(res.message).toContain(expected);
      expect(res.message?.startsWith('error validating action params: types that failed')).toBe(
        true,
      );
    });

    it('requires apiUrl and projectKey, and the email and API token', async () => {
      await expectCreateRefused(
        h.server.api,
        { name: 'x', connector_type_id: '.jira', config: { apiUrl: h.sim.url }, secrets: {} },
        'error validating connector type config: [projectKey]: expected value of type [string] but got [undefined]',
      );
      const noToken = await h.server.api('POST', '/api/actions/connector', {
        body: {
          name: 'x',
          connector_type_id: '.jira',
          config: { apiUrl: h.sim.url, projectKey: 'A' },
          secrets: { email: EMAIL },
        },
      });
      expect(noToken.body).toEqual(
        badRequest(
          'error validating connector type secrets: [apiToken]: expected value of type [string] but got [undefined]',
        ),
      );
    });

    it('refuses an apiUrl outside xpack.actions.allowedHosts', async () => {
      await withServer(
        {
          settings: { 'xpack.actions.allowedHosts': ['jira.example'] },
        },
        async (guarded) => {
          const res = await guarded.api('POST', '/api/actions/connector', {
            body: {
              name: 'x',
              connector_type_id: '.jira',
              config: { apiUrl: h.sim.url, projectKey: JIRA_PROJECT },
              secrets: { email: EMAIL, apiToken: API_TOKEN },
            },
          });
          expect(res.status).toBe(400);
          expect(res.body).toEqual(
            badRequest(
              `error validating connector type config: error configuring connector action: target url "${h.sim.url}" is not added to the Kibana config xpack.actions.allowedHosts`,
            ),
          );
          expectNoSecrets(guarded, [API_TOKEN, EMAIL], [res.text]);
        },
      );
    });
  });

  it('never shows the email or API token in a reply or a log line', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, [API_TOKEN, EMAIL, AUTH.slice('Basic '.length)], h.replies);
  });
});
