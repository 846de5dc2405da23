import { describe, expect, it } from 'vitest';
import { LruCache } from './lru.js';

describe('LruCache', () => {
  it('keeps recently used entries and bounds its size', () => {
    const c = new LruCache<number, string>(10);
    for (let i = 0; i < 100; i++) {
      c.set(i, `v${i}`);
      c.get(0); // keep 0 hot
      expect(c.size).toBeLessThanOrEqual(10);
    }
    expect(c.get(0)).toBe('v0');
    expect(c.get(99)).toBe('v99');
    expect(c.get(1)).toBeUndefined();
  });

  it('set replaces, delete and clear remove', () => {
    const c = new LruCache<string, number>(4);
    c.set('a', 1);
    c.set('a', 2);
    expect(c.get('a')).toBe(2);
    c.delete('a');
    expect(c.get('a')).toBeUndefined();
    c.set('b', 1);
    c.clear();
    expect(c.size).toBe(0);
  });
});
