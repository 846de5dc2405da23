/**
 * A bounded cache that keeps recently used entries: two generations of Maps. Reads hit the
 * young generation, or promote from the old one; when the young one fills, it becomes the
 * old one and the previous old one is dropped. No per-read reordering, which made a strict
 * LRU on Map delete+set show up in profiles of the hot path.
 */
export class LruCache<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(capacity: number) {
    this.half = Math.max(1, Math.ceil(capacity / 2));
  }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.setYoung(key, o);
    return o;
  }

  set(key: K, value: V): void {
    this.old.delete(key);
    this.setYoung(key, value);
  }

  private setYoung(key: K, value: V): void {
    this.young.set(key, value);
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  clear(): void {
    this.young.clear();
    this.old.clear();
  }

  /** Entries held (at most the capacity given). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
