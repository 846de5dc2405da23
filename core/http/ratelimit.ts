import { LruCache } from '../lru.js';
import { limitExceeded } from './errors.js';

export interface RateLimit {
  /** Sustained requests per second; 0 turns rate limiting off. */
  perSecond: number;
  burst: number;
}

/** Token buckets per requester (user and device, or remote address): a request takes one
 * token; tokens refill at `perSecond`; an empty bucket answers 429 M_LIMIT_EXCEEDED. */
export class RateLimiter {
  private readonly buckets = new LruCache<string, { tokens: number; at: number }>(65536);

  constructor(private readonly limit: RateLimit) {}

  get enabled(): boolean {
    return this.limit.perSecond > 0;
  }

  /** Takes a token for `key` or throws M_LIMIT_EXCEEDED with the wait until the next one. */
  take(key: string, now = Date.now()): void {
    if (!this.enabled) return;
    const b = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) / 1000) * this.limit.perSecond);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      throw limitExceeded(Math.ceil(((1 - b.tokens) / this.limit.perSecond) * 1000));
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
  }
}
