import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });

describe('connectors API', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({
      settings: {
        'xpack.actions.enabledActionTypes': ['.index'],
        'xpack.actions.preconfigured': {
          'my-server-log': { name: 'preconfigured_server_log', actionTypeId: '.server-log' },
          'my-index': {
            name: 'Preconfigured index',
            actionTypeId: '.index',
            exposeConfig: true,
            config: { index: 'pre-index' },
          },
        },
      },
    });
  });
  afterAll(() => server.close());

  it('creates a connector with the validated config and returns Kibana fields', async () => {
    const res = await server.api('POST', '/api/actions/connector', {
      body: { name: 'My Connector', connector_type_id: '.index', config: { index: 'test-index' } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'My Connector',
      connector_type_id: '.index',
      config: { index: 'test-index', refresh: false, executionTimeField: null },
      is_preconfigured: false,
      is_system_action: false,
      is_deprecated: false,
      is_missing_secrets: false,
      is_connector_type_deprecated: false,
    });
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });

  it('creates with a caller-chosen id, then gets, updates and deletes it', async () => {
    const created = await server.api('POST', '/api/actions/connector/my-chosen-id', {
      body: { name: 'chosen', connector_type_id: '.index', config: { index: 'a' } },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ id: 'my-chosen-id', name: 'chosen' });

    const got = await server.api('GET', '/api/actions/connector/my-chosen-id');
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const updated = await server.api('PUT', '/api/actions/connector/my-chosen-id', {
      body: { name: 'renamed', config: { index: 'b', refresh: true } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({
      id: 'my-chosen-id',
      name: 'renamed',
      connector_type_id: '.index',
      config: { index: 'b', refresh: true, executionTimeField: null },
      is_preconfigured: false,
      is_system_action: false,
      is_deprecated: false,
      is_missing_secrets: false,
      is_connector_type_deprecated: false,
    });

    const deleted = await server.api('DELETE', '/api/actions/connector/my-chosen-id');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const gone = await server.api('GET', '/api/actions/connector/my-chosen-id');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Saved object [action/my-chosen-id] not found',
    });
  });

  it('answers 409 when the id exists, in this space or another', async () => {
    const body = { name: 'dup', connector_type_id: '.index', config: { index: 'a' } };
    expect((await server.api('POST', '/api/actions/connector/dup-id', { body })).status).toBe(200);
    const conflict = {
      statusCode: 409,
      error: 'Conflict',
      message: 'Saved object [action/dup-id] conflict',
    };
    const again = await server.api('POST', '/api/actions/connector/dup-id', { body });
    expect(again.status).toBe(409);
    expect(again.body).toEqual(conflict);

    await server.api('POST', '/api/spaces/space', { body: { id: 'other', name: 'Other' } });
    const elsewhere = await server.api('POST', '/s/other/api/actions/connector/dup-id', { body });
    expect(elsewhere.status).toBe(409);
    expect(elsewhere.body).toEqual(conflict);
    // ... and the connector stays invisible from the other space.
    expect((await server.api('GET', '/s/other/api/actions/connector/dup-id')).status).toBe(404);
  });

  it('refuses bodies as Kibana does', async () => {
    const cases: Array<[unknown, string]> = [
      [
        { connector_type_id: '.index' },
        '[request body.name]: expected value of type [string] but got [undefined]',
      ],
      [
        { name: 'x' },
        '[request body.connector_type_id]: expected value of type [string] but got [undefined]',
      ],
      [{ name: '', connector_type_id: '.index' }, "[request body.name]: value '' is not valid"],
      [{ name: '   ', connector_type_id: '.index' }, "[request body.name]: value '' is not valid"],
      [
        { name: 'x', connector_type_id: '.index', config: { index: 'a', nested: { deep: [' '] } } },
        "[request body.config.nested.deep.0]: value '' is not valid",
      ],
      [
        { name: 'x', connector_type_id: '.index', config: null },
        '[request body.config]: expected value of type [object] but got [null]',
      ],
      [
        { name: 'x', connector_type_id: '.index', foo: 1 },
        '[request body.foo]: definition for this key is missing',
      ],
      [
        { name: 1, connector_type_id: '.index' },
        '[request body.name]: expected value of type [string] but got [number]',
      ],
      [null, '[request body]: expected a plain object value, but found [null] instead.'],
    ];
    for (const [body, message] of cases) {
      const res = await server.api('POST', '/api/actions/connector', { body });
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body).toEqual(badRequest(message));
    }
  });

  it('validates config against the type and refuses unknown types', async () => {
    const unknownType = await server.api('POST', '/api/actions/connector', {
      body: { name: 'x', connector_type_id: '.nope' },
    });
    expect(unknownType.body).toEqual(badRequest('Action type ".nope" is not registered.'));

    const extraKey = await server.api('POST', '/api/actions/connector', {
      body: { name: 'x', connector_type_id: '.index', config: { index: 'a', other: true } },
    });
    expect(extraKey.body).toEqual(
      badRequest(
        'error validating connector type config: [other]: definition for this key is missing',
      ),
    );

    const secrets = await server.api('POST', '/api/actions/connector', {
      body: {
        name: 'x',
        connector_type_id: '.index',
        config: { index: 'a' },
        secrets: { token: 'x' },
      },
    });
    expect(secrets.body).toEqual(
      badRequest(
        'error validating connector type secrets: [token]: definition for this key is missing',
      ),
    );
  });

  it('refuses a type missing from xpack.actions.enabledActionTypes, after validation', async () => {
    const disabled = await server.api('POST', '/api/actions/connector', {
      body: { name: 'x', connector_type_id: '.server-log' },
    });
    expect(disabled.status).toBe(403);
    expect(disabled.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message:
        'action type ".server-log" is not enabled in the Kibana config xpack.actions.enabledActionTypes',
    });
    const invalid = await server.api('POST', '/api/actions/connector', {
      body: { name: 'x', connector_type_id: '.server-log', config: { a: 1 } },
    });
    expect(invalid.status).toBe(400);
  });

  it('refuses update bodies as Kibana does', async () => {
    await server.api('POST', '/api/actions/connector/upd', {
      body: { name: 'upd', connector_type_id: '.index', config: { index: 'a' } },
    });
    const withType = await server.api('PUT', '/api/actions/connector/upd', {
      body: { name: 'x', connector_type_id: '.index', config: { index: 'a' } },
    });
    expect(withType.body).toEqual(
      badRequest('[request body.connector_type_id]: definition for this key is missing'),
    );
    const nullConfig = await server.api('PUT', '/api/actions/connector/upd', {
      body: { name: 'x', config: null },
    });
    expect(nullConfig.body).toEqual(
      badRequest('[request body.config]: expected value of type [object] but got [null]'),
    );
    const missing = await server.api('PUT', '/api/actions/connector/nope', {
      body: { name: 'x', config: { index: 'a' } },
    });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ message: 'Saved object [action/nope] not found' });
  });

  it('serves preconfigured connectors in every space and protects them', async () => {
    const got = await server.api('GET', '/api/actions/connector/my-server-log');
    expect(got.body).toEqual({
      id: 'my-server-log',
      name: 'preconfigured_server_log',
      connector_type_id: '.server-log',
      is_preconfigured: true,
      is_system_action: false,
      is_deprecated: false,
      is_connector_type_deprecated: false,
    });
    const exposed = await server.api('GET', '/s/other-space/api/actions/connector/my-index');
    expect(exposed.body).toMatchObject({
      id: 'my-index',
      config: { index: 'pre-index' },
      is_preconfigured: true,
    });

    expect(
      (
        await server.api('PUT', '/api/actions/connector/my-index', {
          body: { name: 'x', config: { index: 'z' } },
        })
      ).body,
    ).toEqual(badRequest('Preconfigured action my-index can not be updated.'));
    expect((await server.api('DELETE', '/api/actions/connector/my-index')).body).toEqual(
      badRequest('Preconfigured action my-index is not allowed to delete.'),
    );
    expect(
      (
        await server.api('POST', '/api/actions/connector/my-index', {
          body: { name: 'x', connector_type_id: '.index', config: { index: 'a' } },
        })
      ).body,
    ).toEqual(badRequest('This my-index already exists in a preconfigured action.'));
  });

  it('lists connectors of the space sorted by name, preconfigured ones without config', async () => {
    await server.api('POST', '/api/spaces/space', { body: { id: 'listing', name: 'Listing' } });
    for (const name of ['zeta', 'Alpha', 'beta']) {
      await server.api('POST', '/s/listing/api/actions/connector', {
        body: { name, connector_type_id: '.index', config: { index: name.toLowerCase() } },
      });
    }
    const res = await server.api<Array<Record<string, unknown>>>(
      'GET',
      '/s/listing/api/actions/connectors',
    );
    expect(res.status).toBe(200);
    expect(res.body.map((c) => c.name)).toEqual([
      'Alpha',
      'beta',
      'Preconfigured index',
      'preconfigured_server_log',
      'zeta',
    ]);
    expect(res.body.find((c) => c.id === 'my-index')).toEqual({
      id: 'my-index',
      name: 'Preconfigured index',
      connector_type_id: '.index',
      is_preconfigured: true,
      is_system_action: false,
      is_deprecated: false,
      is_connector_type_deprecated: false,
      referenced_by_count: 0,
    });
    const alpha = res.body.find((c) => c.name === 'Alpha');
    expect(alpha).toMatchObject({
      config: { index: 'alpha' },
      is_missing_secrets: false,
      referenced_by_count: 0,
    });
    expect(alpha).not.toHaveProperty('secrets');
  });

  it('lists connector types with enablement from settings and filters by feature', async () => {
    const res = await server.api<Array<Record<string, unknown>>>(
      'GET',
      '/api/actions/connector_types',
    );
    expect(res.status).toBe(200);
    expect(res.body.find((t) => t.id === '.server-log')).toEqual({
      id: '.server-log',
      name: 'Server log',
      enabled: false,
      enabled_in_config: false,
      enabled_in_license: true,
      minimum_license_required: 'basic',
      supported_feature_ids: ['alerting', 'uptime', 'siem', 'workflows'],
      is_system_action_type: false,
      is_deprecated: false,
    });
    expect(res.body.find((t) => t.id === '.index')).toMatchObject({
      enabled: true,
      enabled_in_config: true,
    });
    const none = await server.api('GET', '/api/actions/connector_types?feature_id=nothing');
    expect(none.body).toEqual([]);
    const bad = await server.api('GET', '/api/actions/connector_types?other=1');
    expect(bad.body).toEqual(
      badRequest('[request query.other]: definition for this key is missing'),
    );
  });
});
