import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  type RecordedRequest,
  type Simulator,
  sendJson,
  sendText,
  startSimulator,
} from './base.js';
import { answerMagic, type MagicScript, magicWord } from './magic.js';

/**
 * A D3 SOAR event-ingestion webhook: `POST` with header `d3key` (else 401) and an
 * Elasticsearch-hit-shaped body `{hits: {hits: {_source: {rawData, ...}}}}` (else 400); answers
 * `{refid}`. Scripted by `rawData` when it is text: `respond-with-<status>`,
 * `respond-with-429-retry-after-<s>`, `respond-with-timeout`, `respond-with-reset`,
 * `respond-with-large`, `respond-with-no-refid`.
 */

export const D3_TOKEN = 'd3-api-token-Nw2';
export const D3_PATH = '/VSOAPI/api/Data/Event/ingest';

export async function startD3SecuritySimulator(): Promise<Simulator> {
  const handle = (req: RecordedRequest, res: ServerResponse) => {
    if (req.path !== D3_PATH) return sendText(res, 404, 'Not Found');
    if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed');
    if (req.headers.d3key !== D3_TOKEN) return sendJson(res, 401, { error: 'Unauthorized' });
    const source = (req.json as { hits?: { hits?: { _source?: { rawData?: unknown } } } })?.hits
      ?.hits?._source;
    if (source === undefined) return sendJson(res, 400, { error: { statusMessage: 'Bad job' } });
    const script: MagicScript = {
      fail: (status, headers) =>
        sendJson(
          res,
          status,
          headers['retry-after'] ? { error: 'slow down' } : { error: { statusMessage: 'Bad job' } },
          headers,
        ),
      late: () => sendJson(res, 200, { refid: randomUUID() }),
      words: { 'no-refid': () => sendJson(res, 200, { ok: true }) },
    };
    const word = magicWord(typeof source.rawData === 'string' ? source.rawData : undefined);
    if (answerMagic(word, res, script)) return;
    sendJson(res, 200, { refid: randomUUID() });
  };
  return startSimulator(handle);
}
