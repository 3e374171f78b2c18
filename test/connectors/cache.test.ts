import { describe, expect, it } from 'vitest';
import { ConnectorCache } from '../../src/connectors/cache.js';
import { ChangeFeed } from '../../src/store/changes.js';

describe('the connector cache', () => {
  const loader = (value: string | undefined) => {
    const calls: number[] = [];
    const load = async () => {
      calls.push(1);
      return value;
    };
    return { calls, load };
  };

  it('keeps what it loaded and serves it to its own space only', async () => {
    const cache = new ConnectorCache<string>(new ChangeFeed());
    const first = loader('c1 in a');
    expect(await cache.get('a', 'c1', first.load)).toBe('c1 in a');
    expect(await cache.get('a', 'c1', first.load)).toBe('c1 in a');
    expect(first.calls).toHaveLength(1);
    expect(cache.peek('a', 'c1')).toBe('c1 in a');
    expect(cache.peek('b', 'c1')).toBeUndefined();
    const other = loader(undefined);
    expect(await cache.get('b', 'c1', other.load)).toBeUndefined();
    expect(other.calls).toHaveLength(1);
    expect(cache.peek('a', 'c1')).toBe('c1 in a');
  });

  it('forgets a changed connector, every connector of a deleted space, or everything', async () => {
    const changes = new ChangeFeed();
    const cache = new ConnectorCache<string>(changes);
    for (const [space, id] of [
      ['a', 'c1'],
      ['a', 'c2'],
      ['b', 'c3'],
    ] as const) {
      await cache.get(space, id, async () => `${id} in ${space}`);
    }
    changes.publish({ kind: 'connector', spaceId: 'a', id: 'c1' });
    expect([cache.peek('a', 'c1'), cache.peek('a', 'c2'), cache.peek('b', 'c3')]).toEqual([
      undefined,
      'c2 in a',
      'c3 in b',
    ]);
    changes.publish({ kind: 'space', id: 'a' });
    expect([cache.peek('a', 'c2'), cache.peek('b', 'c3')]).toEqual([undefined, 'c3 in b']);
    changes.publish({ kind: 'all' });
    expect(cache.peek('b', 'c3')).toBeUndefined();
  });

  it('does not keep a load that a change overtook', async () => {
    const changes = new ChangeFeed();
    const cache = new ConnectorCache<string>(changes);
    let finish: (value: string) => void = () => {};
    const pending = cache.get('a', 'c1', () => new Promise((resolve) => (finish = resolve)));
    changes.publish({ kind: 'connector', spaceId: 'a', id: 'c1' });
    finish('stale');
    expect(await pending).toBe('stale');
    expect(cache.peek('a', 'c1')).toBeUndefined();
  });
});
