/**
 * What changed in the store, for caches to forget. Every engine publishes its own writes here;
 * an engine shared by several instances (PostgreSQL) also publishes the other instances' writes,
 * so a cache on any instance forgets a changed object.
 */
export type StoreChange =
  | { kind: 'connector'; spaceId: string; id: string }
  | { kind: 'space'; id: string }
  | { kind: 'apiKey'; id: string }
  | { kind: 'user'; id: string }
  | { kind: 'role'; id: string }
  /**
   * Anything may have changed: a shared engine lost its link to the other instances for a while
   * and cannot tell what it missed, so caches forget everything.
   */
  | { kind: 'all' };

export type ChangeListener = (change: StoreChange) => void;

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(change: StoreChange): void {
    for (const listener of this.listeners) listener(change);
  }
}
