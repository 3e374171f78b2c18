import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { render, renderNoEscape } from '../../src/connectors/cases_webhook/mustache.js';
import {
  badRequest,
  expectListedType,
  expectNoSecrets,
  expectRetryAt,
  failureClassTests,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { startCaseSystemSimulator } from '../simulators/cases_webhook.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';

const USER = 'jira-user';
const PASSWORD = 'jira-password-Tq7Lm';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const SECRET_HEADER = 'secret-header-value-Ny5';
const NAME = '[Action][Webhook - Case Management]';

const ISSUE_JSON =
  '{"fields":{"summary":{{{case.title}}},"description":{{{case.description}}},"labels":{{{case.tags}}},"project":{"key":"ROC"},"issuetype":{"id":"10024"}}}';

function configFor(url: string) {
  return {
    createIncidentUrl: `${url}/rest/api/2/issue`,
    createIncidentMethod: 'post',
    createIncidentJson: ISSUE_JSON,
    createIncidentResponseKey: 'id',
    getIncidentUrl: `${url}/rest/api/2/issue/{{{external.system.id}}}`,
    getIncidentResponseExternalTitleKey: 'key',
    viewIncidentUrl: `${url}/browse/{{{external.system.title}}}`,
    updateIncidentUrl: `${url}/rest/api/2/issue/{{{external.system.id}}}`,
    updateIncidentMethod: 'put',
    updateIncidentJson: ISSUE_JSON,
    createCommentUrl: `${url}/rest/api/2/issue/{{{external.system.id}}}/comment`,
    createCommentMethod: 'post',
    createCommentJson: '{"body":{{{case.comment}}}}',
    headers: { 'kbn-xsrf': 'abcd', 'X-Config': 'configValue' },
  };
}

const TLS_DIR = join(import.meta.dirname, '..', 'fixtures', 'tls');
const tlsFile = (name: string) => readFileSync(join(TLS_DIR, name));

describe('.cases-webhook', () => {
  const h = connectorHarness({
    type: '.cases-webhook',
    simulator: () =>
      startCaseSystemSimulator({ credentials: { username: USER, password: PASSWORD } }),
    settings: (sim) => ({
      'xpack.actions.allowedHosts': ['127.0.0.1'],
      'xpack.actions.preconfigured': {
        'cw-not-allowed': {
          name: 'stored before allowedHosts changed',
          actionTypeId: '.cases-webhook',
          config: {
            ...configFor(sim.url),
            viewIncidentUrl: 'https://cases.example.com/{{{external.system.id}}}',
          },
          secrets: { user: USER, password: PASSWORD },
        },
        'cw-bad-secrets': {
          name: 'half a login',
          actionTypeId: '.cases-webhook',
          config: configFor(sim.url),
          secrets: { user: USER },
        },
      },
    }),
    limited: {
      settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    },
    connector: (sim) => ({
      config: configFor(sim.url),
      secrets: { user: USER, password: PASSWORD, secretHeaders: { 'X-Secret': SECRET_HEADER } },
    }),
  });

  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);
  const push = (
    incident: Record<string, unknown>,
    comments: unknown = null,
    connectorId?: string,
  ) => run({ subAction: 'pushToService', subActionParams: { incident, comments } }, connectorId);
  const failure = (connectorId: string, serviceMessage: string, retry: boolean) =>
    thrownEnvelope(connectorId, serviceMessage, retry, 'framework');
  const connector = (
    config: Record<string, unknown>,
    secrets: unknown = { user: USER, password: PASSWORD },
  ) =>
    h.create({
      config: { ...configFor(h.sim.url), ...config },
      secrets: secrets as Record<string, unknown>,
    });
  const lastIssue = () => [...h.sim.issues.values()].at(-1);

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.cases-webhook',
      name: 'Webhook - Case Management',
      minimum_license_required: 'gold',
      supported_feature_ids: ['cases'],
    });
  });

  it('stores the config with its defaults', async () => {
    const res = await h.server.api<{ config: unknown }>('GET', `/api/actions/connector/${h.id}`);
    expect(res.body.config).toEqual({
      ...configFor(h.sim.url),
      getIncidentMethod: 'get',
      getIncidentJson: null,
      hasAuth: true,
    });
  });

  describe('pushToService', () => {
    it('creates a case from the templates, reads it back, then comments', async () => {
      const before = Date.now();
      const body = await push(
        {
          title: 'a "quoted" <title> & more',
          description: 'a description',
          tags: ['tag1', 'tag2'],
          id: 'kibana-case-id',
          severity: 'high',
          status: 'open',
          externalId: null,
        },
        [
          { comment: 'first comment', commentId: '456' },
          { comment: '', commentId: 'empty' },
        ],
      );
      const issue = lastIssue();
      const data = body.data as { pushedDate: string };
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          id: issue?.id,
          title: issue?.key,
          url: `${h.sim.url}/browse/${issue?.key}`,
          pushedDate: data.pushedDate,
          comments: [{ commentId: '456', pushedDate: data.pushedDate }],
        },
      });
      expect(Date.parse(data.pushedDate)).toBeGreaterThanOrEqual(before);
      expect(Date.parse(data.pushedDate)).toBeLessThanOrEqual(Date.now());

      const [create, get, comment] = h.sim.requests.slice(-3);
      expect(create?.method).toBe('POST');
      expect(create?.path).toBe('/rest/api/2/issue');
      expect(create?.headers).toMatchObject({
        authorization: BASIC,
        'content-type': 'application/json',
        'kbn-xsrf': 'abcd',
        'x-config': 'configValue',
        'x-secret': SECRET_HEADER,
      });
      expect(create?.text).toBe(
        '{"fields":{"summary":"a \\"quoted\\" <title> & more","description":"a description","labels":["tag1","tag2"],"project":{"key":"ROC"},"issuetype":{"id":"10024"}}}',
      );
      expect(get?.method).toBe('GET');
      expect(get?.path).toBe(`/rest/api/2/issue/${issue?.id}`);
      expect(get?.headers.authorization).toBe(BASIC);
      expect(comment?.method).toBe('POST');
      expect(comment?.path).toBe(`/rest/api/2/issue/${issue?.id}/comment`);
      expect(comment?.text).toBe('{"body":"first comment"}');
      expect(issue?.comments).toEqual([{ id: expect.any(String), body: 'first comment' }]);
    });

    it('sends "" for absent values and [] for absent tags, and no comments key without comments', async () => {
      const body = await push({ title: 'only a title' }, []);
      expect(body.status).toBe('ok');
      expect(body.data).not.toHaveProperty('comments');
      expect(h.sim.requests.at(-2)?.json).toEqual({
        fields: {
          summary: 'only a title',
          description: '',
          labels: [],
          project: { key: 'ROC' },
          issuetype: { id: '10024' },
        },
      });
    });

    it('updates a case, with the id JSON-encoded in the body and URI-encoded in URLs', async () => {
      await push({ title: 'to update' });
      const issue = lastIssue();
      const key = String(issue?.key);
      const updater = await connector({
        updateIncidentJson:
          '{"fields":{"summary":{{{case.title}}},"labels":{{{case.tags}}}},"ref":{{{external.system.id}}}}',
      });
      const body = await push(
        { title: 'updated', tags: ['x'], externalId: key },
        [{ comment: 'after update', commentId: 'c-9' }],
        updater,
      );
      const data = body.data as { pushedDate: string };
      expect(body).toEqual({
        status: 'ok',
        connector_id: updater,
        data: {
          id: key,
          title: key,
          url: `${h.sim.url}/browse/${key}`,
          pushedDate: data.pushedDate,
          comments: [{ commentId: 'c-9', pushedDate: data.pushedDate }],
        },
      });
      const [put, get, comment] = h.sim.requests.slice(-3);
      expect(put?.method).toBe('PUT');
      expect(put?.path).toBe(`/rest/api/2/issue/${key}`);
      expect(put?.text).toBe(`{"fields":{"summary":"updated","labels":["x"]},"ref":"${key}"}`);
      expect(get?.path).toBe(`/rest/api/2/issue/${key}`);
      expect(comment?.path).toBe(`/rest/api/2/issue/${key}/comment`);
      expect(issue?.fields.summary).toBe('updated');
    });

    it('reads the case with POST and a body when configured so, following a nested key', async () => {
      const poster = await connector({
        getIncidentMethod: 'post',
        getIncidentUrl: `${h.sim.url}/rest/api/2/issue/bulkfetch`,
        getIncidentJson: '{"issueIdsOrKeys":[{{{external.system.id}}}],"fields":["summary"]}',
        getIncidentResponseExternalTitleKey: 'issues[0].key',
      });
      const body = await push({ title: 'fetched in bulk' }, null, poster);
      const issue = lastIssue();
      expect(body.data).toMatchObject({ id: issue?.id, title: issue?.key });
      const get = h.sim.last();
      expect(get.method).toBe('POST');
      expect(get.path).toBe('/rest/api/2/issue/bulkfetch');
      expect(get.text).toBe(`{"issueIdsOrKeys":["${issue?.id}"],"fields":["summary"]}`);
    });

    it('skips comments when no comment URL is configured, yet lists them', async () => {
      const silent = await connector({ createCommentUrl: null });
      const body = await push(
        { title: 'no comment url' },
        [{ comment: 'c', commentId: '1' }],
        silent,
      );
      expect((body.data as { comments: unknown[] }).comments).toHaveLength(1);
      expect(h.sim.last().method).toBe('GET');
      expect(lastIssue()?.comments).toEqual([]);
    });

    it('sends no Authorization header without auth', async () => {
      const open = await startCaseSystemSimulator({ credentials: null });
      try {
        const anonymous = await h.create({
          config: { ...configFor(open.url), hasAuth: false, headers: null },
        });
        expect((await push({ title: 'anonymous' }, null, anonymous)).status).toBe('ok');
        expect(open.requests[0]?.headers).not.toHaveProperty('authorization');
        expect(open.requests[0]?.headers['content-type']).toBe('application/json');
      } finally {
        await open.close();
      }
    });

    it('presents a client certificate and trusts the configured CA with SSL auth', async () => {
      const secure = await startCaseSystemSimulator({
        credentials: null,
        https: {
          cert: tlsFile('server.crt'),
          key: tlsFile('server.key'),
          ca: tlsFile('ca.crt'),
          requestCert: true,
          rejectUnauthorized: true,
        },
      });
      try {
        const ssl = await h.create({
          config: {
            ...configFor(secure.url),
            authType: 'webhook-authentication-ssl',
            certType: 'ssl-crt-key',
            verificationMode: 'full',
            ca: tlsFile('ca.crt').toString('base64'),
          },
          secrets: {
            crt: tlsFile('client.crt').toString('base64'),
            key: tlsFile('client.key').toString('base64'),
          },
        });
        const body = await push({ title: 'over mutual TLS' }, null, ssl);
        expect(body).toMatchObject({ status: 'ok', data: { title: 'ROC-1' } });
        expect(secure.clientCertificates).toEqual([
          'kibana-connector-client',
          'kibana-connector-client',
        ]);
        expect(secure.requests[0]?.headers).not.toHaveProperty('authorization');
      } finally {
        await secure.close();
      }
    });
  });

  describe('templates, URLs and answers Kibana refuses', () => {
    it('HTML-escapes {{double}} braces, which breaks the JSON', async () => {
      const escaped = await connector({ createIncidentJson: '{"summary":{{case.title}}}' });
      const count = h.sim.requests.length;
      expect(await push({ title: 'x' }, null, escaped)).toEqual(
        failure(
          escaped,
          `${NAME}: Unable to create case. Error: JSON Error: Create case JSON body must be valid JSON.  `,
          true,
        ),
      );
      expect(h.sim.requests.length).toBe(count);
    });

    it('refuses a body that is not JSON once rendered', async () => {
      const commas = await connector({ updateIncidentJson: `${ISSUE_JSON},,,` });
      expect(await push({ title: 'x', externalId: '12345' }, null, commas)).toEqual(
        failure(
          commas,
          `${NAME}: Unable to update case with id 12345. Error: JSON Error: Update case JSON body must be valid JSON.  `,
          true,
        ),
      );
    });

    it('refuses a comment body that is not JSON, after creating the case', async () => {
      const bad = await connector({ createCommentJson: '{"body":{{{case.comment}}}},,' });
      const body = await push({ title: 'x' }, [{ comment: 'c', commentId: '1' }], bad);
      expect(body).toEqual(
        failure(
          bad,
          `${NAME}: Unable to create comment at case with id ${lastIssue()?.id}. Error: JSON Error: Create comment JSON body must be valid JSON.  `,
          true,
        ),
      );
    });

    it('nests the get failure inside the create failure, as Kibana does', async () => {
      const bad = await connector({
        getIncidentMethod: 'post',
        getIncidentUrl: `${h.sim.url}/rest/api/2/issue/bulkfetch`,
        getIncidentJson: '{"id": "{{{external.system.id}}}" }',
      });
      const body = await push({ title: 'x' }, null, bad);
      expect(body).toEqual(
        failure(
          bad,
          `${NAME}: Unable to create case. Error: ${NAME}: Unable to get case with id ${lastIssue()?.id}. Error: JSON Error: Get case JSON body must be valid JSON.  .  `,
          true,
        ),
      );
    });

    it('refuses a URL whose protocol is not http(s)', async () => {
      const bad = await connector({ createIncidentUrl: `https${h.sim.url}` });
      expect(await push({ title: 'x' }, null, bad)).toEqual(
        failure(
          bad,
          `${NAME}: Unable to create case. Error: Invalid Create case URL: Error: Invalid protocol.  `,
          true,
        ),
      );
    });

    it('refuses a URL whose template does not render', async () => {
      const bad = await connector({
        updateIncidentUrl: `${h.sim.url}/rest/api/2/issue/{{{external.system.id}}}e\\\\whoathisisbad4{}{{`,
      });
      expect(await push({ title: 'x', externalId: '12345' }, null, bad)).toEqual(
        failure(
          bad,
          `${NAME}: Unable to update case with id 12345. Error: Invalid Update case URL: Error: Invalid URL.  `,
          true,
        ),
      );
    });

    it('requires the configured key in the create answer', async () => {
      const bad = await connector({ createIncidentResponseKey: 'data.id' });
      expect(await push({ title: 'x' }, null, bad)).toEqual(
        failure(
          bad,
          `${NAME}: Unable to create case. Error: Response is missing the expected field: data.id.  `,
          true,
        ),
      );
    });

    it('requires JSON answers', async () => {
      expect(await push({ title: 'respond-with-text' })).toEqual(
        failure(
          h.id,
          `${NAME}: Unable to create case. Error: Unsupported content type: text/plain in post ${h.sim.url}/rest/api/2/issue. Supported content types: application/json.  `,
          true,
        ),
      );
    });
  });

  describe('vendor failures', () => {
    const reason = (status: number, body: unknown, text: string) =>
      `${NAME}: Unable to create case. Error: Request failed with status code ${status}. ${JSON.stringify(body)} Reason: ${text}`;

    it('400 with Jira field errors', async () => {
      expect(await push({ title: 'x', tags: ['with space'] })).toEqual(
        failure(
          h.id,
          reason(
            400,
            {
              errorMessages: [],
              errors: { labels: "The label 'with space' contains spaces which is invalid." },
            },
            'Bad Request',
          ),
          false,
        ),
      );
    });

    it('401 for a wrong password', async () => {
      const wrong = await connector({}, { user: USER, password: 'wrong' });
      expect(await push({ title: 'x' }, null, wrong)).toEqual(
        failure(
          wrong,
          reason(
            401,
            {
              errorMessages: [
                'You are not authenticated. Authentication required to perform this operation.',
              ],
              errors: {},
            },
            'Unauthorized',
          ),
          false,
        ),
      );
    });

    const notFound = (message: string) => JSON.stringify({ errorMessages: [message], errors: {} });

    it('404 for an unknown case', async () => {
      const body = await push({ title: 'x', externalId: 'ROC-999' });
      expect(body).toEqual(
        failure(
          h.id,
          `${NAME}: Unable to update case with id ROC-999. Error: Request failed with status code 404. ${notFound('Issue does not exist or you do not have permission to see it.')} Reason: Not Found`,
          false,
        ),
      );
    });

    it('404 when reading the created case, its answer repeated at each level as in Kibana', async () => {
      const wrongGet = await connector({
        getIncidentUrl: `${h.sim.url}/rest/api/2/issues/{{{external.system.id}}}`,
      });
      const body = await push({ title: 'x' }, null, wrongGet);
      const issueId = lastIssue()?.id;
      const answer = notFound(`No route for GET /rest/api/2/issues/${issueId}`);
      expect(body).toEqual(
        failure(
          wrongGet,
          `${NAME}: Unable to create case. Error: ${NAME}: Unable to get case with id ${issueId}. Error: Request failed with status code 404. ${answer} Reason: Not Found. ${answer} Reason: Not Found`,
          false,
        ),
      );
    });

    failureClassTests((title) => push({ title }), {
      'respond-with-429': () =>
        failure(
          h.id,
          reason(429, { errorMessages: ['Rate limit exceeded.'], errors: {} }, 'Too Many Requests'),
          true,
        ),
      'respond-with-500': () =>
        failure(
          h.id,
          reason(
            500,
            { errorMessages: ['Internal server error'], errors: {} },
            'Internal Server Error',
          ),
          true,
        ),
    });

    it('429 with Retry-After', async () => {
      const body = await push({ title: 'respond-with-429-retry-after' });
      expect(body).toMatchObject({
        service_message: reason(
          429,
          { errorMessages: ['Rate limit exceeded.'], errors: {} },
          'Too Many Requests',
        ),
        errorSource: 'framework',
      });
      expectRetryAt(body.retry, RETRY_AFTER_SECONDS);
    });

    it('502 from a proxy, its HTML quoted', async () => {
      const body = await push({ title: 'respond-with-502' });
      expect(body).toMatchObject({ status: 'error', retry: true, errorSource: 'framework' });
      expect(body.service_message).toBe(
        `${NAME}: Unable to create case. Error: Request failed with status code 502. "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>" Reason: Bad Gateway`,
      );
    });

    const limitedPush = (title: string) =>
      h.run(
        { subAction: 'pushToService', subActionParams: { incident: { title } } },
        h.limited.id,
        h.limited.server,
      );

    // A timeout and an answer larger than maxResponseContentLength, on the server with short
    // limits.
    failureClassTests(limitedPush, {
      'respond-with-timeout': () =>
        failure(
          h.limited.id,
          `${NAME}: Unable to create case. Error: timeout of 300ms exceeded.  `,
          true,
        ),
      'respond-with-large': () =>
        failure(
          h.limited.id,
          `${NAME}: Unable to create case. Error: maxContentLength size of 1024 exceeded.  `,
          true,
        ),
    });

    it('a connection reset', async () => {
      const body = await limitedPush('respond-with-reset');
      expect(body).toMatchObject({ status: 'error', retry: true });
      expect(body.service_message).toMatch(
        /^\[Action\]\[Webhook - Case Management\]: Unable to create case\. Error: (socket hang up|read ECONNRESET)\. {2}$/,
      );
    });

    it('SSL auth without a certificate is a wrong configuration', async () => {
      const bad = await connector({ authType: 'webhook-authentication-ssl' });
      const count = h.sim.requests.length;
      expect(await push({ title: 'x' }, null, bad)).toEqual(
        failure(bad, '[Action]Webhook - Case Management: Wrong configuration.', true),
      );
      expect(h.sim.requests.length).toBe(count);
    });
  });

  describe('params validation', () => {
    const invalid = (message: string) => ({
      status: 'error',
      connector_id: h.id,
      message: `error validating action params: ${message}`,
      retry: false,
      errorSource: 'user',
    });

    it('refuses any sub-action but pushToService', async () => {
      expect(await run({ subAction: 'non-supported' })).toEqual(
        invalid('[subAction]: expected value to equal [pushToService]'),
      );
    });

    it('requires subActionParams', async () => {
      expect(await run({ subAction: 'pushToService' })).toEqual(
        invalid('[subActionParams]: expected a plain object value, but found [undefined] instead.'),
      );
    });

    it('requires the case title', async () => {
      expect(await push({ description: 'success' }, [])).toEqual(
        invalid(
          '[subActionParams.incident.title]: expected value of type [string] but got [undefined]',
        ),
      );
    });

    it('requires commentId', async () => {
      expect(await push({ title: 't' }, [{ comment: 'comment' }])).toEqual(
        invalid(
          '[subActionParams.comments]: types that failed validation:\n- [subActionParams.comments.0.0.commentId]: expected value of type [string] but got [undefined]\n- [subActionParams.comments.1]: expected value to equal [null]',
        ),
      );
    });
  });

  describe('connector validation', () => {
    const create = (config: Record<string, unknown>, secrets?: unknown) =>
      h.server.api('POST', '/api/actions/connector', {
        body: {
          name: 'cw',
          connector_type_id: '.cases-webhook',
          config,
          ...(secrets !== undefined ? { secrets } : {}),
        },
      });
    const secrets = { user: USER, password: PASSWORD };

    it('requires each template', async () => {
      const { createIncidentJson: _json, ...config } = configFor(h.sim.url);
      const res = await create(config, secrets);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type config: [createIncidentJson]: expected value of type [string] but got [undefined]',
        ),
      );
    });

    it('refuses URLs outside xpack.actions.allowedHosts', async () => {
      const bad = 'http://casesWebhook.mynonexistent.com';
      const res = await create(
        {
          ...configFor(h.sim.url),
          createCommentUrl: `${bad}/{{{external.system.id}}}/comments`,
          createIncidentUrl: bad,
        },
        secrets,
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest(
          `error validating connector type config: error configuring cases webhook action: target url "${bad}" is not added to the Kibana config xpack.actions.allowedHosts`,
        ),
      );
    });

    it('refuses a URL that does not parse', async () => {
      const res = await create({ ...configFor(h.sim.url), viewIncidentUrl: 'not a url' }, secrets);
      expect(res.body).toMatchObject({
        message:
          'error validating connector type config: error configuring cases webhook action: unable to parse not a url: TypeError: Invalid URL',
      });
    });

    it('refuses OAuth2', async () => {
      const res = await create(
        { ...configFor(h.sim.url), authType: 'webhook-oauth2-client-credentials' },
        { clientSecret: 'x' },
      );
      expect(res.body).toMatchObject({
        message:
          'error validating connector type config: OAuth2 authentication is not supported for cases webhook connector',
      });
    });

    it('requires secrets when hasAuth is true', async () => {
      const res = await create(configFor(h.sim.url));
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest('error validating action type connector: must specify a secrets configuration'),
      );
    });

    it('refuses a user without a password', async () => {
      const res = await create(configFor(h.sim.url), { user: USER });
      expect(res.body).toMatchObject({
        message:
          'error validating connector type secrets: must specify one of the following schemas: user and password; crt and key (with optional password); pfx (with optional password); or clientSecret (for OAuth2)',
      });
    });
  });

  describe('the mustache renderer', () => {
    const view = { case: { title: '"a&b"', tags: '["x","y"]' }, list: ['1', '2'], empty: [] };

    it('renders triple braces raw and double braces HTML-escaped', () => {
      expect(render('{{{case.title}}}|{{& case.title}}|{{case.title}}', view)).toBe(
        '"a&b"|"a&b"|&quot;a&amp;b&quot;',
      );
    });

    it('renders missing names as nothing, sections, inverted sections and comments', () => {
      expect(
        render('[{{missing}}]{{#list}}<{{.}}>{{/list}}{{^empty}}none{{/empty}}{{! note }}', view),
      ).toBe('[]<1><2>none');
    });

    it('drops lines holding only a section tag', () => {
      expect(render('{\n  {{#list}}\n  "v": {{.}}\n  {{/list}}\n}', { list: ['1'] })).toBe(
        '{\n  "v": 1\n}',
      );
    });

    it('changes delimiters', () => {
      expect(render('{{=<% %>=}}<%{ case.title }%>', view)).toBe('"a&b"');
    });

    it('answers mustache.js texts for broken templates', () => {
      expect(renderNoEscape('a {{b', view)).toBe(
        'error rendering mustache template "a {{b": Unclosed tag at 5',
      );
      expect(renderNoEscape('{{#a}}x', view)).toBe(
        'error rendering mustache template "{{#a}}x": Unclosed section "a" at 7',
      );
      expect(renderNoEscape('x{{/a}}', view)).toBe(
        'error rendering mustache template "x{{/a}}": Unopened section "a" at 1',
      );
    });
  });

  it('refuses to run a stored config or secrets that are no longer valid', async () => {
    expect(await push({ title: 'x' }, null, 'cw-not-allowed')).toEqual({
      status: 'error',
      connector_id: 'cw-not-allowed',
      message:
        'error validating connector type config: error configuring cases webhook action: target url "https://cases.example.com/{{{external.system.id}}}" is not added to the Kibana config xpack.actions.allowedHosts',
      retry: false,
      errorSource: 'framework',
    });
    expect(await push({ title: 'x' }, null, 'cw-bad-secrets')).toEqual({
      status: 'error',
      connector_id: 'cw-bad-secrets',
      message:
        'error validating connector type secrets: must specify one of the following schemas: user and password; crt and key (with optional password); pfx (with optional password); or clientSecret (for OAuth2)',
      retry: false,
      errorSource: 'framework',
    });
  });

  it('never shows or logs the password or the secret header', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    const secrets = [PASSWORD, SECRET_HEADER, BASIC.slice(6)];
    expectNoSecrets(h.server, secrets, h.replies);
    expectNoSecrets(h.limited.server, secrets, h.replies);
  });
});
