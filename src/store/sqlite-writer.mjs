// The embedded store's writer thread: event-log records and embedded-index documents are written
// here, on a connection of its own, so the inserts, the commits and their fsyncs never hold up
// the request thread. Plain JavaScript, so the same file runs from the sources and from dist.
//
// A request is a flat array [id, op, ...fields] of strings and numbers (documents come as their
// JSON text), and a message one or more requests, each after its length; a batch is answered by
// one flat array of replies, three entries each: id, value, and an error { message, code } or
// undefined. A structured clone writes and reads a flat array of strings far more cheaply than
// objects, whose properties it sets one by one, or nested arrays (about 1.5 against 3 us a
// message on the request thread).
//
// The requests that arrived while the previous batch was committing commit together as the next
// (group commit): one transaction and one WAL sync for all of them, each in its own savepoint (or
// one statement, see oneStatement) so one failing leaves the others intact. A request is answered
// only after the commit, so an acknowledged write (an indexed document) is on disk; event-log
// records, which no caller is promised, are not synced on their own (see syncFor).
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { withoutOldest } from './event-chunks.mjs';

const db = new Database(workerData.file);
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 5000');
// This connection deletes only event-log rows and keys, never a secret: what it deletes is zeroed
// where that costs no extra write (FAST), but a page it frees is not written again as zeros,
// which with ON doubled the writes of every tail made a run. Secrets are deleted on the request
// thread's connection, where secure_delete is ON.
db.pragma('secure_delete = FAST');
// A request runs in a savepoint, and a savepoint keeps the pages it changes in a statement
// journal. Past 64 KiB SQLite spills that journal to a temporary file, and a batch of event-log
// chunks for many connectors (one b-tree leaf each) goes past it: a file opened, written and
// dropped per batch: a fifth of this thread's time with 10,000 connectors. In memory it is a copy
// of each page.
db.pragma('temp_store = MEMORY');

// The event log (see sqliteEvents in sqlite.ts): a chunk's text is made on the request thread; here
// its row is appended to event_chunks (which has no index), and its key (object, seq, count and
// oldest ts) to event_tail. A find locates an object's chunks by their keys, so the keys must be
// ordered by object somewhere, and kept that way as they come they would put each chunk on a b-tree
// leaf of its own when many connectors run: a flush for 10,000 connectors holds a record or two for
// each, and every one was a page written to the WAL, and again at the checkpoint. So keys wait in
// the tail, appended in the order they come (a find scans it: it is narrow and bounded), and once
// it holds TAIL_KEYS of them they are sorted by object into a run of event_keys (level 0) with a
// number above every run before it: appended at the end of that table's b-tree, a page written once
// for the 70 or so keys it holds. A find seeks each run in turn, so runs are merged as they pile
// up: RUNS_PER_LEVEL runs of a level into one of the next (see mergeStep), each key moved once a
// level, the records themselves never. Run numbers follow the order of the records, so a find walks
// an object's keys in order run by run, then the tail's. The age sweep's order, event_ages (oldest
// ts, seq), is written with each run of the tail, in one sorted insert: as an index of event_chunks
// it cost an insert a chunk.
/** The most chunks one INSERT writes; a request's are written by up to 7 of them (64, 32, ... 1). */
const CHUNKS_PER_INSERT = 64;
/** INSERTs of 1, 2, 4, ... CHUNKS_PER_INSERT chunks (six values each), made as first needed. */
const insertChunks = new Map();
/** @param {number} count a power of two */
function insertChunksOf(count) {
  let statement = insertChunks.get(count);
  if (statement === undefined) {
    statement = db.prepare(
      `INSERT INTO event_chunks (space_id, saved_object_id, first_ts, last_ts, n, records)
       VALUES ${Array.from({ length: count }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
    );
    insertChunks.set(count, statement);
  }
  return statement;
}
const lastChunk = db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM event_chunks');
// The keys of the chunks after `seq`, just written: their pages are those last read or written.
const tailFrom = db.prepare(
  `INSERT INTO event_tail (seq, space_id, saved_object_id, n, first_ts)
   SELECT seq, space_id, saved_object_id, n, first_ts FROM event_chunks WHERE seq > ?`,
);
const countTail = db.prepare('SELECT COUNT(*) AS n FROM event_tail');
const clearTail = db.prepare('DELETE FROM event_tail');
const lastRun = db.prepare('SELECT COALESCE(MAX(run), 0) AS run FROM event_runs');
const insertRun = db.prepare('INSERT INTO event_runs (run, level) VALUES (?, ?)');
const tailToRun = db.prepare(
  `INSERT INTO event_keys (run, saved_object_id, space_id, seq, n)
   SELECT ?, saved_object_id, space_id, seq, n FROM event_tail
   ORDER BY saved_object_id, space_id, seq`,
);
// The age sweep's order (event_ages), kept as the keys are: a chunk's age goes in with its key.
const tailAges = db.prepare(
  'INSERT INTO event_ages (first_ts, seq) SELECT first_ts, seq FROM event_tail ORDER BY first_ts, seq',
);
const deleteEmptyRuns = db.prepare(
  `DELETE FROM event_runs
   WHERE merging IS NULL AND run NOT IN (SELECT merging FROM event_runs WHERE merging IS NOT NULL)
     AND NOT EXISTS (SELECT 1 FROM event_keys k WHERE k.run = event_runs.run)`,
);
/**
 * Run numbers of the tail's runs are multiples of this, each at least this far above every run
 * there is when it is made; a merge's run takes the number just below the first of the runs it
 * merges, so the runs merged from one tail run, a level at a time, take the numbers below it.
 */
const RUN_STEP = 1024;
/** When the tail becomes a run; a find scans its narrow table. */
const TAIL_KEYS = workerData.tailKeys ?? 16_384;
/**
 * How many runs of a level are merged into one of the next. Every level a key goes through costs
 * the writer about 2.8 us (a merge step of 4,096 keys takes about 11 ms), and a find about 2 us
 * for every run it seeks: sixty-four a level keep a log of 67 million keys at two levels (where
 * four needed six), and a find seeks up to 63 runs a level.
 */
const RUNS_PER_LEVEL = workerData.runsPerLevel ?? 64;
/** Runs at this level (the keys of an older layout, migrated) are not merged again. */
const LAST_LEVEL = 16;
/**
 * About how many keys of one merging run a step of a merge moves: a step moves about 4,096 keys
 * of RUNS_PER_LEVEL runs.
 */
const MERGE_SLICE = workerData.mergeSlice ?? 64;

/**
 * How many keys the tail holds: counted as chunks come, and again after a batch that failed or
 * swept (never fewer than there are).
 */
let tailKeys = 0;

function recountTail() {
  try {
    tailKeys = countTail.get().n;
  } catch {
    // Counted again after the next batch.
    tailKeys = Number.POSITIVE_INFINITY;
  }
}
recountTail();

/** The tail made a run of level 0; inside a transaction. */
function mergeTail() {
  // Past the next multiple of RUN_STEP: the newest run may be a merge's, numbered just below the
  // tail run it started from, and a run numbered right above it would leave its merge no room.
  const run = Math.ceil(lastRun.get().run / RUN_STEP) * RUN_STEP + RUN_STEP;
  if (tailToRun.run(run).changes === 0) return;
  insertRun.run(run, 0);
  tailAges.run();
  clearTail.run();
  mergeDue = true;
}
const mergeTailNow = db.transaction(mergeTail);

// Runs merged into one of the next level, a slice at a time, so that no step holds the writer up
// for long: the runs of a level, once there are RUNS_PER_LEVEL, are marked as merging into a new
// run numbered just below the first of them, and each step moves the next keys (in key order,
// about MERGE_SLICE of one run's) from all of them into it. The keys moved are, for each
// object, its oldest ones, and the new run comes before the merging runs and after every older
// one, so a find sees each key once and in order at every step. The last step drops the merged
// runs. What is merging is in event_runs, so a merge a restart left halfway goes on.
const merging = db.prepare(
  `SELECT r.merging AS target FROM event_runs r WHERE r.merging IS NOT NULL LIMIT 1`,
);
const fullLevel = db.prepare(
  `SELECT level, MIN(run) AS first FROM event_runs
   WHERE merging IS NULL AND level < ${LAST_LEVEL}
   GROUP BY level HAVING COUNT(*) >= ? ORDER BY level LIMIT 1`,
);
const markMerging = db.prepare(
  'UPDATE event_runs SET merging = @target WHERE level = @level AND run > @target',
);
const runAt = db.prepare('SELECT 1 FROM event_runs WHERE run = ?');
const mergeAlong = db.prepare('UPDATE event_runs SET merging = ? WHERE run = ?');
// The last key moved: the highest of the new run.
const lastMoved = db.prepare(
  `SELECT saved_object_id AS object, space_id AS space, seq FROM event_keys WHERE run = ?
   ORDER BY saved_object_id DESC, space_id DESC, seq DESC LIMIT 1`,
);
const pastMoved = `(saved_object_id, space_id, seq) > (@object, @space, @seq)
  AND run IN (SELECT run FROM event_runs WHERE merging = @target)`;
const mergingRuns = db.prepare('SELECT run FROM event_runs WHERE merging = ? ORDER BY run DESC');
// The key a step ends with: MERGE_SLICE keys on in a merging run.
const sliceEnd = db.prepare(
  `SELECT saved_object_id AS endObject, space_id AS endSpace, seq AS endSeq FROM event_keys
   WHERE run = @run AND (saved_object_id, space_id, seq) > (@object, @space, @seq)
   ORDER BY saved_object_id, space_id, seq LIMIT 1 OFFSET ${MERGE_SLICE}`,
);
const upToEnd = '(saved_object_id, space_id, seq) <= (@endObject, @endSpace, @endSeq)';
const moveSlice = db.prepare(
  `INSERT INTO event_keys (run, saved_object_id, space_id, seq, n)
   SELECT @target, saved_object_id, space_id, seq, n FROM event_keys
   WHERE ${pastMoved} AND ${upToEnd} ORDER BY saved_object_id, space_id, seq`,
);
const dropSlice = db.prepare(`DELETE FROM event_keys WHERE ${pastMoved} AND ${upToEnd}`);
const moveRest = db.prepare(
  `INSERT INTO event_keys (run, saved_object_id, space_id, seq, n)
   SELECT @target, saved_object_id, space_id, seq, n FROM event_keys
   WHERE ${pastMoved} ORDER BY saved_object_id, space_id, seq`,
);
const dropRest = db.prepare(`DELETE FROM event_keys WHERE ${pastMoved}`);
const dropMerged = db.prepare('DELETE FROM event_runs WHERE merging = ?');

/** The new run of the merge going on, if any; read from event_runs when undefined. */
let mergeTarget;
/** Whether a level may hold enough runs for a merge: so after a run is made or merged. */
let mergeDue = true;

/** One step of the merge going on, or of a new one once a level holds enough runs. */
function mergeStep() {
  mergeTarget ??= merging.get()?.target;
  if (mergeTarget === undefined) {
    const full = fullLevel.get(RUNS_PER_LEVEL);
    if (full === undefined) {
      mergeDue = false;
      return;
    }
    // A store whose tail runs were numbered right above a merge's run can have an older run at
    // the number a merge takes: it is merged along, and the merge takes the number below it.
    let target = full.first - 1;
    const along = [];
    while (runAt.get(target) !== undefined) along.push(target--);
    mergeTarget = target;
    insertRun.run(target, full.level + 1);
    markMerging.run({ target, level: full.level });
    for (const run of along) mergeAlong.run(target, run);
  }
  const target = mergeTarget;
  const from = { target, ...(lastMoved.get(target) ?? { object: '', space: '', seq: -1 }) };
  // The slice ends MERGE_SLICE keys on in the newest merging run (the least swept) that still
  // has that many: what is left when none has is less than that in each.
  let end;
  for (const { run } of mergingRuns.all(target)) {
    end = sliceEnd.get({ ...from, run });
    if (end !== undefined) break;
  }
  if (end !== undefined) {
    moveSlice.run({ ...from, ...end });
    dropSlice.run({ ...from, ...end });
    return;
  }
  moveRest.run(from);
  dropRest.run(from);
  dropMerged.run(target);
  mergeTarget = undefined;
  mergeDue = true;
}
const mergeStepNow = db.transaction(mergeStep);
// Chunks holding a record older than the cutoff, oldest first.
const agedChunks = db.prepare(
  `SELECT a.seq, a.first_ts, c.space_id, c.saved_object_id, c.n, c.last_ts
   FROM event_ages a JOIN event_chunks c ON c.seq = a.seq
   WHERE a.first_ts < ? ORDER BY a.first_ts, a.seq LIMIT ?`,
);
const deleteAge = db.prepare('DELETE FROM event_ages WHERE first_ts = ? AND seq = ?');
const changeAge = db.prepare('UPDATE event_ages SET first_ts = ? WHERE first_ts = ? AND seq = ?');
const chunkRecords = db.prepare('SELECT records FROM event_chunks WHERE seq = ?');
const deleteChunk = db.prepare('DELETE FROM event_chunks WHERE seq = ?');
const rewriteChunk = db.prepare(
  'UPDATE event_chunks SET first_ts = ?, last_ts = ?, n = ?, records = ? WHERE seq = ?',
);
// A chunk's key, in whichever run holds it.
const ofKey =
  'run IN (SELECT run FROM event_runs) AND saved_object_id = ? AND space_id = ? AND seq = ?';
const deleteKey = db.prepare(`DELETE FROM event_keys WHERE ${ofKey}`);
const recountKey = db.prepare(`UPDATE event_keys SET n = ? WHERE ${ofKey}`);
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
    const after = lastChunk.get().seq;
    // One statement for many chunks: a statement's run costs about as much as a chunk's row.
    for (let at = FIELDS, count = CHUNKS_PER_INSERT; at < request.length; count /= 2) {
      while (request.length - at >= count * 6) {
        insertChunksOf(count).run(request.slice(at, at + count * 6));
        at += count * 6;
      }
    }
    tailFrom.run(after);
    tailKeys += (request.length - FIELDS) / 6;
  },
  /**
   * Up to `limit` records older than `timestamp`, oldest first: a chunk all older goes whole; one
   * that also holds newer records (or more old ones than the limit leaves room for) is rewritten
   * without its oldest, and its key and age with it. The tail is made a run first, so that every
   * chunk has its key in a run and its age in event_ages, and runs left without keys are dropped.
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
      const key = [chunk.saved_object_id, chunk.space_id, chunk.seq];
      const drop = () => {
        deleteChunk.run(chunk.seq);
        deleteKey.run(...key);
        deleteAge.run(chunk.first_ts, chunk.seq);
      };
      if (chunk.last_ts < timestamp && chunk.n <= room) {
        drop();
        deleted += chunk.n;
        continue;
      }
      const { kept, first, last, removed } = withoutOldest(
        JSON.parse(chunkRecords.get(chunk.seq).records),
        timestamp,
        room,
      );
      if (kept.length === 0) {
        drop();
      } else {
        rewriteChunk.run(first, last, kept.length, JSON.stringify(kept), chunk.seq);
        recountKey.run(kept.length, ...key);
        changeAge.run(first, chunk.first_ts, chunk.seq);
      }
      deleted += removed;
    }
    deleteEmptyRuns.run();
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
    // Only once every document of the call is in: a call that fails is undone (its savepoint, or
    // its one statement) and leaves the numbering as it found it.
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
 * Whether a request writes one row with one statement, which SQLite undoes by itself when it
 * fails (a constraint aborts the statement, not the transaction), so that it needs no savepoint:
 * one document into an index an earlier request of the batch has numbered from, whose next number
 * is known without a read. A savepoint and its release cost a third to a half of the insert of a
 * small document, and under load most of a batch's documents come one a call into one index.
 * @param {Request} request
 */
const oneStatement = (request) =>
  request[1] === 'bulkCreate' && request.length === FIELDS + 3 && nextSeqNos.has(request[FIELDS]);

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
 * One batch in one transaction, each request in a savepoint of its own unless it is one statement
 * (oneStatement), its answer or its error pushed to `replies`.
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
        const op = oneStatement(request) ? ops[request[1]] : inSavepoint[request[1]];
        replies.push(request[0], op(request), undefined);
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
    !Number.isFinite(tailKeys) ||
    batch.some((request) => request[1] === 'deleteEventsBefore') ||
    replies.some((reply, i) => i % 3 === 2 && reply !== undefined)
  ) {
    recountTail();
  }
  // After the answers: no caller waits on these.
  if (tailKeys >= TAIL_KEYS) {
    try {
      syncFor([]);
      mergeTailNow.immediate();
      tailKeys = 0;
    } catch {
      // Left in the tail, where it is read as well, for a later batch to make a run.
      recountTail();
    }
  }
  if (mergeTarget !== undefined || mergeDue) {
    try {
      syncFor([]);
      mergeStepNow.immediate();
    } catch {
      // Rolled back: the next batch takes the step again, from what event_runs holds.
      mergeTarget = undefined;
      mergeDue = true;
    }
  }
}

parentPort?.on('message', (/** @type {Array<string | number> | 'close'} */ message) => {
  if (message === 'close') {
    flush();
    db.close();
    parentPort?.close();
    return;
  }
  // One or more requests, each as its length and then the request.
  for (let at = 0; at < message.length; ) {
    const length = /** @type {number} */ (message[at]);
    queue.push(/** @type {Request} */ (message.slice(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
});
