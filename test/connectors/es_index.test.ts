import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectCreateRefused } from '../helpers/connectors.js';
import { connectorHarness } from '../helpers/harness.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startElasticsearchSimulator } from '../simulators/elasticsearch.js';

const DOCS_EXAMPLE = {
  documents: [{ id: 'my_doc_id', name: 'my_doc_name', message: 'hello, world' }],
};

interface BulkItem {
  create: Record<string, unknown>;
}

describe('.index on the embedded index', () => {
  let server: TestServer;
  let connectorId: string;

  beforeAll(async () => {
    server = await startServer();
    const created = await server.api<{ id: string }>('POST', '/api/actions/connector', {
      body: { name: 'my-connector', connector_type_id: '.index', config: { index: 'my-index' } },
    });
    expect(created.status).toBe(200);
    connectorId = created.body.id;
  });
  afterAll(() => server.close());

  it('runs the docs example and answers with a bulk response', async () => {
    const res = await server.api<{
      status: string;
      connector_id: string;
      data: { took: number; errors: boolean; items: BulkItem[] };
    }>('POST', `/api/actions/connector/${connectorId}/_execute`, {
      body: { params: DOCS_EXAMPLE },
    });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body)).toEqual(['status', 'connector_id', 'data']);
    expect(res.body.status).toBe('ok');
    expect(res.body.connector_id).toBe(connectorId);
    expect(res.body.data.errors).toBe(false);
    expect(typeof res.body.data.took).toBe('number');
    expect(res.body.data.items).toHaveLength(1);
    const item = res.body.data.items[0]?.create;
    expect(item).toEqual({
      _index: 'my-index',
      _id: expect.stringMatching(/^[A-Za-z0-9_-]{20}$/),
      _version: 1,
      result: 'created',
      _shards: { total: 2, successful: 1, failed: 0 },
      _seq_no: expect.any(Number),
      _primary_term: 1,
      status: 201,
    });

    const search = await server.api<{
      hits: { total: { value: number }; hits: Array<Record<string, unknown>> };
    }>('GET', '/api/_embedded/my-index/_search');
    expect(search.status).toBe(200);
    expect(search.body.hits.hits).toContainEqual({
      _index: 'my-index',
      _id: item?._id,
      _score: 1,
      _source: DOCS_EXAMPLE.documents[0],
    });
  });

  it('numbers documents in order and reads them back paged', async () => {
    const created = await server.api<{ id: string }>('POST', '/api/actions/connector', {
      body: {
        name: 'paged',
        connector_type_id: '.index',
        config: { index: 'paged', refresh: true },
      },
    });
    const res = await server.api<{ data: { items: BulkItem[] } }>(
      'POST',
      `/api/actions/connector/${created.body.id}/_execute`,
      {
        body: { params: { documents: [{ n: 1 }, { n: 2 }, { n: 3 }] } },
      },
    );
    expect(res.body.data.items.map((i) => i.create._seq_no)).toEqual([0, 1, 2]);
    expect(res.body.data.items.every((i) => i.create.forced_refresh === true)).toBe(true);
    const page = await server.api<{
      hits: { total: { value: number; relation: string }; hits: Array<{ _source: unknown }> };
    }>('GET', '/api/_embedded/paged/_search?from=1&size=1');
    expect(page.body.hits.total).toEqual({ value: 3, relation: 'eq' });
    expect(page.body.hits.hits.map((h) => h._source)).toEqual([{ n: 2 }]);
  });

  it('stamps executionTimeField on every document', async () => {
    const created = await server.api<{ id: string }>('POST', '/api/actions/connector', {
      body: {
        name: 'timed',
        connector_type_id: '.index',
        config: { index: 'timed', executionTimeField: 'ran_at' },
      },
    });
    const before = Date.now();
    await server.api('POST', `/api/actions/connector/${created.body.id}/_execute`, {
      body: { params: { documents: [{ a: 1 }] } },
    });
    const search = await server.api<{
      hits: { hits: Array<{ _source: { a: number; ran_at: string } }> };
    }>('GET', '/api/_embedded/timed/_search');
    const source = search.body.hits.hits[0]?._source;
    expect(source?.a).toBe(1);
    expect(Date.parse(source?.ran_at ?? '')).toBeGreaterThanOrEqual(before - 1000);
  });

  it('answers Elasticsearch item errors for an invalid index name', async () => {
    const created = await server.api<{ id: string }>('POST', '/api/actions/connector', {
      body: { name: 'bad-index', connector_type_id: '.index', config: { index: 'Bad-Index' } },
    });
    const res = await server.api('POST', `/api/actions/connector/${created.body.id}/_execute`, {
      body: { params: { documents: [{ a: 1 }] } },
    });
    expect(res.body).toEqual({
      status: 'error',
      connector_id: created.body.id,
      message: 'error indexing documents',
      service_message: 'Invalid index name [Bad-Index], must be lowercase',
      errorSource: 'user',
    });
  });

  it('refuses an indexOverride outside the alert-history indices', async () => {
    const res = await server.api('POST', `/api/actions/connector/${connectorId}/_execute`, {
      body: { params: { documents: [{ a: 1 }], indexOverride: 'other' } },
    });
    expect(res.body).toEqual({
      status: 'error',
      connector_id: connectorId,
      message:
        'error validating action params: [indexOverride]: index must start with "kibana-alert-history-"',
      retry: false,
      errorSource: 'user',
    });
  });

  it('names the offending field when documents are missing', async () => {
    const res = await server.api('POST', `/api/actions/connector/${connectorId}/_execute`, {
      body: { params: {} },
    });
    expect(res.body).toEqual({
      status: 'error',
      connector_id: connectorId,
      message:
        'error validating action params: [documents]: expected value of type [array] but got [undefined]',
      retry: false,
      errorSource: 'user',
    });
  });

  it('answers a missing index with Elasticsearch 404', async () => {
    const res = await server.api('GET', '/api/_embedded/nope/_search');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      error: {
        root_cause: [
          {
            type: 'index_not_found_exception',
            reason: 'no such index [nope]',
            'resource.type': 'index_or_alias',
            'resource.id': 'nope',
            index_uuid: '_na_',
            index: 'nope',
          },
        ],
        type: 'index_not_found_exception',
        reason: 'no such index [nope]',
        'resource.type': 'index_or_alias',
        'resource.id': 'nope',
        index_uuid: '_na_',
        index: 'nope',
      },
      status: 404,
    });
  });

  it('requires index in config', async () => {
    await expectCreateRefused(
      server.api,
      { name: 'x', connector_type_id: '.index', config: {} },
      'error validating connector type config: [index]: expected value of type [string] but got [undefined]',
    );
  });
});

describe('.index on an Elasticsearch cluster', () => {
  const h = connectorHarness({
    type: '.index',
    simulator: startElasticsearchSimulator,
    settings: (es) => ({
      'elasticsearch.hosts': [es.url],
      'elasticsearch.username': 'es-user',
      'elasticsearch.password': 'es-secret-pw',
    }),
    connector: () => ({ name: 'cluster', config: { index: 'logs', refresh: true } }),
  });

  it('sends one create per document to _bulk and returns the bulk response', async () => {
    const res = await h.server.api<{
      status: string;
      data: { errors: boolean; items: BulkItem[] };
    }>('POST', `/api/actions/connector/${h.id}/_execute`, { body: { params: DOCS_EXAMPLE } });
    expect(res.body.status).toBe('ok');
    expect(res.body.data.errors).toBe(false);
    expect(res.body.data.items[0]?.create).toMatchObject({
      _index: 'logs',
      result: 'created',
      status: 201,
      forced_refresh: true,
    });

    const sent = h.sim.last();
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/logs/_bulk');
    expect(sent.query.get('refresh')).toBe('true');
    expect(sent.headers.authorization).toBe(
      `Basic ${Buffer.from('es-user:es-secret-pw').toString('base64')}`,
    );
    const lines = sent.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([{ index: { op_type: 'create' } }, DOCS_EXAMPLE.documents[0]]);
    expect(h.sim.indices.get('logs')?.[0]?._source).toEqual(DOCS_EXAMPLE.documents[0]);
  });

  it('reports item-level failures with their reasons and causes', async () => {
    const res = await h.server.api('POST', `/api/actions/connector/${h.id}/_execute`, {
      body: { params: { documents: [{ ok: 1 }, { simulate: 'item-error' }] } },
    });
    expect(res.body).toEqual({
      status: 'error',
      connector_id: h.id,
      message: 'error indexing documents',
      service_message:
        '[1:12] failed to parse field [simulate] of type [long] in document (For input string: "item-error")',
      errorSource: 'user',
    });
  });

  it('reports an HTTP 500 from the cluster', async () => {
    const res = await h.server.api<{ status: string; message: string; service_message: string }>(
      'POST',
      `/api/actions/connector/${h.id}/_execute`,
      { body: { params: { documents: [{ simulate: 'http-500' }] } } },
    );
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('error');
    expect(res.body.message).toBe('error indexing documents');
    expect(res.body.service_message).toContain('simulated cluster failure');
  });

  it('never logs the cluster password', () => {
    expect(h.server.logs.join('\n')).not.toContain('es-secret-pw');
  });
});
