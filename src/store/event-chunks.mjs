// The event log in chunks, as both stores keep it: the records one flush wrote for one object,
// stored together as the JSON text of their [ts, doc] pairs with their count and their oldest and
// newest ts. Plain JavaScript, so the embedded store's writer thread (sqlite-writer.mjs) shares it
// with the request thread; its types are in event-chunks.d.mts.

/** @typedef {{ ts: string, spaceId: string, savedObjectId: string, doc: unknown }} Event */

/**
 * One chunk per space and object, in the order the objects first appear; each chunk's records
 * in the order given.
 * @param {ReadonlyArray<Event>} events
 * @param {(records: Array<[string, unknown]>) => string} text
 */
export function chunksOf(events, text) {
  // By space, then by object: no key is made per record, and the objects of a space are found
  // by the ids the records already hold.
  /** @type {Map<string, Map<string, typeof events[number][]>>} */
  const bySpace = new Map();
  /** @type {typeof events[number][][]} */
  const groups = [];
  for (const event of events) {
    let objects = bySpace.get(event.spaceId);
    if (objects === undefined) {
      objects = new Map();
      bySpace.set(event.spaceId, objects);
    }
    const group = objects.get(event.savedObjectId);
    if (group === undefined) {
      const made = [event];
      objects.set(event.savedObjectId, made);
      groups.push(made);
    } else group.push(event);
  }
  /** @type {Array<[string, string, string, string, number, string]>} */
  const chunks = [];
  for (const group of groups) {
    const { spaceId, savedObjectId, ts } = group[0];
    let first = ts;
    let last = ts;
    for (const event of group) {
      if (event.ts < first) first = event.ts;
      if (event.ts > last) last = event.ts;
    }
    const records = text(group.map((event) => [event.ts, event.doc]));
    chunks.push([spaceId, savedObjectId, first, last, group.length, records]);
  }
  return chunks;
}

/**
 * A chunk's records without up to `room` of those older than `timestamp`, oldest first: what is
 * kept, in its order, with its oldest and newest ts, and how many went.
 * @param {Array<[string, unknown]>} records
 * @param {string} timestamp
 * @param {number} room
 */
export function withoutOldest(records, timestamp, room) {
  const gone = new Set(
    records
      .map(([ts], i) => ({ ts, i }))
      .filter(({ ts }) => ts < timestamp)
      .sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0))
      .slice(0, room)
      .map(({ i }) => i),
  );
  const kept = records.filter((_, i) => !gone.has(i));
  const times = kept.map(([ts]) => ts).sort();
  return { kept, first: times[0], last: times.at(-1), removed: gone.size };
}

/**
 * The documents of a page, from the texts of the chunks holding it in the sort order: `skip`
 * records of the first come before the page, and the page ends at `limit` documents.
 * @param {readonly string[]} texts
 * @param {(text: string) => unknown} parse
 * @param {'asc' | 'desc'} sortOrder
 * @param {number} skip
 * @param {number} limit
 */
export function pageOf(texts, parse, sortOrder, skip, limit) {
  /** @type {unknown[]} */
  const data = [];
  for (const [k, text] of texts.entries()) {
    const records = /** @type {Array<[string, unknown]>} */ (parse(text));
    if (sortOrder === 'desc') records.reverse();
    for (const [, doc] of records.slice(k === 0 ? skip : 0)) {
      if (data.length === limit) return data;
      data.push(doc);
    }
  }
  return data;
}
