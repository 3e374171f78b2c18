import type { ChangeFeed } from '../store/changes.js';

/**
 * Decrypted connectors kept in memory, so `_execute` does not read and decrypt the stored
 * connector on every run. An entry is forgotten as soon as the store reports a change to the
 * connector or its space (on this instance or, with a shared store, any other), and every entry
 * when a shared store may have missed changes; a load that raced with such a change is not kept.
 */
const MAX_ENTRIES = 20_000;

/**
 * Entries are keyed by connector id alone (ids are unique across spaces) and carry their space,
 * so a lookup hashes the id as it came in rather than a string built for the lookup.
 */
interface Entry<T> {
  spaceId: string;
  value: T;
}

export class ConnectorCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  /** Bumped by every invalidation: a load that started before one is not cached. */
  private epoch = 0;

  constructor(changes: ChangeFeed) {
    changes.subscribe((change) => {
      this.epoch += 1;
      if (change.kind === 'connector') this.entries.delete(change.id);
      else if (change.kind === 'space') {
        for (const [id, entry] of this.entries) {
          if (entry.spaceId === change.id) this.entries.delete(id);
        }
      } else if (change.kind === 'all') this.entries.clear();
    });
  }

  /** The cached entry, if there is one, without waiting. */
  peek(spaceId: string, id: string): T | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.spaceId === spaceId ? entry.value : undefined;
  }

  async get(
    spaceId: string,
    id: string,
    load: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const cached = this.peek(spaceId, id);
    if (cached !== undefined) return cached;
    const epoch = this.epoch;
    const loaded = await load();
    if (loaded !== undefined && epoch === this.epoch) {
      if (this.entries.size >= MAX_ENTRIES && !this.entries.has(id)) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(id, { spaceId, value: loaded });
    }
    return loaded;
  }
}
