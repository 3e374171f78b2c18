import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexConnector } from '../../src/connectors/es_index/index.js';
import { serverLogConnector } from '../../src/connectors/server_log/index.js';
import { defineSubActionConnector, subAction } from '../../src/connectors/sub-actions.js';
import { StrictObject } from '../../src/schemas/common.js';
import { createConnector } from '../helpers/connectors.js';
import { createApiKey, createRole, createUser, forbidden } from '../helpers/identities.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** An EDR-like type: sub-feature endpointSecurity, `getAgents` readable over HTTP. */
const edrConnector = defineSubActionConnector({
  id: '.test-edr',
  name: 'Test EDR',
  minimumLicenseRequired: 'enterprise',
  supportedFeatureIds: ['endpointSecurity'],
  subFeature: 'endpointSecurity',
  readOnlySubActions: ['getAgents'],
  schema: { config: StrictObject({}, { default: {} }), secrets: StrictObject({}, { default: {} }) },
  subActionNames: ['getAgents', 'isolateHost'] as const,
  subActions: {
    getAgents: subAction(undefined, async () => ({ agents: [] })),
    isolateHost: subAction(StrictObject({ id: Type.String() }), async (_ctx, p) => ({
      isolated: p.id,
    })),
  },
});

const indexBody = (name: string) => ({
  name,
  connector_type_id: '.index',
  config: { index: `idx-${name}` },
});

let server: TestServer;
let viewer: string;
let adminA: string;
let readerA: string;
let noActions: string;
let logId: string;
let indexInA: string;
let indexInB: string;

beforeAll(async () => {
  server = await startServer({
    connectorTypes: [indexConnector, serverLogConnector, edrConnector],
  });
  const { api } = server;
  for (const id of ['space-a', 'space-b']) {
    await api('POST', '/api/spaces/space', { body: { id, name: id } });
  }
  await createRole(api, 'actions_all_a', [{ feature: { actions: ['all'] }, spaces: ['space-a'] }]);
  await createRole(api, 'actions_read_a', [
    { feature: { actions: ['read'] }, spaces: ['space-a'] },
  ]);
  await createRole(api, 'discover_only', [{ feature: { discover: ['read'] }, spaces: ['*'] }]);
  viewer = await createUser(api, 'the_viewer', ['viewer']);
  adminA = await createUser(api, 'admin_a', ['actions_all_a']);
  readerA = await createUser(api, 'reader_a', ['actions_read_a']);
  noActions = await createUser(api, 'no_actions', ['discover_only']);
  logId = await createConnector(api, { name: 'log', connector_type_id: '.server-log' });
  indexInA = await createConnector(api, indexBody('in-a'), '/s/space-a');
  indexInB = await createConnector(api, indexBody('in-b'), '/s/space-b');
});
afterAll(() => server.close());

describe('a read-only user (the reserved viewer role)', () => {
  it('can get, list and execute', async () => {
    const get = await server.api('GET', `/api/actions/connector/${logId}`, { auth: viewer });
    expect(get.status).toBe(200);
    const list = await server.api('GET', '/api/actions/connectors', { auth: viewer });
    expect(list.status).toBe(200);
    const run = await server.api('POST', `/api/actions/connector/${logId}/_execute`, {
      auth: viewer,
      body: { params: { message: 'from a viewer' } },
    });
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ status: 'ok', connector_id: logId });
  });

  it("gets Kibana's 403 texts for create, update and delete", async () => {
    const create = await server.api('POST', '/api/actions/connector', {
      auth: viewer,
      body: { name: 'x', connector_type_id: '.server-log' },
    });
    expect(create.status).toBe(403);
    expect(create.body).toEqual(forbidden('Unauthorized to create a ".server-log" action'));
    const update = await server.api('PUT', `/api/actions/connector/${logId}`, {
      auth: viewer,
      body: { name: 'renamed' },
    });
    expect(update.body).toEqual(forbidden('Unauthorized to update actions'));
    const remove = await server.api('DELETE', `/api/actions/connector/${logId}`, { auth: viewer });
    expect(remove.body).toEqual(forbidden('Unauthorized to delete actions'));
    expect((await server.api('GET', `/api/actions/connector/${logId}`)).status).toBe(200);
  });

  it('cannot manage spaces, but sees them all', async () => {
    const create = await server.api('POST', '/api/spaces/space', {
      auth: viewer,
      body: { id: 'nope', name: 'Nope' },
    });
    expect(create.body).toEqual(forbidden('Unauthorized to create spaces'));
    const list = await server.api<Array<{ id: string }>>('GET', '/api/spaces/space', {
      auth: viewer,
    });
    expect(list.body.map((s) => s.id).sort()).toEqual(['default', 'space-a', 'space-b']);
  });
});

describe('privileges per space', () => {
  it('a role granting actions:all in space A may do everything there', async () => {
    const id = await createConnector(
      (method, path, options) => server.api(method, path, { ...options, auth: adminA }),
      { name: 'made-by-a', connector_type_id: '.server-log' },
      '/s/space-a',
    );
    const run = await server.api('POST', `/s/space-a/api/actions/connector/${indexInA}/_execute`, {
      auth: adminA,
      body: { params: { documents: [{ a: 1 }] } },
    });
    expect(run.body).toMatchObject({ status: 'ok' });
    const update = await server.api('PUT', `/s/space-a/api/actions/connector/${id}`, {
      auth: adminA,
      body: { name: 'renamed' },
    });
    expect(update.status).toBe(200);
    const remove = await server.api('DELETE', `/s/space-a/api/actions/connector/${id}`, {
      auth: adminA,
    });
    expect(remove.status).toBe(204);
  });

  it('and gets 403 in space B and in the default space', async () => {
    for (const prefix of ['/s/space-b', '']) {
      const list = await server.api('GET', `${prefix}/api/actions/connectors`, { auth: adminA });
      expect(list.status).toBe(403);
      expect(list.body).toEqual(forbidden('Unauthorized to get actions'));
      const create = await server.api('POST', `${prefix}/api/actions/connector`, {
        auth: adminA,
        body: indexBody('nope'),
      });
      expect(create.body).toEqual(forbidden('Unauthorized to create a ".index" action'));
    }
    const get = await server.api('GET', `/s/space-b/api/actions/connector/${indexInB}`, {
      auth: adminA,
    });
    expect(get.body).toEqual(forbidden('Unauthorized to get actions'));
  });

  it('names the type on execute only when the connector resolves in that space', async () => {
    const execute = (prefix: string, id: string) =>
      server.api('POST', `${prefix}/api/actions/connector/${id}/_execute`, {
        auth: adminA,
        body: { params: { documents: [{ a: 1 }] } },
      });
    // A connector of space B, run through space B: its type is known.
    expect((await execute('/s/space-b', indexInB)).body).toEqual(
      forbidden('Unauthorized to execute a ".index" action'),
    );
    // Space A's connector through space B's URL, or an unknown id: no type to name.
    expect((await execute('/s/space-b', indexInA)).body).toEqual(
      forbidden('Unauthorized to execute actions'),
    );
    expect((await execute('/s/space-b', 'no-such-connector')).body).toEqual(
      forbidden('Unauthorized to execute actions'),
    );
    // With the privilege, an unknown id is a 404.
    const unknown = await execute('/s/space-a', 'no-such-connector');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({
      message: 'Saved object [action/no-such-connector] not found',
    });
  });

  it('a role granting actions:read in space A may read and run there but not write', async () => {
    expect(
      (await server.api('GET', '/s/space-a/api/actions/connectors', { auth: readerA })).status,
    ).toBe(200);
    const run = await server.api('POST', `/s/space-a/api/actions/connector/${indexInA}/_execute`, {
      auth: readerA,
      body: { params: { documents: [{ b: 2 }] } },
    });
    expect(run.body).toMatchObject({ status: 'ok' });
    const create = await server.api('POST', '/s/space-a/api/actions/connector', {
      auth: readerA,
      body: indexBody('x'),
    });
    expect(create.body).toEqual(forbidden('Unauthorized to create a ".index" action'));
  });

  it('lists only the spaces a user holds a privilege in', async () => {
    const list = await server.api<Array<{ id: string }>>('GET', '/api/spaces/space', {
      auth: adminA,
    });
    expect(list.body.map((s) => s.id)).toEqual(['space-a']);
    expect((await server.api('GET', '/api/spaces/space/space-a', { auth: adminA })).status).toBe(
      200,
    );
    const other = await server.api('GET', '/api/spaces/space/space-b', { auth: adminA });
    expect(other.body).toEqual(forbidden('Unauthorized to get space-b space'));
  });

  it('connector_types needs no privilege at all', async () => {
    const types = await server.api('GET', '/api/actions/connector_types', { auth: noActions });
    expect(types.status).toBe(200);
    const list = await server.api('GET', '/api/actions/connectors', { auth: noActions });
    expect(list.body).toEqual(forbidden('Unauthorized to get actions'));
  });
});

describe('the order of checks', () => {
  it('no credentials and no kbn-xsrf: 401', async () => {
    const res = await server.api('POST', '/api/actions/connector', {
      auth: 'none',
      xsrf: false,
      body: { bad: true },
    });
    expect(res.status).toBe(401);
  });

  it('a bad body from a caller without privileges: 400, not 403', async () => {
    const create = await server.api('POST', '/api/actions/connector', {
      auth: viewer,
      body: { name: 'x' },
    });
    expect(create.status).toBe(400);
    expect(create.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message:
        '[request body.connector_type_id]: expected value of type [string] but got [undefined]',
    });
    const run = await server.api('POST', `/s/space-b/api/actions/connector/${indexInB}/_execute`, {
      auth: adminA,
      body: {},
    });
    expect(run.status).toBe(400);
    expect((run.body as { message: string }).message).toBe(
      '[request body.params]: expected value of type [object] but got [undefined]',
    );
  });
});

describe('API keys limited by role_descriptors', () => {
  it('a superuser key limited to actions:read in space A reads there and nothing else', async () => {
    const key = await createApiKey(server.api, {
      name: 'read-a',
      role_descriptors: {
        reader: {
          applications: [
            {
              application: 'kibana-.kibana',
              privileges: ['feature_actions.read'],
              resources: ['space:space-a'],
            },
          ],
        },
      },
    });
    expect(
      (await server.api('GET', '/s/space-a/api/actions/connectors', { auth: key.auth })).status,
    ).toBe(200);
    const create = await server.api('POST', '/s/space-a/api/actions/connector', {
      auth: key.auth,
      body: indexBody('k'),
    });
    expect(create.body).toEqual(forbidden('Unauthorized to create a ".index" action'));
    const elsewhere = await server.api('GET', '/api/actions/connectors', { auth: key.auth });
    expect(elsewhere.body).toEqual(forbidden('Unauthorized to get actions'));
    // Not a superuser any more: the rotation route refuses it.
    const rotate = await server.api('POST', '/api/encrypted_saved_objects/_rotate_key', {
      auth: key.auth,
    });
    expect(rotate.status).toBe(403);
  });

  it("accepts Kibana's kibana_role_descriptors form", async () => {
    const key = await createApiKey(server.api, {
      name: 'all-b',
      kibana_role_descriptors: {
        b: { elasticsearch: {}, kibana: [{ feature: { actions: ['all'] }, spaces: ['space-b'] }] },
      },
    });
    const create = await server.api('POST', '/s/space-b/api/actions/connector', {
      auth: key.auth,
      body: { name: 'by-key', connector_type_id: '.server-log' },
    });
    expect(create.status).toBe(200);
    const inA = await server.api('GET', '/s/space-a/api/actions/connectors', { auth: key.auth });
    expect(inA.body).toEqual(forbidden('Unauthorized to get actions'));
  });

  it("never grants more than its owner's roles", async () => {
    await createRole(server.api, 'key_maker_role', [], { cluster: ['manage_own_api_key'] });
    const owner = await createUser(server.api, 'limited_owner', ['viewer', 'key_maker_role']);
    const key = await createApiKey(
      server.api,
      {
        name: 'wants-all',
        role_descriptors: {
          everything: {
            applications: [
              { application: 'kibana-.kibana', privileges: ['all'], resources: ['*'] },
            ],
          },
        },
      },
      owner,
    );
    expect((await server.api('GET', '/api/actions/connectors', { auth: key.auth })).status).toBe(
      200,
    );
    const create = await server.api('POST', '/api/actions/connector', {
      auth: key.auth,
      body: { name: 'x', connector_type_id: '.server-log' },
    });
    expect(create.body).toEqual(forbidden('Unauthorized to create a ".server-log" action'));
  });
});

describe('EDR connectors (sub-feature endpointSecurity)', () => {
  let edrId: string;
  beforeAll(async () => {
    edrId = await createConnector(server.api, { name: 'edr', connector_type_id: '.test-edr' });
  });

  const run = (auth: string, params: Record<string, unknown>) =>
    server.api('POST', `/api/actions/connector/${edrId}/_execute`, { auth, body: { params } });

  it('actions:read is not enough, even for the read-only sub-action', async () => {
    expect((await run(viewer, { subAction: 'getAgents' })).body).toEqual(
      forbidden('Unauthorized to execute a ".test-edr" action'),
    );
  });

  it('actions:all (or read with the Endpoint Security sub-feature) runs the read-only sub-action', async () => {
    await createRole(server.api, 'actions_all', [{ feature: { actions: ['all'] }, spaces: ['*'] }]);
    await createRole(server.api, 'actions_edr', [
      { feature: { actions: ['minimal_read', 'endpoint_security_execute'] }, spaces: ['*'] },
    ]);
    for (const roles of [['actions_all'], ['actions_edr']]) {
      const auth = await createUser(server.api, `edr_${roles[0]}`, roles);
      expect((await run(auth, { subAction: 'getAgents' })).body).toEqual({
        status: 'ok',
        connector_id: edrId,
        data: { agents: [] },
      });
      expect(
        (await run(auth, { subAction: 'isolateHost', subActionParams: { id: 'h1' } })).body,
      ).toEqual(forbidden('Unauthorized to execute a ".test-edr" action'));
    }
  });

  it('response sub-actions over HTTP need a superuser', async () => {
    const res = await server.api('POST', `/api/actions/connector/${edrId}/_execute`, {
      body: { params: { subAction: 'isolateHost', subActionParams: { id: 'h1' } } },
    });
    expect(res.body).toEqual({ status: 'ok', connector_id: edrId, data: { isolated: 'h1' } });
  });
});
