import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConnector, execute } from '../helpers/connectors.js';
import { startServer, type TestServer } from '../helpers/server.js';

const DEFAULT_SPACE = {
  id: 'default',
  name: 'Default',
  description: 'This is your default space!',
  color: '#00bfb3',
  disabledFeatures: [],
  _reserved: true,
};
const badRequest = (message: string) => ({ statusCode: 400, error: 'Bad Request', message });

describe('spaces API', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ settings: { 'xpack.spaces.maxSpaces': 4 } });
  });
  afterAll(() => server.close());

  it('has the default space, exactly as Kibana describes it', async () => {
    const res = await server.api('GET', '/api/spaces/space/default');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(DEFAULT_SPACE);
    expect(res.headers.get('elastic-api-version')).toBe('2023-10-31');
  });

  it('creates, gets, updates, lists and deletes spaces', async () => {
    const created = await server.api('POST', '/api/spaces/space', {
      body: {
        id: 'marketing',
        name: '  Marketing ',
        description: 'The marketing team',
        color: '#aabbcc',
        initials: 'MK',
      },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: 'marketing',
      name: 'Marketing',
      description: 'The marketing team',
      color: '#aabbcc',
      initials: 'MK',
      disabledFeatures: [],
    });
    const duplicate = await server.api('POST', '/api/spaces/space', {
      body: { id: 'marketing', name: 'Again' },
    });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'A space with the identifier marketing already exists.',
    });

    const updated = await server.api('PUT', '/api/spaces/space/marketing', {
      body: { id: 'ignored-id', name: 'Marketing EU', disabledFeatures: ['discover'] },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({
      id: 'marketing',
      name: 'Marketing EU',
      description: 'The marketing team',
      color: '#aabbcc',
      initials: 'MK',
      disabledFeatures: ['discover'],
    });

    await server.api('POST', '/api/spaces/space', { body: { id: 'alpha', name: 'alpha' } });
    const list = await server.api<Array<{ id: string }>>('GET', '/api/spaces/space');
    expect(list.body.map((s) => s.id)).toEqual(['alpha', 'default', 'marketing']);
    const withPurposes = await server.api<Array<{ authorizedPurposes: unknown }>>(
      'GET',
      '/api/spaces/space?include_authorized_purposes=true',
    );
    expect(withPurposes.body[0]?.authorizedPurposes).toEqual({
      any: true,
      copySavedObjectsIntoSpace: true,
      findSavedObjects: true,
      shareSavedObjectsIntoSpace: true,
    });

    const deleted = await server.api('DELETE', '/api/spaces/space/alpha');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    const gone = await server.api('GET', '/api/spaces/space/alpha');
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'Not Found' });
    expect((await server.api('DELETE', '/api/spaces/space/alpha')).status).toBe(404);
    expect(
      (await server.api('PUT', '/api/spaces/space/alpha', { body: { id: 'alpha', name: 'a' } }))
        .status,
    ).toBe(404);
  });

  it('refuses to delete the reserved default space', async () => {
    const res = await server.api('DELETE', '/api/spaces/space/default');
    expect(res.status).toBe(400);
    expect(res.body).toEqual(
      badRequest('The default space cannot be deleted because it is reserved.'),
    );
  });

  it('validates space bodies with Kibana texts', async () => {
    const cases: Array<[unknown, string]> = [
      [
        { id: 'Bad Id', name: 'x' },
        "[request body.id]: must be lower case, a-z, 0-9, '_', and '-' are allowed",
      ],
      [
        { id: 'ok', name: '' },
        '[request body.name]: value has length [0] but it must have a minimum length of [1].',
      ],
      [
        { id: 'ok', name: 'x', color: 'red' },
        '[request body.color]: must be a 6 digit hex color, starting with a #',
      ],
      [
        { id: 'ok', name: 'x', initials: 'ABC' },
        '[request body.initials]: value has length [3] but it must have a maximum length of [2].',
      ],
      [
        { id: 'ok', name: 'x', imageUrl: 'http://x' },
        "[request body.imageUrl]: must start with 'data:image'",
      ],
      [
        { id: 'ok', name: 'x', unknown: 1 },
        '[request body.unknown]: definition for this key is missing',
      ],
    ];
    for (const [body, message] of cases) {
      const res = await server.api('POST', '/api/spaces/space', { body });
      expect(res.body, JSON.stringify(body)).toEqual(badRequest(message));
    }
    const query = await server.api(
      'GET',
      '/api/spaces/space?purpose=any&include_authorized_purposes=true',
    );
    expect(query.body).toEqual(
      badRequest(
        '[request query]: include_authorized_purposes can only be false when purpose is specified',
      ),
    );
  });

  it('enforces xpack.spaces.maxSpaces', async () => {
    // default and marketing exist: two more reach the limit of 4.
    expect(
      (await server.api('POST', '/api/spaces/space', { body: { id: 'fill', name: 'fill' } }))
        .status,
    ).toBe(200);
    expect(
      (await server.api('POST', '/api/spaces/space', { body: { id: 'fill2', name: 'fill2' } }))
        .status,
    ).toBe(200);
    const res = await server.api('POST', '/api/spaces/space', {
      body: { id: 'over', name: 'over' },
    });
    expect(res.body).toEqual(
      badRequest(
        'Unable to create Space, this exceeds the maximum number of spaces set by the xpack.spaces.maxSpaces setting',
      ),
    );
  });
});

describe('the /s/{space_id} prefix', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('scopes connectors to the space and runs the docs example there', async () => {
    await server.api('POST', '/api/spaces/space', { body: { id: 'team-a', name: 'Team A' } });
    const id = await createConnector(
      server.api,
      { connector_type_id: '.index', config: { index: 'team-a-docs' } },
      '/s/team-a',
    );
    const result = await execute(
      server.api,
      id,
      { documents: [{ id: 'my_doc_id', name: 'my_doc_name', message: 'hello, world' }] },
      '/s/team-a',
    );
    expect(result).toMatchObject({ status: 'ok', connector_id: id, data: { errors: false } });
    expect(
      (await server.api<unknown[]>('GET', '/s/team-a/api/actions/connectors')).body,
    ).toHaveLength(1);
    expect((await server.api<unknown[]>('GET', '/api/actions/connectors')).body).toHaveLength(0);
    expect(
      (await server.api<unknown[]>('GET', '/s/default/api/actions/connectors')).body,
    ).toHaveLength(0);
    // Spaces routes work under a prefix too.
    expect((await server.api('GET', '/s/team-a/api/spaces/space/team-a')).status).toBe(200);
  });

  it('deleting a space deletes its connectors', async () => {
    await server.api('POST', '/api/spaces/space', { body: { id: 'doomed', name: 'Doomed' } });
    const id = await createConnector(server.api, { connector_type_id: '.server-log' }, '/s/doomed');
    expect((await server.api('DELETE', '/api/spaces/space/doomed')).status).toBe(204);
    expect((await server.api('GET', `/s/doomed/api/actions/connector/${id}`)).status).toBe(404);
    // The id is free again.
    expect(
      (
        await server.api('POST', `/api/actions/connector/${id}`, {
          body: { name: 'n', connector_type_id: '.server-log' },
        })
      ).status,
    ).toBe(200);
  });

  it('does not treat an invalid space segment as a prefix', async () => {
    const res = await server.api('GET', '/s/Upper/api/actions/connectors');
    expect(res.status).toBe(404);
  });
});
