/** A chunk as the stores write it: space, object, oldest and newest ts, count, records text. */
export type EventChunk = [string, string, string, string, number, string];

/** A record as a chunk holds it: its ts and its document. */
export type ChunkRecord = [ts: string, doc: unknown];

export function chunksOf(
  events: ReadonlyArray<{ ts: string; spaceId: string; savedObjectId: string; doc: unknown }>,
  text: (records: ChunkRecord[]) => string,
): EventChunk[];

export function withoutOldest(
  records: ChunkRecord[],
  timestamp: string,
  room: number,
): { kept: ChunkRecord[]; first: string | undefined; last: string | undefined; removed: number };

export function pageOf(
  texts: readonly string[],
  parse: (text: string) => unknown,
  sortOrder: 'asc' | 'desc',
  skip: number,
  limit: number,
): unknown[];
