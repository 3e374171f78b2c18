import { randomFillSync } from 'node:crypto';
import type { BulkResponse, IndexService } from '../connectors/types.js';
import type { IndexRepository } from '../store/types.js';

/**
 * The index the .index connector writes to when no Elasticsearch cluster is configured. It keeps
 * documents in the store and answers in Elasticsearch's own shapes (`_bulk`, `_search`), so a
 * client cannot tell the difference for what it reads back.
 */

/** The reason Elasticsearch would refuse an index name, or undefined when it is valid. */
export function invalidIndexNameReason(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name !== name.toLowerCase()) return 'must be lowercase';
  if (/[\\/*?"<>| ,#:]/.test(name)) {
    return 'must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?, #, :]';
  }
  if (/^[-_+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (name === '.' || name === '..') return "must not be '.' or '..'";
  const bytes = Buffer.byteLength(name);
  if (bytes > 255) return `index name is too long, (${bytes} > 255)`;
  return undefined;
}

const ID_BYTES = 15;
const RANDOM_BYTES = 6;
/** Random bytes for ids, drawn from the system a few kilobytes at a time rather than per id. */
const randomPool = Buffer.alloc(RANDOM_BYTES * 512);
let randomOffset = randomPool.length;
const idBytes = Buffer.alloc(ID_BYTES);
let sequence = 0;

/**
 * A 20-character id in the style of Elasticsearch's auto-generated ones, and like them based on
 * time: 6 bytes of milliseconds, a 3-byte sequence and 6 random bytes. Ids made close together
 * share their first characters, so they land together in the store's id index: a batch of writes
 * touches a few pages of it rather than one page per document.
 */
export function newDocumentId(): string {
  if (randomOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  idBytes.writeUIntBE(Date.now(), 0, 6);
  idBytes.writeUIntBE(sequence, 6, 3);
  sequence = (sequence + 1) & 0xffffff;
  randomPool.copy(idBytes, 9, randomOffset, randomOffset + RANDOM_BYTES);
  randomOffset += RANDOM_BYTES;
  return idBytes.toString('base64url');
}

export function indexNotFound(index: string) {
  const cause = {
    type: 'index_not_found_exception',
    reason: `no such index [${index}]`,
    'resource.type': 'index_or_alias',
    'resource.id': index,
    index_uuid: '_na_',
    index,
  };
  return { error: { root_cause: [cause], ...cause }, status: 404 };
}

export class EmbeddedIndex implements IndexService {
  constructor(private readonly repo: IndexRepository) {}

  async bulkCreate(
    index: string,
    documents: readonly Record<string, unknown>[],
    options: { refresh: boolean },
  ): Promise<BulkResponse> {
    const started = performance.now();
    const reason = invalidIndexNameReason(index);
    if (reason !== undefined) {
      const error = {
        type: 'invalid_index_name_exception',
        reason: `Invalid index name [${index}], ${reason}`,
        index_uuid: '_na_',
        index,
      };
      return {
        errors: true,
        took: 0,
        items: documents.map(() => ({ create: { _index: index, _id: null, status: 400, error } })),
      };
    }
    const stored = await this.repo.bulkCreate(index, documents, newDocumentId);
    return {
      errors: false,
      took: Math.round(performance.now() - started),
      items: stored.map((doc) => ({
        create: {
          _index: index,
          _id: doc.id,
          _version: doc.version,
          result: 'created',
          ...(options.refresh ? { forced_refresh: true } : {}),
          _shards: { total: 2, successful: 1, failed: 0 },
          _seq_no: doc.seqNo,
          _primary_term: 1,
          status: 201,
        },
      })),
    };
  }

  /** Elasticsearch's `_search` answer for a match_all, paged with from/size. */
  async search(index: string, from: number, size: number) {
    const started = performance.now();
    const { total, hits } = await this.repo.search(index, from, size);
    return {
      took: Math.round(performance.now() - started),
      timed_out: false,
      _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
      hits: {
        total: { value: total, relation: 'eq' },
        max_score: hits.length > 0 ? 1 : null,
        hits: hits.map((hit) => ({ _index: index, _id: hit.id, _score: 1, _source: hit.source })),
      },
    };
  }

  exists(index: string): Promise<boolean> {
    return this.repo.exists(index);
  }
}
