import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { answerLater, type RecordedRequest, type Simulator, startSimulator } from './base.js';

/**
 * Elasticsearch's `_bulk` endpoint, as far as the .index connector uses it. It answers with the
 * product header the official client insists on, and fails the way Elasticsearch does when a
 * document asks it to (field `simulate`):
 * - `item-error`: that item fails with a mapper_parsing_exception (HTTP 200, errors: true);
 * - `http-500`: the whole request fails with HTTP 500;
 * - `slow`: the answer comes after 2 s.
 */

const ES_HEADERS = {
  'x-elastic-product': 'Elasticsearch',
  'content-type': 'application/vnd.elasticsearch+json;compatible-with=9',
};

export interface ElasticsearchSimulator extends Simulator {
  /** Documents accepted, by index. */
  indices: Map<string, Array<{ _id: string; _source: Record<string, unknown> }>>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...ES_HEADERS, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function esError(type: string, reason: string, status: number) {
  return { error: { root_cause: [{ type, reason }], type, reason }, status };
}

export async function startElasticsearchSimulator(): Promise<ElasticsearchSimulator> {
  const indices = new Map<string, Array<{ _id: string; _source: Record<string, unknown> }>>();
  const seqNo = new Map<string, number>();

  const handle = (req: RecordedRequest, res: ServerResponse) => {
    const match = /^\/(?:([^/]+)\/)?_bulk$/.exec(req.path);
    if (req.method === 'HEAD' || (req.method === 'GET' && req.path === '/')) {
      return send(res, 200, {
        name: 'simulator',
        cluster_name: 'simulator',
        version: { number: '9.1.0' },
        tagline: 'You Know, for Search',
      });
    }
    if (match === null || (req.method !== 'POST' && req.method !== 'PUT')) {
      return send(
        res,
        405,
        esError('illegal_argument_exception', `unsupported ${req.method} ${req.path}`, 405),
      );
    }
    const lines = req.text.split('\n').filter((l) => l.trim() !== '');
    const pairs: Array<{
      action: Record<string, { _index?: string; op_type?: string }>;
      doc: Record<string, unknown>;
    }> = [];
    for (let i = 0; i < lines.length; i += 2) {
      pairs.push({ action: JSON.parse(lines[i] as string), doc: JSON.parse(lines[i + 1] ?? '{}') });
    }
    if (pairs.some((p) => p.doc.simulate === 'http-500')) {
      return send(res, 500, esError('internal_server_error', 'simulated cluster failure', 500));
    }
    const items = pairs.map(({ action, doc }) => {
      const [op, meta] = Object.entries(action)[0] as [
        string,
        { _index?: string; op_type?: string },
      ];
      const index = meta._index ?? decodeURIComponent(match[1] ?? '');
      const kind = op === 'index' && meta.op_type === 'create' ? 'create' : op;
      if (doc.simulate === 'item-error') {
        return {
          [kind]: {
            _index: index,
            _id: null,
            status: 400,
            error: {
              type: 'document_parsing_exception',
              reason: '[1:12] failed to parse field [simulate] of type [long] in document',
              caused_by: {
                type: 'illegal_argument_exception',
                reason: 'For input string: "item-error"',
              },
            },
          },
        };
      }
      const id = randomBytes(15).toString('base64url');
      const seq = seqNo.get(index) ?? 0;
      seqNo.set(index, seq + 1);
      const docs = indices.get(index) ?? [];
      docs.push({ _id: id, _source: doc });
      indices.set(index, docs);
      return {
        [kind]: {
          _index: index,
          _id: id,
          _version: 1,
          result: 'created',
          ...(req.query.get('refresh') === 'true' ? { forced_refresh: true } : {}),
          _shards: { total: 2, successful: 1, failed: 0 },
          _seq_no: seq,
          _primary_term: 1,
          status: 201,
        },
      };
    });
    const body = {
      errors: items.some((i) => (Object.values(i)[0] as { error?: unknown }).error !== undefined),
      took: 3,
      items,
    };
    if (pairs.some((p) => p.doc.simulate === 'slow'))
      return answerLater(res, 2000, () => send(res, 200, body));
    send(res, 200, body);
  };

  const sim = await startSimulator(handle);
  return Object.assign(sim, { indices });
}
