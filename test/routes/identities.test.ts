import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey, createRole, createUser, esMessage } from '../helpers/identities.js';
import { basicAuth, startServer, type TestServer } from '../helpers/server.js';

const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });
const notFound = { statusCode: 404, error: 'Not Found', message: 'Not Found' };

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.close());

describe('roles API', () => {
  it('lists the reserved roles in Kibana shape, sorted by name, as a versioned route', async () => {
    const res = await server.api<Array<{ name: string }>>('GET', '/api/security/role');
    expect(res.status).toBe(200);
    expect(res.headers.get('elastic-api-version')).toBe('2023-10-31');
    const names = res.body.map((r) => r.name);
    expect(names).toEqual([...names].sort());
    expect(names).toEqual(expect.arrayContaining(['kibana_admin', 'superuser', 'viewer']));

    const viewer = await server.api('GET', '/api/security/role/viewer');
    expect(viewer.body).toMatchObject({
      name: 'viewer',
      metadata: { _reserved: true },
      transient_metadata: { enabled: true },
      elasticsearch: { cluster: [], run_as: [] },
      kibana: [{ base: ['read'], feature: {}, spaces: ['*'] }],
      _transform_error: [],
      _unrecognized_applications: [],
    });
    const superuser = await server.api('GET', '/api/security/role/superuser');
    expect(superuser.body).toMatchObject({
      name: 'superuser',
      elasticsearch: { cluster: ['all'], run_as: ['*'] },
      kibana: [{ base: ['*'], feature: {}, spaces: ['*'] }],
    });
  });

  it('creates a role (204) and answers it with defaults filled in', async () => {
    const put = await server.api('PUT', '/api/security/role/connector_admins', {
      body: {
        description: 'Runs connectors in two spaces',
        metadata: { team: 'ops' },
        elasticsearch: { cluster: ['monitor'] },
        kibana: [
          { feature: { actions: ['all'] }, spaces: ['space-a', 'space-b'] },
          { base: ['read'] },
        ],
      },
    });
    expect(put.status).toBe(204);
    expect(put.text).toBe('');
    const got = await server.api('GET', '/api/security/role/connector_admins');
    expect(got.body).toEqual({
      name: 'connector_admins',
      description: 'Runs connectors in two spaces',
      metadata: { team: 'ops' },
      transient_metadata: { enabled: true },
      elasticsearch: { cluster: ['monitor'], indices: [], run_as: [] },
      kibana: [
        { base: [], feature: { actions: ['all'] }, spaces: ['space-a', 'space-b'] },
        { base: ['read'], feature: {}, spaces: ['*'] },
      ],
      _transform_error: [],
      _unrecognized_applications: [],
    });
    const all = await server.api<Array<{ name: string }>>('GET', '/api/security/role');
    expect(all.body.map((r) => r.name)).toContain('connector_admins');
  });

  it("refuses bad bodies with Kibana's route schema texts", async () => {
    const put = (body: unknown) => server.api('PUT', '/api/security/role/bad', { body });
    expect(
      (await put({ kibana: [{ feature: { actions: ['all'] }, spaces: ['Nope'] }] })).body,
    ).toEqual(
      badRequest(
        '[request body.kibana.0.spaces]: types that failed validation:\n' +
          '- [request body.kibana.0.spaces.0.0]: expected value to equal [*]\n' +
          "- [request body.kibana.0.spaces.1.0]: must be lower case, a-z, 0-9, '_', and '-' are allowed",
      ),
    );
    expect((await put({ kibana: [{ spaces: ['*', 'foo-space'], base: ['all'] }] })).body).toEqual(
      badRequest(
        '[request body.kibana.0.spaces]: types that failed validation:\n' +
          '- [request body.kibana.0.spaces.0.1]: expected value to equal [*]\n' +
          "- [request body.kibana.0.spaces.1.0]: must be lower case, a-z, 0-9, '_', and '-' are allowed",
      ),
    );
    expect((await put({ kibana: [{ base: ['foo'], spaces: ['*'] }] })).body).toEqual(
      badRequest(
        '[request body.kibana.0.base.0]: unknown global privilege "foo", must be one of [all,read]',
      ),
    );
    expect((await put({ kibana: [{ base: ['foo'], spaces: ['marketing'] }] })).body).toEqual(
      badRequest(
        '[request body.kibana.0.base.0]: unknown space privilege "foo", must be one of [all,read]',
      ),
    );
    expect((await put({ kibana: [{ feature: { '!foo': ['all'] } }] })).body).toEqual(
      badRequest(
        `[request body.kibana.0.feature.key("!foo")]: only a-z, A-Z, 0-9, '_', and '-' are allowed`,
      ),
    );
    expect((await put({ kibana: [{ feature: { foo: ['!all'] } }] })).body).toEqual(
      badRequest(
        `[request body.kibana.0.feature.foo.0]: only a-z, A-Z, 0-9, '_', and '-' are allowed`,
      ),
    );
    for (const entry of [{}, { base: [] }, { feature: { foo: [] } }]) {
      expect((await put({ kibana: [entry] })).body).toEqual(
        badRequest(
          '[request body.kibana.0]: either [base] or [feature] is expected, but none of them specified',
        ),
      );
    }
    expect((await put({ kibana: [{ base: ['all'], feature: { foo: ['all'] } }] })).body).toEqual(
      badRequest(
        "[request body.kibana.0]: definition of [feature] isn't allowed when non-empty [base] is defined.",
      ),
    );
    expect(
      (
        await put({
          kibana: [
            { feature: { foo: ['all'] }, spaces: ['marketing'] },
            { feature: { bar: ['all'] }, spaces: ['sales', 'marketing'] },
          ],
        })
      ).body,
    ).toEqual(
      badRequest(
        '[request body.kibana]: more than one privilege is applied to the following spaces: [marketing]',
      ),
    );
    expect((await put({ kibana: [{ base: ['all'], _reserved: ['x'] }] })).body).toEqual(
      badRequest('[request body.kibana.0._reserved]: definition for this key is missing'),
    );
    expect(
      (await put({ elasticsearch: { indices: [{ names: [], privileges: ['read'] }] } })).body,
    ).toEqual(
      badRequest(
        '[request body.elasticsearch.indices.0.names]: array size is [0], but cannot be smaller than [1]',
      ),
    );
    expect((await put({ metadata: { _reserved: true } })).body).toEqual(
      badRequest(
        esMessage(
          'action_request_validation_exception',
          'Validation Failed: 1: metadata keys may not start with [_];',
        ),
      ),
    );
    const long = await server.api('PUT', `/api/security/role/${'r'.repeat(1025)}`, { body: {} });
    expect(long.body).toEqual(
      badRequest(
        '[request params.name]: value has length [1025] but it must have a maximum length of [1024].',
      ),
    );
  });

  it('honours createOnly, refuses reserved roles, and deletes', async () => {
    await createRole(server.api, 'temp_role', [{ base: ['read'] }]);
    const again = await server.api('PUT', '/api/security/role/temp_role?createOnly=true', {
      body: { kibana: [{ base: ['all'] }] },
    });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'Role already exists and cannot be created: temp_role',
    });
    const reserved = await server.api('PUT', '/api/security/role/superuser', { body: {} });
    expect(reserved.body).toEqual(
      badRequest(
        esMessage(
          'illegal_argument_exception',
          'role [superuser] is reserved and cannot be modified.',
        ),
      ),
    );
    const deleteReserved = await server.api('DELETE', '/api/security/role/viewer');
    expect(deleteReserved.body).toEqual(
      badRequest(
        esMessage('illegal_argument_exception', 'role [viewer] is reserved and cannot be deleted'),
      ),
    );
    const deleted = await server.api('DELETE', '/api/security/role/temp_role');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await server.api('GET', '/api/security/role/temp_role')).body).toEqual(notFound);
    expect((await server.api('DELETE', '/api/security/role/temp_role')).body).toEqual(notFound);
  });

  it("answers Elasticsearch's 403 to callers without the cluster privilege", async () => {
    const viewer = await createUser(server.api, 'role_viewer', ['viewer']);
    const list = await server.api('GET', '/api/security/role', { auth: viewer });
    expect(list.status).toBe(403);
    expect(list.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: esMessage(
        'security_exception',
        'action [cluster:admin/xpack/security/role/get] is unauthorized for user [role_viewer] with effective roles [viewer], this action is granted by the cluster privileges [read_security,manage_security,all]',
      ),
    });
    await createRole(server.api, 'security_reader', [], { cluster: ['read_security'] });
    const reader = await createUser(server.api, 'sec_reader', ['security_reader']);
    expect((await server.api('GET', '/api/security/role', { auth: reader })).status).toBe(200);
    const put = await server.api('PUT', '/api/security/role/x', { auth: reader, body: {} });
    expect(put.status).toBe(403);
    expect((put.body as { message: string }).message).toContain(
      'action [cluster:admin/xpack/security/role/put] is unauthorized for user [sec_reader] with effective roles [security_reader], this action is granted by the cluster privileges [manage_security,all]',
    );
  });
});

describe('users API', () => {
  it('creates a user and echoes the body without the password', async () => {
    const res = await server.api('POST', '/internal/security/users/jdoe', {
      body: {
        username: 'jdoe',
        password: 'jdoe-secret-1',
        roles: ['viewer'],
        full_name: 'Jane Doe',
        email: 'jdoe@example.org',
        metadata: { team: 'a' },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      username: 'jdoe',
      roles: ['viewer'],
      full_name: 'Jane Doe',
      email: 'jdoe@example.org',
      metadata: { team: 'a' },
      enabled: true,
    });
    expect(res.text).not.toContain('jdoe-secret-1');
    const got = await server.api('GET', '/internal/security/users/jdoe');
    expect(got.body).toEqual({
      username: 'jdoe',
      roles: ['viewer'],
      full_name: 'Jane Doe',
      email: 'jdoe@example.org',
      metadata: { team: 'a' },
      enabled: true,
    });
    const list = await server.api<Array<{ username: string }>>('GET', '/internal/security/users');
    expect(list.body[0]).toEqual({
      username: 'elastic',
      roles: ['superuser'],
      full_name: null,
      email: null,
      metadata: { _reserved: true },
      enabled: true,
    });
    expect(list.body.map((u) => u.username)).toContain('jdoe');
    const me = await server.api('GET', '/internal/security/me', {
      auth: basicAuth('jdoe', 'jdoe-secret-1'),
    });
    expect(me.body).toMatchObject({
      username: 'jdoe',
      roles: ['viewer'],
      authentication_realm: { name: 'native1', type: 'native' },
    });
  });

  it("refuses what Elasticsearch refuses, with Kibana's and Elasticsearch's texts", async () => {
    const post = (username: string, body: unknown) =>
      server.api('POST', `/internal/security/users/${username}`, { body });
    expect((await post('nopass', { username: 'nopass', roles: [] })).body).toEqual(
      badRequest(
        esMessage(
          'action_request_validation_exception',
          'Validation Failed: 1: password must be specified unless you are updating an existing user;',
        ),
      ),
    );
    expect((await post('short', { username: 'short', password: 'abc', roles: [] })).body).toEqual(
      badRequest(
        esMessage(
          'action_request_validation_exception',
          'Validation Failed: 1: passwords must be at least [6] characters long;',
        ),
      ),
    );
    expect((await post('elastic', { username: 'elastic', roles: [] })).body).toEqual(
      badRequest(
        esMessage(
          'illegal_argument_exception',
          'user [elastic] is reserved and only the password can be changed',
        ),
      ),
    );
    expect((await post('x', { username: 'x', password: 'secret1' })).body).toEqual(
      badRequest('[request body.roles]: expected value of type [array] but got [undefined]'),
    );
    expect(
      (await post('x', { username: 'x', password: 'secret1', roles: [], full_name: 5 })).body,
    ).toEqual(
      badRequest(
        '[request body.full_name]: types that failed validation:\n' +
          '- [request body.full_name.0]: expected value to equal [null]\n' +
          '- [request body.full_name.1]: expected value of type [string] but got [number]',
      ),
    );
    expect((await post('x', { username: '', password: 'secret1', roles: [] })).body).toEqual(
      badRequest(
        '[request body.username]: value has length [0] but it must have a minimum length of [1].',
      ),
    );
    expect(
      (
        await post('meta', {
          username: 'meta',
          password: 'secret1',
          roles: [],
          metadata: { _reserved: true },
        })
      ).body,
    ).toEqual(
      badRequest(
        esMessage(
          'action_request_validation_exception',
          'Validation Failed: 1: metadata keys may not start with [_];',
        ),
      ),
    );
    expect((await server.api('GET', '/internal/security/users/nobody')).body).toEqual(notFound);
    expect((await server.api('DELETE', '/internal/security/users/nobody')).body).toEqual(notFound);
    expect((await server.api('DELETE', '/internal/security/users/elastic')).body).toEqual(
      badRequest(
        esMessage('illegal_argument_exception', 'user [elastic] is reserved and cannot be deleted'),
      ),
    );
  });

  it('updates a user without a password, and a disabled user cannot log in', async () => {
    const auth = await createUser(server.api, 'toggled', ['viewer']);
    expect((await server.api('GET', '/api/actions/connectors', { auth })).status).toBe(200);
    const update = await server.api('POST', '/internal/security/users/toggled', {
      body: { username: 'toggled', roles: ['viewer'], enabled: false },
    });
    expect(update.status).toBe(200);
    expect((await server.api('GET', '/api/actions/connectors', { auth })).status).toBe(401);
    await server.api('POST', '/internal/security/users/toggled', {
      body: { username: 'toggled', roles: ['viewer'] },
    });
    expect((await server.api('GET', '/api/actions/connectors', { auth })).status).toBe(200);
  });

  it('changes passwords: own with proof, others with manage_security; old ones stop at once', async () => {
    const old = await createUser(server.api, 'pw_user', ['viewer'], 'first-password');
    expect((await server.api('GET', '/api/actions/connectors', { auth: old })).status).toBe(200);
    const wrong = await server.api('POST', '/internal/security/users/pw_user/password', {
      auth: old,
      body: { password: 'not-it', newPassword: 'second-password' },
    });
    expect(wrong.status).toBe(403);
    expect(wrong.body).toEqual({
      statusCode: 403,
      error: 'Forbidden',
      message: esMessage(
        'security_exception',
        'unable to authenticate user [pw_user] for REST request [/_security/user/pw_user/_password]',
      ),
    });
    const own = await server.api('POST', '/internal/security/users/pw_user/password', {
      auth: old,
      body: { password: 'first-password', newPassword: 'second-password' },
    });
    expect(own.status).toBe(204);
    expect((await server.api('GET', '/api/actions/connectors', { auth: old })).status).toBe(401);
    const second = basicAuth('pw_user', 'second-password');
    expect((await server.api('GET', '/api/actions/connectors', { auth: second })).status).toBe(200);

    const other = await createUser(server.api, 'pw_other', ['viewer']);
    const notAdmin = await server.api('POST', '/internal/security/users/pw_other/password', {
      auth: second,
      body: { newPassword: 'hijacked-password' },
    });
    expect(notAdmin.status).toBe(403);
    expect((notAdmin.body as { message: string }).message).toContain(
      'action [cluster:admin/xpack/security/user/change_password] is unauthorized for user [pw_user]',
    );
    expect((await server.api('GET', '/api/actions/connectors', { auth: other })).status).toBe(200);
    const byAdmin = await server.api('POST', '/internal/security/users/pw_other/password', {
      body: { newPassword: 'reset-by-admin' },
    });
    expect(byAdmin.status).toBe(204);
    expect((await server.api('GET', '/api/actions/connectors', { auth: other })).status).toBe(401);
    const tooShort = await server.api('POST', '/internal/security/users/pw_other/password', {
      body: { newPassword: 'abc' },
    });
    expect(tooShort.status).toBe(400);
    const unknown = await server.api('POST', '/internal/security/users/ghost/password', {
      body: { newPassword: 'whatever-1' },
    });
    expect(unknown.body).toEqual(
      badRequest(
        esMessage(
          'action_request_validation_exception',
          'Validation Failed: 1: user must exist in order to change password;',
        ),
      ),
    );
  });

  it('refuses a deleted user at once, even when its password was just verified', async () => {
    const auth = await createUser(server.api, 'short_lived', ['viewer']);
    expect((await server.api('GET', '/api/actions/connectors', { auth })).status).toBe(200);
    const deleted = await server.api('DELETE', '/internal/security/users/short_lived');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const after = await server.api('GET', '/api/actions/connectors', { auth });
    expect(after.status).toBe(401);
    expect((after.body as { message: string }).message).toContain(
      'unable to authenticate user [short_lived] for REST request [/_security/_authenticate]',
    );
  });
});

describe('API keys', () => {
  it('mints keys with role_descriptors or kibana_role_descriptors and lists them (8.x route)', async () => {
    const plain = await createApiKey(server.api, {
      name: 'listed-key',
      metadata: { purpose: 'ci' },
      role_descriptors: {
        reader: {
          applications: [
            {
              application: 'kibana-.kibana',
              privileges: ['feature_actions.read'],
              resources: ['*'],
            },
          ],
        },
      },
    });
    const kibanaForm = await createApiKey(server.api, {
      name: 'kibana-form-key',
      expiration: '1d',
      kibana_role_descriptors: {
        admin_a: { elasticsearch: {}, kibana: [{ feature: { actions: ['all'] }, spaces: ['a'] }] },
      },
    });
    const list = await server.api<{ apiKeys: Array<Record<string, unknown>> }>(
      'GET',
      '/internal/security/api_key?isAdmin=true',
    );
    expect(list.status).toBe(200);
    const listed = list.body.apiKeys.find((k) => k.id === plain.id);
    expect(listed).toEqual({
      id: plain.id,
      name: 'listed-key',
      type: 'rest',
      creation: expect.any(Number),
      invalidated: false,
      username: 'elastic',
      realm: 'reserved',
      metadata: { purpose: 'ci' },
      role_descriptors: {
        reader: {
          applications: [
            {
              application: 'kibana-.kibana',
              privileges: ['feature_actions.read'],
              resources: ['*'],
            },
          ],
        },
      },
    });
    const converted = list.body.apiKeys.find((k) => k.id === kibanaForm.id);
    expect(converted).toMatchObject({
      expiration: expect.any(Number),
      role_descriptors: {
        admin_a: {
          cluster: [],
          indices: [],
          run_as: [],
          applications: [
            {
              application: 'kibana-.kibana',
              privileges: ['feature_actions.all'],
              resources: ['space:a'],
            },
          ],
        },
      },
    });
    expect(JSON.stringify(list.body)).not.toContain(plain.api_key);
    const missing = await server.api('GET', '/internal/security/api_key');
    expect(missing.body).toEqual(
      badRequest('[request query.isAdmin]: expected value of type [boolean] but got [undefined]'),
    );
    expect((await server.api('GET', '/internal/security/api_key/_enabled')).body).toEqual({
      apiKeysEnabled: true,
    });
    expect((await server.api('GET', '/internal/security/api_key/_has_active')).body).toEqual({
      hasApiKeys: true,
    });
  });

  it('queries keys as the API keys page does: filters, sort, paging, aggregations', async () => {
    const user = await createUser(server.api, 'key_owner', ['viewer']);
    await createRole(server.api, 'own_keys', [], { cluster: ['manage_own_api_key'] });
    const owner = await createUser(server.api, 'key_maker', ['own_keys', 'viewer']);
    for (const name of ['q-charlie', 'q-alpha', 'q-bravo']) {
      await createApiKey(server.api, { name }, owner);
    }
    const query = (body: unknown, auth?: string) =>
      server.api<Record<string, unknown>>('POST', '/internal/security/api_key/_query', {
        body,
        ...(auth !== undefined ? { auth } : {}),
      });
    const first = await query(
      {
        query: { bool: { must: [{ prefix: { name: { value: 'q-' } } }] } },
        sort: { field: 'name', direction: 'asc' },
        size: 2,
        filters: { usernames: ['key_maker'], expired: false, type: 'rest' },
      },
      owner,
    );
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      canManageApiKeys: false,
      canManageOwnApiKeys: true,
      canManageCrossClusterApiKeys: false,
      total: 3,
      count: 2,
      aggregationTotal: 3,
      aggregations: {
        usernames: { buckets: [{ key: 'key_maker' }] },
        types: { buckets: [{ key: 'rest' }] },
        expired: { doc_count: 0 },
        managed: {
          buckets: { metadataBased: { doc_count: 0 }, namePrefixBased: { doc_count: 0 } },
        },
      },
    });
    const keys = first.body.apiKeys as Array<{ name: string; _sort: unknown[] }>;
    expect(keys.map((k) => k.name)).toEqual(['q-alpha', 'q-bravo']);
    expect(first.body.searchAfter).toEqual(keys[1]?._sort);
    const next = await query(
      {
        query: { prefix: { name: 'q-' } },
        sort: { field: 'name', direction: 'asc' },
        size: 2,
        searchAfter: first.body.searchAfter,
      },
      owner,
    );
    expect((next.body.apiKeys as Array<{ name: string }>).map((k) => k.name)).toEqual([
      'q-charlie',
    ]);

    // The superuser sees everyone's keys; a user with no API key privilege gets Elasticsearch's 403.
    const admin = await query({ query: { term: { username: 'key_maker' } } });
    expect(admin.body).toMatchObject({ total: 3, canManageApiKeys: true });
    const refused = await query({}, user);
    expect(refused.status).toBe(403);
    expect((refused.body as { message: string }).message).toContain(
      'action [cluster:admin/xpack/security/api_key/query] is unauthorized for user [key_owner] with effective roles [viewer], this action is granted by the cluster privileges [manage_own_api_key,manage_api_key,manage_security,all]',
    );
    const unsupported = await query({ query: { fuzzy: { name: 'x' } } });
    expect(unsupported.status).toBe(200);
    expect(unsupported.body.queryError).toEqual({
      name: 'ResponseError',
      message: '[parsing_exception] unknown query [fuzzy]',
    });
    const badSort = await query({ sort: { field: 'name', direction: 'up' } });
    expect(badSort.body).toEqual(
      badRequest(
        '[request body.sort.direction]: types that failed validation:\n' +
          '- [request body.sort.direction.0]: expected value to equal [asc]\n' +
          '- [request body.sort.direction.1]: expected value to equal [desc]',
      ),
    );
    const create = await server.api('POST', '/internal/security/api_key', {
      auth: user,
      body: { name: 'not-allowed' },
    });
    expect(create.status).toBe(403);
    expect((create.body as { message: string }).message).toContain(
      'action [cluster:admin/xpack/security/api_key/create] is unauthorized for user [key_owner]',
    );
  });

  it('invalidates keys, which are refused at once', async () => {
    const key = await createApiKey(server.api, { name: 'to-invalidate' });
    expect((await server.api('GET', '/api/actions/connectors', { auth: key.auth })).status).toBe(
      200,
    );
    const res = await server.api('POST', '/internal/security/api_key/invalidate', {
      body: { apiKeys: [{ id: key.id, name: key.name }], isAdmin: true },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ itemsInvalidated: [{ id: key.id, name: key.name }], errors: [] });
    const after = await server.api('GET', '/api/actions/connectors', { auth: key.auth });
    expect(after.status).toBe(401);
    const listed = await server.api<{ apiKeys: Array<{ id: string }> }>(
      'GET',
      '/internal/security/api_key?isAdmin=true',
    );
    expect(listed.body.apiKeys.map((k) => k.id)).not.toContain(key.id);

    // A user without manage_api_key cannot invalidate as admin; its own keys it can.
    await createRole(server.api, 'own_keys_2', [], { cluster: ['manage_own_api_key'] });
    const owner = await createUser(server.api, 'inv_owner', ['own_keys_2', 'viewer']);
    const own = await createApiKey(server.api, { name: 'mine' }, owner);
    const asAdmin = await server.api<{ errors: Array<{ error: { statusCode: number } }> }>(
      'POST',
      '/internal/security/api_key/invalidate',
      { auth: owner, body: { apiKeys: [{ id: own.id, name: 'mine' }], isAdmin: true } },
    );
    expect(asAdmin.body.errors[0]?.error.statusCode).toBe(403);
    expect((await server.api('GET', '/api/actions/connectors', { auth: own.auth })).status).toBe(
      200,
    );
    const asOwner = await server.api('POST', '/internal/security/api_key/invalidate', {
      auth: owner,
      body: { apiKeys: [{ id: own.id, name: 'mine' }], isAdmin: false },
    });
    expect(asOwner.body).toEqual({ itemsInvalidated: [{ id: own.id, name: 'mine' }], errors: [] });
    expect((await server.api('GET', '/api/actions/connectors', { auth: own.auth })).status).toBe(
      401,
    );
  });

  it('lets a key make only a key with no privileges, as Elasticsearch does', async () => {
    const parent = await createApiKey(server.api, { name: 'parent' });
    const refused = await server.api('POST', '/internal/security/api_key', {
      auth: parent.auth,
      body: { name: 'child' },
    });
    expect(refused.body).toEqual(
      badRequest(
        esMessage(
          'illegal_argument_exception',
          'creating derived api keys requires an explicit role descriptor that is empty (has no privileges)',
        ),
      ),
    );
    const child = await createApiKey(
      server.api,
      { name: 'child', role_descriptors: { none: {} } },
      parent.auth,
    );
    const use = await server.api('GET', '/api/actions/connectors', { auth: child.auth });
    expect(use.status).toBe(403);
    const bad = await server.api('POST', '/internal/security/api_key', {
      body: { name: 'bad', role_descriptors: { r: { frobnicate: true } } },
    });
    expect(bad.body).toEqual(
      badRequest(
        esMessage('parse_exception', 'failed to parse role [r]. unexpected field [frobnicate]'),
      ),
    );
  });
});
