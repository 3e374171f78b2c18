import type { ChangeFeed } from '../store/changes.js';

/**
 * Decrypted connectors kept in memory, so `_execute` does not read and decrypt the stored
 * connector on every run. An entry is forgotten as soon as the store reports a change to the
 * connector or its space (on this instance or, with a shared store, any other), and every entry
 * when a shared store may have missed changes; a load that raced with such a change is not kept.
 */
const MAX_ENTRIES = 20_000;

export class ConnectorCache<T> {
  private readonly entries = new Map<string, T>();
  /** Bumped by every invalidation: a load that started before one is not cached. */
  private epoch = 0;

  constructor(changes: ChangeFeed) {
    changes.subscribe((change) => {
      this.epoch += 1;
      if (change.kind === 'connector')
        this.entries.delete(ConnectorCache.key(change.spaceId, change.id));
      else if (change.kind === 'space') {
        const prefix = ConnectorCache.key(change.id, '');
        for (const key of this.entries.keys()) if (key.startsWith(prefix)) this.entries.delete(key);
      } else if (change.kind === 'all') this.entries.clear();
    });
  }

  private static key(spaceId: string, id: string): string {
    return `${spaceId}\u0000${id}`;
  }

  /** The cached entry, if there is one, without waiting. */
  peek(spaceId: string, id: string): T | undefined {
    return this.entries.get(ConnectorCache.key(spaceId, id));
  }

  async get(
    spaceId: string,
    id: string,
    load: () => Promise<T | undefined>,
  ): Promise<T | undefined> {
    const key = ConnectorCache.key(spaceId, id);
    const cached = this.entries.get(key);
    if (cached !== undefined) return cached;
    const epoch = this.epoch;
    const loaded = await load();
    if (loaded !== undefined && epoch === this.epoch) {
      if (this.entries.size >= MAX_ENTRIES) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(key, loaded);
    }
    return loaded;
  }
}
