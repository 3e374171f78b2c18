// The embedded store's writer thread: event-log records and embedded-index documents are written
// here, on a connection of its own, so the inserts, the commits and their fsyncs never hold up
// the request thread. Plain JavaScript, so the same file runs from the sources and from dist.
//
// A message is one request, a flat array [id, op, ...fields] of strings and numbers (documents
// come as their JSON text); a batch is answered by one flat array of replies, three entries each:
// id, value, and an error { message, code } or undefined. A structured clone writes and reads a
// flat array of strings far more cheaply than objects, whose properties it sets one by one, or
// nested arrays (about 1.5 against 3 us a message on the request thread).
//
// The requests that arrived while the previous batch was committing commit together as the next
// (group commit): one transaction and one WAL sync for all of them, each in its own savepoint so
// one failing leaves the others intact. A request is answered only after the commit, so an
// acknowledged write (an indexed document) is on disk; event-log records, which no caller is
// promised, are not synced on their own (see syncFor).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { withoutOldest } from './event-chunks.mjs';

const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
// This connection deletes only event-log chunks and the tail, never a secret: what it deletes is
// zeroed where that costs no extra write (FAST), but a page it frees is not written again as zeros,
// which with ON doubled the writes of every merged tail. Secrets are deleted on the request
// thread's connection, where secure_delete is ON.
db.pragma('secure_delete = FAST');
// Each request runs in a savepoint, and a savepoint keeps the pages it changes in a statement
// journal. Past 64 KiB SQLite spills that journal to a temporary file, and a batch of event-log
// chunks for many connectors (one b-tree leaf each) goes past it: a file opened, written and
// dropped per batch: a fifth of this thread's time with 10,000 connectors. In memory it is a copy
// of each page.
db.pragma('temp_store = MEMORY');

// The event log's chunks (see sqliteEvents in sqlite.ts): their text is made on the request
// thread. When a flush holds chunks for many objects, of a record or a few each, as it does when
// many connectors run, they go to the tail: two tables without an index by object, where a chunk
// is two appends at the end of their b-trees whatever object it is for. Indexed by object as
// they came, such chunks each landed on a leaf of their own in that index: a page written to the
// WAL, and again at the checkpoint, for every record. Once the tail holds TAIL_RECORDS records,
// mergeTail moves it into event_chunks in one transaction: the chunks of each object joined
// (about MERGED_RECORDS records a chunk) and inserted in the order of the index, so each leaf is
// written once for all the records a merge brings it. The chunks of a flush for a few objects,
// and large chunks, of objects with nothing in the tail, are inserted into event_chunks as they
// come: the leaves they write are few, or shared by many records.
const insertTail = db.prepare(
  'INSERT INTO event_tail (space_id, saved_object_id, n) VALUES (?, ?, ?)',
);
// Right after insertTail, on this connection: the row it made.
const insertTailRecords = db.prepare(
  `INSERT INTO event_tail_records (seq, first_ts, last_ts, records)
   VALUES (last_insert_rowid(), ?, ?, ?)`,
);
/** About how many records a merged chunk holds (see mergeTailChunks). */
const MERGED_RECORDS = 100;
// Each object's tail chunks joined in order, their texts (JSON arrays of [ts, doc] pairs) spliced
// without parsing them, into chunks of the tail chunks starting within each run of
// MERGED_RECORDS records; inserted in the order of the by-object index.
const mergeTailChunks = db.prepare(
  `INSERT INTO event_chunks (space_id, saved_object_id, first_ts, last_ts, n, records)
   SELECT space_id, saved_object_id, MIN(first_ts), MAX(last_ts), SUM(n),
     '[' || group_concat(substr(records, 2, length(records) - 2), ',' ORDER BY seq) || ']'
   FROM (
     SELECT t.seq, t.space_id, t.saved_object_id, t.n, r.first_ts, r.last_ts, r.records,
       (SUM(t.n) OVER (PARTITION BY t.saved_object_id, t.space_id ORDER BY t.seq) - t.n)
         / ${MERGED_RECORDS} AS part
     FROM event_tail t JOIN event_tail_records r ON r.seq = t.seq
   )
   GROUP BY saved_object_id, space_id, part
   ORDER BY saved_object_id, space_id, part`,
);
const tailObjects = db.prepare('SELECT DISTINCT space_id, saved_object_id FROM event_tail');
const countTail = db.prepare('SELECT COALESCE(SUM(n), 0) AS n FROM event_tail');
const clearTail = db.prepare('DELETE FROM event_tail');
const clearTailRecords = db.prepare('DELETE FROM event_tail_records');
const insertChunk = db.prepare(
  `INSERT INTO event_chunks (space_id, saved_object_id, first_ts, last_ts, n, records)
   VALUES (?, ?, ?, ?, ?, ?)`,
);
/** The most chunks a flush holds for all of them to go to event_chunks as they come... */
const DIRECT_CHUNKS = workerData.directChunks ?? 16;
/** ...and the fewest records a chunk holds to go there in any flush. */
const DIRECT_RECORDS = 8;
/** When the tail is merged; a find scans its narrow table. */
const TAIL_RECORDS = workerData.tailRecords ?? 16_384;

/**
 * What the tail holds: its records, counted as chunks come and again after a batch that failed or
 * swept (never fewer than there are), and its objects (space and id), read when a chunk might
 * skip the tail and kept from then on. An object's chunks must stay in the tail while it has any
 * there, since a find reads its chunks in event_chunks before those in the tail.
 */
const tail = { records: 0, /** @type {Set<string> | undefined} */ objects: undefined };

function recountTail() {
  tail.objects = undefined;
  try {
    tail.records = countTail.get().n;
  } catch {
    // Counted again after the next batch; until then nothing skips the tail unread.
    tail.records = Number.POSITIVE_INFINITY;
  }
}
recountTail();

/** @param {string} key */
function inTail(key) {
  if (tail.records === 0) return false;
  if (tail.objects === undefined) {
    const objects = new Set();
    for (const row of tailObjects.iterate()) {
      objects.add(`${row.space_id}\u0000${row.saved_object_id}`);
    }
    tail.objects = objects;
  }
  return tail.objects.has(key);
}

/** The tail moved into event_chunks; run inside a transaction, which recountTail follows. */
function mergeTail() {
  mergeTailChunks.run();
  clearTail.run();
  clearTailRecords.run();
}
const mergeTailNow = db.transaction(mergeTail);
// Chunks holding a record older than the cutoff, oldest first.
const agedChunks = db.prepare(
  'SELECT seq, n, last_ts FROM event_chunks WHERE first_ts < ? ORDER BY first_ts, seq LIMIT ?',
);
const chunkRecords = db.prepare('SELECT records FROM event_chunks WHERE seq = ?');
const deleteChunk = db.prepare('DELETE FROM event_chunks WHERE seq = ?');
const rewriteChunk = db.prepare(
  'UPDATE event_chunks SET first_ts = ?, last_ts = ?, n = ?, records = ? WHERE seq = ?',
);
const getIndex = db.prepare('SELECT next_seq_no FROM indices WHERE name = ?');
const createIndex = db.prepare('INSERT INTO indices (name, next_seq_no) VALUES (?, 0)');
const setSeq = db.prepare('UPDATE indices SET next_seq_no = ? WHERE name = ?');
const insertDoc = db.prepare(
  'INSERT INTO index_docs (index_name, id, seq_no, version, source) VALUES (?, ?, ?, 1, ?)',
);

/**
 * The next seq_no of each index a batch writes to: read once per batch and stored once when the
 * batch commits (storeSeqNos), rather than read and written again by every call.
 * @type {Map<string, number>}
 */
const nextSeqNos = new Map();

function storeSeqNos() {
  for (const [index, seq] of nextSeqNos) setSeq.run(seq, index);
}

/** Where a request's fields start, after its id and op. */
const FIELDS = 2;

const ops = {
  /**
   * Chunks of six fields each: space, object, oldest and newest ts, count, records.
   * @param {Request} request
   */
  appendEventChunks(request) {
    const few = (request.length - FIELDS) / 6 <= DIRECT_CHUNKS;
    for (let i = FIELDS; i < request.length; i += 6) {
      const [space, object, first, last, n, records] = request.slice(i, i + 6);
      const candidate = few || n >= DIRECT_RECORDS;
      const key = candidate || tail.objects !== undefined ? `${space}\u0000${object}` : '';
      if (candidate && !inTail(key)) {
        insertChunk.run(space, object, first, last, n, records);
        continue;
      }
      insertTail.run(space, object, n);
      insertTailRecords.run(first, last, records);
      tail.objects?.add(key);
      tail.records += n;
    }
  },
  /**
   * Up to `limit` records older than `timestamp`, oldest first: a chunk all older goes whole; one
   * that also holds newer records (or more old ones than the limit leaves room for) is rewritten
   * without its oldest. The tail is merged first, so its records are swept as well.
   * @param {Request} request [id, op, timestamp, limit]
   */
  deleteEventsBefore(request) {
    const timestamp = request[FIELDS];
    const limit = request[FIELDS + 1];
    mergeTail();
    let deleted = 0;
    for (const chunk of agedChunks.all(timestamp, limit)) {
      const room = limit - deleted;
      if (room === 0) break;
      if (chunk.last_ts < timestamp && chunk.n <= room) {
        deleteChunk.run(chunk.seq);
        deleted += chunk.n;
        continue;
      }
      const { kept, first, last, removed } = withoutOldest(
        JSON.parse(chunkRecords.get(chunk.seq).records),
        timestamp,
        room,
      );
      if (kept.length === 0) deleteChunk.run(chunk.seq);
      else rewriteChunk.run(first, last, kept.length, JSON.stringify(kept), chunk.seq);
      deleted += removed;
    }
    return deleted;
  },
  /**
   * The index, then each document's id and JSON text, numbered in order from the index's next
   * seq_no: the answer is the first one's.
   * @param {Request} request
   */
  bulkCreate(request) {
    const index = request[FIELDS];
    let seq = nextSeqNos.get(index);
    if (seq === undefined) {
      const row = getIndex.get(index);
      if (row === undefined) createIndex.run(index);
      seq = row === undefined ? 0 : row.next_seq_no;
    }
    const first = seq;
    for (let i = FIELDS + 1; i < request.length; i += 2) {
      insertDoc.run(index, request[i], seq, request[i + 1]);
      seq += 1;
    }
    // Only once every document of the call is in: a call that fails is rolled back to its
    // savepoint and leaves the numbering as it found it.
    nextSeqNos.set(index, seq);
    return first;
  },
};

/**
 * Each operation wrapped once as a transaction function: called inside the batch's transaction,
 * better-sqlite3 runs it in a savepoint of its own.
 */
const inSavepoint = Object.fromEntries(
  Object.entries(ops).map(([name, op]) => [name, db.transaction(op)]),
);

/**
 * Operations whose caller waits for the write as an acknowledgement (an indexed document): a
 * batch holding one commits with synchronous=FULL, its WAL fsynced before anyone is answered. A
 * batch of event-log records only, which no caller is promised, commits with synchronous=NORMAL:
 * written to the WAL, and so safe from a crash of the process, without an fsync of its own (the
 * next FULL commit or checkpoint syncs it).
 */
const ACKNOWLEDGED = new Set(['bulkCreate']);
let synchronous = 'FULL';

/** @param {Request[]} batch */
function syncFor(batch) {
  const wanted = batch.some((request) => ACKNOWLEDGED.has(request[1])) ? 'FULL' : 'NORMAL';
  if (wanted === synchronous) return;
  db.pragma(`synchronous = ${wanted}`);
  synchronous = wanted;
}

/** @param {unknown} err */
function errorOf(err) {
  const e = /** @type {{ message?: unknown, code?: unknown }} */ (err ?? {});
  return {
    message: typeof e.message === 'string' ? e.message : String(err),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

/**
 * One batch in one transaction, each request in a savepoint of its own, its answer or its error
 * pushed to `replies`.
 */
const writeBatch = db.transaction(
  /**
   * @param {Request[]} batch
   * @param {unknown[]} replies
   */
  (batch, replies) => {
    nextSeqNos.clear();
    for (const request of batch) {
      try {
        replies.push(request[0], inSavepoint[request[1]](request), undefined);
      } catch (err) {
        replies.push(request[0], undefined, errorOf(err));
      }
    }
    storeSeqNos();
  },
);

/** @typedef {[id: number, op: keyof typeof ops, ...fields: any[]]} Request */

/** @type {Request[]} */
let queue = [];
let scheduled = false;

function flush() {
  scheduled = false;
  const batch = queue;
  queue = [];
  if (batch.length === 0) return;
  const replies = [];
  try {
    syncFor(batch);
    // IMMEDIATE: the write lock is taken (waiting on busy_timeout) before anything is read, so
    // a commit on the request thread's connection in between cannot make the batch fail.
    writeBatch.immediate(batch, replies);
  } catch (err) {
    const error = errorOf(err);
    parentPort?.postMessage(batch.flatMap((request) => [request[0], undefined, error]));
    recountTail();
    return;
  }
  parentPort?.postMessage(replies);
  if (
    !Number.isFinite(tail.records) ||
    batch.some((request) => request[1] === 'deleteEventsBefore') ||
    replies.some((reply, i) => i % 3 === 2 && reply !== undefined)
  ) {
    recountTail();
  }
  // After the answers: no caller waits on the merge.
  if (tail.records >= TAIL_RECORDS) {
    try {
      syncFor([]);
      mergeTailNow.immediate();
      tail.records = 0;
      tail.objects = new Set();
    } catch {
      // Left in the tail, where it is read as well, for a later batch to merge.
      recountTail();
    }
  }
}

parentPort?.on('message', (/** @type {Request | 'close'} */ message) => {
  if (message === 'close') {
    flush();
    db.close();
    parentPort?.close();
    return;
  }
  queue.push(message);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
