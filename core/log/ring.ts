/** A fixed-capacity FIFO: pushing onto a full ring evicts the oldest item in O(1), so a
 * topic's in-memory window costs the same per publish however full it is. */
export class Ring<T> {
  private readonly items: T[] = [];
  private start = 0;

  constructor(readonly capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new Error(`ring capacity must be a positive integer, got ${capacity}`);
  }

  get length(): number {
    return this.items.length;
  }

  /** The i-th oldest item (0 = oldest). */
  at(i: number): T {
    return this.items[(this.start + i) % this.items.length]!;
  }

  /** Appends, returning the evicted oldest item when the ring was full. */
  push(item: T): T | undefined {
    // Grows up to capacity first, so small topics never allocate the whole window.
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return undefined;
    }
    const evicted = this.items[this.start]!;
    this.items[this.start] = item;
    this.start = (this.start + 1) % this.capacity;
    return evicted;
  }

  /** Index of the first item for which `after(item)` is true, given items are sorted so
   * that it is false then true (binary search). */
  firstIndex(after: (item: T) => boolean): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(this.at(mid))) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  slice(from: number, to: number): T[] {
    const out: T[] = [];
    for (let i = Math.max(0, from); i < Math.min(to, this.items.length); i++) out.push(this.at(i));
    return out;
  }
}
