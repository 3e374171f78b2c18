import { describe, expect, it } from 'vitest';
import {
  badRequest,
  expectListedType,
  expectNoSecrets,
  expectRetryAt,
  failureClassTests,
  RUN_FAILED,
  thrownEnvelope,
} from '../helpers/connectors.js';
import { connectorHarness, SHORT_LIMITS } from '../helpers/harness.js';
import { RETRY_AFTER_SECONDS } from '../simulators/magic.js';
import {
  RESILIENT_CREATED_AT,
  RESILIENT_FIELDS,
  RESILIENT_UPDATE_STEP_MS,
  startResilientSimulator,
} from '../simulators/resilient.js';

const API_KEY_ID = 'resilient-key-id-7Hq';
const API_KEY_SECRET = 'resilient-key-secret-P4vXz';
const BASIC = `Basic ${Buffer.from(`${API_KEY_ID}:${API_KEY_SECRET}`).toString('base64')}`;
const SECRETS = [API_KEY_SECRET, Buffer.from(`${API_KEY_ID}:${API_KEY_SECRET}`).toString('base64')];
const CREATED_ISO = new Date(RESILIENT_CREATED_AT).toISOString();

describe('.resilient', () => {
  const h = connectorHarness({
    type: '.resilient',
    simulator: () =>
      startResilientSimulator({ orgId: '201', apiKeyId: API_KEY_ID, apiKeySecret: API_KEY_SECRET }),
    settings: () => ({
      'xpack.actions.allowedHosts': ['127.0.0.1'],
      'xpack.actions.preconfigured': {
        'resilient-not-allowed': {
          name: 'stored before allowedHosts changed',
          actionTypeId: '.resilient',
          config: { apiUrl: 'http://resilient.mynonexistent.com', orgId: '201' },
          secrets: { apiKeyId: API_KEY_ID },
        },
      },
    }),
    limited: {
      settings: () => ({ 'xpack.actions.allowedHosts': ['127.0.0.1'], ...SHORT_LIMITS }),
    },
    connector: (sim) => ({
      config: { apiUrl: sim.url, orgId: '201' },
      secrets: { apiKeyId: API_KEY_ID, apiKeySecret: API_KEY_SECRET },
    }),
  });
  const run = (params: unknown, connectorId?: string) => h.run(params, connectorId);
  const push = (incident: Record<string, unknown>, comments: unknown = null) =>
    run({ subAction: 'pushToService', subActionParams: { incident, comments } });
  const failure = (connectorId: string, serviceMessage: string, retry: boolean) =>
    thrownEnvelope(connectorId, serviceMessage, retry, 'framework');

  it('is listed among the connector types', async () => {
    await expectListedType(h.server, {
      id: '.resilient',
      name: 'IBM Resilient',
      minimum_license_required: 'platinum',
      supported_feature_ids: ['alerting', 'cases', 'siem'],
    });
  });

  describe('pushToService', () => {
    it('creates an incident, then adds each comment', async () => {
      const before = Date.now();
      const body = await push(
        {
          name: 'a title',
          description: 'a description',
          incidentTypes: [1001],
          severityCode: 6,
          externalId: null,
        },
        [{ comment: 'first comment', commentId: '456' }],
      );
      const incident = [...h.sim.incidents.values()].at(-1);
      const incidentId = String(incident?.id);
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          title: incidentId,
          id: incidentId,
          pushedDate: CREATED_ISO,
          url: `${h.sim.url}/#incidents/${incidentId}`,
          comments: [{ commentId: '456', pushedDate: CREATED_ISO }],
        },
      });

      const [create, comment] = h.sim.requests.slice(-2);
      expect(create?.method).toBe('POST');
      expect(create?.path).toBe('/rest/orgs/201/incidents');
      expect(create?.query.toString()).toBe('text_content_output_format=objects_convert');
      expect(create?.headers.authorization).toBe(BASIC);
      expect(create?.headers['content-type']).toBe('application/json');
      const sent = create?.json as Record<string, unknown>;
      expect(sent).toEqual({
        name: 'a title',
        discovered_date: expect.any(Number),
        description: { format: 'html', content: 'a description' },
        incident_type_ids: [{ id: 1001 }],
        severity_code: { id: 6 },
      });
      expect(sent.discovered_date).toBeGreaterThanOrEqual(before);
      expect(sent.discovered_date).toBeLessThanOrEqual(Date.now());

      expect(comment?.method).toBe('POST');
      expect(comment?.path).toBe(`/rest/orgs/201/incidents/${incidentId}/comments`);
      expect(comment?.headers.authorization).toBe(BASIC);
      expect(comment?.json).toEqual({ text: { format: 'text', content: 'first comment' } });
    });

    it('sends only the name when nothing else is set, and answers without comments', async () => {
      const body = await push({ name: 'bare' });
      expect(body.status).toBe('ok');
      expect(body.data).not.toHaveProperty('comments');
      const sent = h.sim.last().json as Record<string, unknown>;
      expect(Object.keys(sent)).toEqual(['name', 'discovered_date']);
    });

    it('coerces numbers given as text, as Kibana does', async () => {
      await push({ name: 'coerced', incidentTypes: ['1002'], severityCode: '4' });
      expect(h.sim.last().json).toMatchObject({
        incident_type_ids: [{ id: 1002 }],
        severity_code: { id: 4 },
      });
    });

    it('places additional fields by their metadata, reading the fields first', async () => {
      const count = h.sim.requests.length;
      const body = await push({
        name: 'with extras',
        additionalFields: JSON.stringify({
          resolution_summary: 'resolved quickly',
          custom_text: 'some text',
          properties: { custom_select: 301 },
        }),
      });
      expect(body.status).toBe('ok');
      const calls = h.sim.requests.slice(count);
      expect(calls.map((r) => `${r.method} ${r.path}`)).toEqual([
        'GET /rest/orgs/201/types/incident/fields',
        'POST /rest/orgs/201/incidents',
      ]);
      expect(calls[1]?.json).toEqual({
        name: 'with extras',
        discovered_date: expect.any(Number),
        resolution_summary: 'resolved quickly',
        properties: { custom_select: 301, custom_text: 'some text' },
      });
    });

    it('refuses a select value the field does not offer', async () => {
      const body = await push({ name: 'bad select', additionalFields: { custom_select: 999 } });
      expect(body).toEqual(
        failure(
          h.id,
          '[Action][IBM Resilient]: Unable to create incident. Error: Invalid values provided to custom_select: [\n  999\n]. Accepted values: 301 (for "Red"),302 (for "Blue").',
          true,
        ),
      );
    });

    it('updates an incident with changes built from its current values', async () => {
      await push({ name: 'to update', description: 'old text', incidentTypes: [1001] });
      const incident = [...h.sim.incidents.values()].at(-1);
      const externalId = String(incident?.id);
      const count = h.sim.requests.length;
      const body = await push(
        {
          name: 'updated name',
          description: 'new text',
          severityCode: 5,
          incidentTypes: null,
          externalId,
        },
        [{ comment: 'after update', commentId: 'c-1' }],
      );
      const pushedDate = new Date(RESILIENT_CREATED_AT + RESILIENT_UPDATE_STEP_MS).toISOString();
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: {
          title: externalId,
          id: externalId,
          pushedDate,
          url: `${h.sim.url}/#incidents/${externalId}`,
          comments: [{ commentId: 'c-1', pushedDate }],
        },
      });
      const calls = h.sim.requests.slice(count);
      expect(calls.map((r) => `${r.method} ${r.path}?${r.query}`)).toEqual([
        `GET /rest/orgs/201/incidents/${externalId}?text_content_output_format=objects_convert`,
        'GET /rest/orgs/201/types/incident/fields?',
        `PATCH /rest/orgs/201/incidents/${externalId}?`,
        `GET /rest/orgs/201/incidents/${externalId}?text_content_output_format=objects_convert`,
        `POST /rest/orgs/201/incidents/${externalId}/comments?`,
      ]);
      expect(calls[2]?.headers.authorization).toBe(BASIC);
      expect(calls[2]?.json).toEqual({
        changes: [
          {
            field: { name: 'name' },
            old_value: { text: 'to update' },
            new_value: { text: 'updated name' },
          },
          {
            field: { name: 'description' },
            old_value: { textarea: { format: 'html', content: 'old text' } },
            new_value: { textarea: { format: 'html', content: 'new text' } },
          },
          {
            field: { name: 'severity_code' },
            old_value: {},
            new_value: { id: 5 },
          },
        ],
      });
      expect(incident?.name).toBe('updated name');
      expect(incident?.severity_code).toBe(5);
      expect(incident?.incident_type_ids).toEqual([1001]);
    });

    it('reports an update Resilient refused', async () => {
      await push({ name: 'conflicting' });
      const externalId = String([...h.sim.incidents.values()].at(-1)?.id);
      const body = await push({ name: 'respond-with-conflict', externalId });
      expect(body).toEqual(
        failure(
          h.id,
          `[Action][IBM Resilient]: Unable to update incident with id ${externalId}. Error: Error while updating incident: Conflict on name.`,
          true,
        ),
      );
    });

    it('answers 404 for an unknown incident, without retry', async () => {
      const body = await push({ name: 'x', externalId: '999999' });
      expect(body).toEqual(
        failure(
          h.id,
          '[Action][IBM Resilient]: Unable to update incident with id 999999. Error: [Action][IBM Resilient]: Unable to get incident with id 999999. Error: Status code: 404. Message: API Error: Incident 999999 was not found...',
          false,
        ),
      );
    });
  });

  describe('the other sub-actions', () => {
    it('getFields lists the incident fields', async () => {
      const body = await run({ subAction: 'getFields' });
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: RESILIENT_FIELDS.map((f) => ({
          name: f.name,
          input_type: f.input_type,
          read_only: f.read_only,
          required: f.required,
          text: f.text,
          prefix: f.prefix,
          values: f.values,
        })),
      });
      expect(h.sim.last().method).toBe('GET');
      expect(h.sim.last().path).toBe('/rest/orgs/201/types/incident/fields');
      expect(h.sim.last().headers.authorization).toBe(BASIC);
    });

    it('incidentTypes lists the incident types', async () => {
      const body = await run({ subAction: 'incidentTypes', subActionParams: {} });
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: [
          { id: '1001', name: 'Malware' },
          { id: '1002', name: 'Phishing' },
          { id: '19', name: 'Other' },
        ],
      });
      expect(h.sim.last().method).toBe('GET');
      expect(h.sim.last().path).toBe('/rest/orgs/201/types/incident/fields/incident_type_ids');
      expect(h.sim.last().headers.authorization).toBe(BASIC);
    });

    it('severity lists the severities', async () => {
      const body = await run({ subAction: 'severity', subActionParams: null });
      expect(body).toEqual({
        status: 'ok',
        connector_id: h.id,
        data: [
          { id: '4', name: 'Low' },
          { id: '5', name: 'Medium' },
          { id: '6', name: 'High' },
        ],
      });
      expect(h.sim.last().method).toBe('GET');
      expect(h.sim.last().path).toBe('/rest/orgs/201/types/incident/fields/severity_code');
      expect(h.sim.last().headers.authorization).toBe(BASIC);
    });
  });

  describe('params validation', () => {
    it('names an unknown sub-action', async () => {
      expect(await run({ subAction: 'non-supported' })).toEqual(
        thrownEnvelope(
          h.id,
          `Sub action "non-supported" is not registered. Connector id: ${h.id}. Connector name: IBM Resilient. Connector type: .resilient`,
          true,
          'framework',
        ),
      );
    });

    const invalid = (serviceMessage: string) => thrownEnvelope(h.id, serviceMessage, true, 'user');

    it('requires the incident name', async () => {
      expect(await run({ subAction: 'pushToService' })).toEqual(
        invalid(
          'Request validation failed (Error: [incident.name]: expected value of type [string] but got [undefined])',
        ),
      );
    });

    it('requires commentId', async () => {
      expect(await push({ name: 'x' }, [{ comment: 'comment' }])).toEqual(
        invalid(
          'Request validation failed (Error: [comments]: types that failed validation:\n- [comments.0.0.commentId]: expected value of type [string] but got [undefined]\n- [comments.1]: expected value to equal [null])',
        ),
      );
    });

    it('refuses incident keys inside additionalFields', async () => {
      expect(await push({ name: 'x', additionalFields: { name: 'y', severityCode: 1 } })).toEqual(
        invalid(
          'Request validation failed (Error: [incident.additionalFields]: types that failed validation:\n- [incident.additionalFields.0]: The following properties cannot be defined inside additionalFields: name, severityCode.\n- [incident.additionalFields.1]: expected value to equal [null])',
        ),
      );
    });

    it('refuses additionalFields text that is not a JSON object', async () => {
      expect(await push({ name: 'x', additionalFields: '[1]' })).toEqual(
        invalid(
          'Request validation failed (Error: [incident.additionalFields]: types that failed validation:\n- [incident.additionalFields.0]: expected a plain object value, but found [Array] instead.\n- [incident.additionalFields.1]: expected value to equal [null])',
        ),
      );
    });

    it('caps additionalFields at 50 keys', async () => {
      const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, i]));
      const body = await push({ name: 'x', additionalFields: many });
      expect(body.service_message).toContain(
        'A maximum of 50 fields in additionalFields can be defined at a time.',
      );
    });

    it('refuses a non-object subActionParams at the framework level', async () => {
      expect(await run({ subAction: 'getFields', subActionParams: 'x' })).toMatchObject({
        status: 'error',
        message: expect.stringMatching(/^error validating action params: \[subActionParams\]/),
        retry: false,
        errorSource: 'user',
      });
    });
  });

  describe('vendor failures', () => {
    const createFailed = (message: string, retry: boolean) => () =>
      failure(h.id, `[Action][IBM Resilient]: Unable to create incident. Error: ${message}`, retry);
    failureClassTests((name) => push({ name }), {
      'respond-with-400': createFailed(
        'Status code: 400. Message: API Error: Invalid incident data.',
        false,
      ),
      'respond-with-429': createFailed(
        'Status code: 429. Message: API Error: Too many requests.',
        true,
      ),
      'respond-with-500': createFailed(
        'Status code: 500. Message: API Error: An unexpected error occurred.',
        true,
      ),
      // From a proxy, with an HTML body.
      'respond-with-502': createFailed('Status code: 502. Message: API Error: Bad Gateway.', true),
      // An answer that is not JSON.
      'respond-with-text': createFailed(
        'Response validation failed (Error: expected a plain object value, but found [string] instead.).',
        true,
      ),
    });

    // A timeout, a connection reset and an answer larger than maxResponseContentLength, on the
    // server with short limits.
    const noAnswer = () =>
      failure(
        h.limited.id,
        '[Action][IBM Resilient]: Unable to create incident. Error: Status code: undefined. Message: Unknown API Error.',
        true,
      );
    failureClassTests(
      (name) =>
        h.run(
          { subAction: 'pushToService', subActionParams: { incident: { name } } },
          h.limited.id,
          h.limited.server,
        ),
      {
        'respond-with-timeout': noAnswer,
        'respond-with-reset': noAnswer,
        'respond-with-large': noAnswer,
      },
    );

    it('401 for a wrong API key secret', async () => {
      const wrong = await h.create({
        config: { apiUrl: h.sim.url, orgId: '201' },
        secrets: { apiKeyId: API_KEY_ID, apiKeySecret: 'not-the-secret' },
      });
      expect(await run({ subAction: 'getFields' }, wrong)).toEqual(
        failure(
          wrong,
          '[Action][IBM Resilient]: Unable to get fields. Error: Status code: 401. Message: Unauthorized API Error.',
          false,
        ),
      );
    });

    it('403 for another organisation', async () => {
      const other = await h.create({
        config: { apiUrl: h.sim.url, orgId: '999' },
        secrets: { apiKeyId: API_KEY_ID, apiKeySecret: API_KEY_SECRET },
      });
      expect(await run({ subAction: 'severity' }, other)).toEqual(
        failure(
          other,
          '[Action][IBM Resilient]: Unable to get severity. Error: Status code: 403. Message: API Error: You do not have permission to access organization 999..',
          false,
        ),
      );
    });

    it('429 with Retry-After', async () => {
      const body = await push({ name: 'respond-with-429-retry-after' });
      expect(body).toMatchObject({
        status: 'error',
        message: RUN_FAILED,
        service_message:
          '[Action][IBM Resilient]: Unable to create incident. Error: Status code: 429. Message: API Error: Too many requests.',
        errorSource: 'framework',
      });
      expectRetryAt(body.retry, RETRY_AFTER_SECONDS);
    });

    it('a failing comment', async () => {
      const body = await push({ name: 'commented' }, [
        { comment: 'respond-with-500', commentId: '1' },
      ]);
      const incidentId = [...h.sim.incidents.values()].at(-1)?.id;
      expect(body).toEqual(
        failure(
          h.id,
          `[Action][IBM Resilient]: Unable to create comment at incident with id ${incidentId}. Error: Status code: 500. Message: API Error: An unexpected error occurred.`,
          true,
        ),
      );
    });
  });

  describe('connector validation', () => {
    const create = (config: unknown, secrets: unknown) =>
      h.server.api('POST', '/api/actions/connector', {
        body: { name: 'r', connector_type_id: '.resilient', config, secrets },
      });
    const secrets = { apiKeyId: API_KEY_ID, apiKeySecret: API_KEY_SECRET };

    it('requires apiUrl', async () => {
      const res = await create({ orgId: '201' }, secrets);
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type config: [apiUrl]: expected value of type [string] but got [undefined]',
        ),
      );
    });

    it('refuses unknown config keys', async () => {
      const res = await create({ apiUrl: h.sim.url, orgId: '201', extra: 1 }, secrets);
      expect(res.body).toMatchObject({
        message:
          'error validating connector type config: [extra]: definition for this key is missing',
      });
    });

    it('requires the secrets', async () => {
      const res = await create({ apiUrl: h.sim.url, orgId: '201' }, {});
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        message:
          'error validating connector type secrets: [apiKeyId]: expected value of type [string] but got [undefined]',
      });
    });

    it('refuses an apiUrl outside xpack.actions.allowedHosts', async () => {
      const res = await create(
        { apiUrl: 'http://resilient.mynonexistent.com', orgId: '201' },
        secrets,
      );
      expect(res.status).toBe(400);
      expect(res.body).toEqual(
        badRequest(
          'error validating connector type config: error validating url: target url "http://resilient.mynonexistent.com" is not added to the Kibana config xpack.actions.allowedHosts',
        ),
      );
    });
  });

  it('refuses to run a stored config that is no longer valid', async () => {
    expect(await run({ subAction: 'getFields' }, 'resilient-not-allowed')).toEqual({
      status: 'error',
      connector_id: 'resilient-not-allowed',
      message:
        'error validating connector type config: error validating url: target url "http://resilient.mynonexistent.com" is not added to the Kibana config xpack.actions.allowedHosts',
      retry: false,
      errorSource: 'framework',
    });
  });

  it('never shows or logs the API key', () => {
    expect(h.replies.length).toBeGreaterThan(10);
    expectNoSecrets(h.server, SECRETS, h.replies);
    expectNoSecrets(h.limited.server, SECRETS, h.replies);
  });
});
