import type { JsonObject } from '../events/types.js';
import type { Logger } from '../logger.js';

/** Retry policy of push delivery: exponential backoff from `initialMs`, capped at `maxMs`;
 * a notification is dropped after `maxAttempts` failed tries. */
export interface PushBackoff {
  initialMs: number;
  maxMs: number;
  maxAttempts: number;
}

export const DEFAULT_PUSH_BACKOFF: PushBackoff = { initialMs: 1000, maxMs: 10 * 60_000, maxAttempts: 12 };

/** Most notifications waiting per pusher; older ones are dropped first (a badge count in a
 * newer one supersedes them). */
const MAX_QUEUE = 100;
const REQUEST_TIMEOUT_MS = 15_000;

export interface PusherKey {
  userId: string;
  appId: string;
  pushkey: string;
}

interface Queue {
  key: PusherKey;
  url: string;
  items: Array<{ body: JsonObject; attempts: number }>;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
}

export interface PushDeliveryDeps {
  logger: Logger;
  /** A gateway answered `rejected` with this pusher's key: remove the pusher. */
  onRejected: (key: PusherKey) => void;
}

/**
 * Sends notifications to HTTP push gateways (POST {url} per the push gateway API): one queue
 * per pusher, in order, off the event-processing path; failures are retried with backoff.
 */
export class PushDelivery {
  backoff: PushBackoff = { ...DEFAULT_PUSH_BACKOFF };
  private readonly queues = new Map<string, Queue>();
  private closed = false;
  /** Aborts requests in flight when the node stops. */
  private readonly stopping = new AbortController();

  constructor(private readonly deps: PushDeliveryDeps) {}

  enqueue(key: PusherKey, url: string, body: JsonObject): void {
    if (this.closed) return;
    const id = JSON.stringify([key.userId, key.appId, key.pushkey]);
    let q = this.queues.get(id);
    if (!q) this.queues.set(id, (q = { key, url, items: [], running: false, timer: undefined }));
    q.url = url;
    q.items.push({ body, attempts: 0 });
    if (q.items.length > MAX_QUEUE) q.items.splice(0, q.items.length - MAX_QUEUE);
    if (!q.running && q.timer === undefined) void this.run(id, q);
  }

  /** Forgets a pusher's queue (the pusher was deleted). */
  drop(key: PusherKey): void {
    const id = JSON.stringify([key.userId, key.appId, key.pushkey]);
    const q = this.queues.get(id);
    if (!q) return;
    clearTimeout(q.timer);
    q.items = [];
    this.queues.delete(id);
  }

  /** Notifications waiting (status, tests). */
  get pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.items.length;
    return n;
  }

  close(): void {
    this.closed = true;
    this.stopping.abort();
    for (const q of this.queues.values()) clearTimeout(q.timer);
    this.queues.clear();
  }

  private async run(id: string, q: Queue): Promise<void> {
    q.running = true;
    try {
      while (q.items.length > 0 && !this.closed && this.queues.get(id) === q) {
        const item = q.items[0]!;
        const outcome = await this.send(q, item.body);
        if (outcome === 'retry') {
          item.attempts++;
          if (item.attempts >= this.backoff.maxAttempts) {
            this.deps.logger.warn({ user_id: q.key.userId, app_id: q.key.appId }, 'push gateway keeps failing; notification dropped');
            q.items.shift();
            continue;
          }
          const delay = Math.min(this.backoff.maxMs, this.backoff.initialMs * 2 ** (item.attempts - 1));
          q.timer = setTimeout(() => {
            q.timer = undefined;
            void this.run(id, q);
          }, delay);
          q.timer.unref();
          return;
        }
        q.items.shift();
        if (outcome === 'rejected') {
          this.deps.onRejected(q.key);
          this.drop(q.key);
          return;
        }
      }
      if (q.items.length === 0 && this.queues.get(id) === q) this.queues.delete(id);
    } finally {
      q.running = false;
    }
  }

  /** One POST: 'ok', 'rejected' (the gateway refused our pushkey), or 'retry'. A 4xx other
   * than 429 will not get better by retrying, so it counts as delivered (and is logged). */
  private async send(q: Queue, body: JsonObject): Promise<'ok' | 'rejected' | 'retry'> {
    let res: Response;
    try {
      res = await fetch(q.url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
      });
    } catch (err) {
      this.deps.logger.debug({ err, user_id: q.key.userId }, 'push gateway unreachable');
      return 'retry';
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      return 'retry';
    }
    if (res.status >= 400) {
      this.deps.logger.warn({ status: res.status, user_id: q.key.userId, app_id: q.key.appId }, 'push gateway refused a notification');
      await res.body?.cancel();
      return 'ok';
    }
    let answer: unknown;
    try {
      answer = await res.json();
    } catch {
      return 'ok';
    }
    const rejected = (answer as { rejected?: unknown })?.rejected;
    return Array.isArray(rejected) && rejected.includes(q.key.pushkey) ? 'rejected' : 'ok';
  }
}
