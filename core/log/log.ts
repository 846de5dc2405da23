import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { Logger } from '../logger.js';
import { Ring } from './ring.js';
import type { Consumer, ConsumerOptions, ConsumerStatus, LogMessage, Topic, TopicOptions, TopicStatus } from './types.js';

const DEFAULT_BUFFER = 4096;
const DEFAULT_BATCH = 100;
const RETRY_MIN_MS = 10;
const RETRY_MAX_MS = 5000;
/** A consumer catching up with synchronous handlers would otherwise run in microtasks only
 * and starve I/O (HTTP, timers); past this much work it yields to the event loop. */
const SLICE_MS = 10;

interface ReadResult<T> {
  msgs: LogMessage<T>[];
  /** Memory-only topics: messages lost before msgs[0] because they left the window. */
  skipped: number;
}

class TopicState<T> {
  head: number;
  /** Every message with an offset above `floor` is in `window`. */
  private floor: number;
  private readonly window: Ring<LogMessage<T>>;
  readonly consumers = new Map<string, ConsumerImpl<T>>();

  constructor(
    readonly name: string,
    readonly opts: TopicOptions<T>,
  ) {
    if (opts.durable && !opts.replay) throw new Error(`durable topic ${name} needs a replay source`);
    if (!opts.durable && opts.replay) throw new Error(`memory-only topic ${name} cannot have a replay source`);
    this.window = new Ring(opts.bufferSize ?? DEFAULT_BUFFER);
    // What the producer committed before this process started is read back from its tables.
    this.head = opts.replay?.head() ?? 0;
    this.floor = this.head;
  }

  get buffered(): number {
    return this.window.length;
  }

  publish(key: string, value: T, offset?: number): number {
    let o: number;
    if (this.opts.durable) {
      if (offset === undefined || !Number.isSafeInteger(offset) || offset < 1) {
        throw new Error(`durable topic ${this.name}: publish needs the producer's committed offset (a positive integer), got ${offset}`);
      }
      // Already known: committed before the topic was declared, so counted in replay.head().
      if (offset <= this.head) return offset;
      o = offset;
    } else {
      if (offset !== undefined) throw new Error(`memory-only topic ${this.name} assigns its own offsets`);
      o = this.head + 1;
    }
    this.head = o;
    const evicted = this.window.push({ topic: this.name, offset: o, key, value });
    if (evicted) this.floor = evicted.offset;
    for (const c of this.consumers.values()) c.wake();
    return o;
  }

  /** Messages after `after`: from memory when the window covers it, else from the
   * producer's tables (durable) or from the oldest retained message (memory-only). */
  read(after: number, limit: number): ReadResult<T> {
    if (after >= this.head) return { msgs: [], skipped: 0 };
    if (after >= this.floor) {
      const i = this.window.firstIndex((m) => m.offset > after);
      return { msgs: this.window.slice(i, i + limit), skipped: 0 };
    }
    if (this.opts.replay) {
      // Offsets above head are committed but not yet published: they come through publish.
      const msgs = this.opts.replay.read(after, limit).filter((m) => m.offset > after && m.offset <= this.head);
      if (msgs.length > 0) return { msgs, skipped: 0 };
      // The producer no longer has rows between `after` and the window: start at the window.
      return { msgs: this.window.slice(0, limit), skipped: 0 };
    }
    const msgs = this.window.slice(0, limit);
    return { msgs, skipped: msgs.length > 0 ? msgs[0]!.offset - after - 1 : 0 };
  }
}

interface Waiter {
  offset: number;
  resolve: () => void;
  reject: (e: Error) => void;
}

class ConsumerImpl<T> implements Consumer {
  private pos: number;
  private skipped = 0;
  private failures = 0;
  private batches = 0;
  private closed = false;
  private waiters: Waiter[] = [];
  private wakeUp: (() => void) | undefined;
  private interrupt: (() => void) | undefined;
  private readonly done: Promise<void>;
  private readonly batchSize: number;
  private readonly lingerMs: number;
  private readonly lingerMinBacklog: number;

  constructor(
    private readonly state: TopicState<T>,
    private readonly opts: ConsumerOptions<T>,
    private readonly logger: Logger | undefined,
  ) {
    if (!Number.isSafeInteger(opts.fromOffset) || opts.fromOffset < 0) throw new Error(`consumer ${opts.name}: fromOffset must be an integer >= 0`);
    this.batchSize = opts.batchSize ?? DEFAULT_BATCH;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) throw new Error(`consumer ${opts.name}: batchSize must be a positive integer`);
    this.lingerMs = opts.lingerMs ?? 0;
    if (!(this.lingerMs >= 0)) throw new Error(`consumer ${opts.name}: lingerMs must be >= 0`);
    this.lingerMinBacklog = opts.lingerMinBacklog ?? 1;
    // Memory-only offsets restart with the process: one from an earlier run cannot be waited for.
    this.pos = state.opts.durable ? opts.fromOffset : Math.min(opts.fromOffset, state.head);
    this.done = this.run();
  }

  get name(): string {
    return this.opts.name;
  }

  get topic(): string {
    return this.state.name;
  }

  offset(): number {
    return this.pos;
  }

  get caughtUp(): boolean {
    return this.closed || this.pos >= this.state.head;
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  waitFor(offset: number): Promise<void> {
    if (this.pos >= offset) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error(`consumer ${this.name} on ${this.topic} is closed`));
    return new Promise((resolve, reject) => this.waiters.push({ offset, resolve, reject }));
  }

  async drained(): Promise<void> {
    // The head may move while we wait; loop until we have caught up with it.
    while (!this.caughtUp) {
      try {
        await this.waitFor(this.state.head);
      } catch {
        return; // closed
      }
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.wake();
      this.interrupt?.();
    }
    return this.done;
  }

  status(): ConsumerStatus {
    return { name: this.name, offset: this.pos, lag: Math.max(0, this.state.head - this.pos), skipped: this.skipped, failures: this.failures, batches: this.batches };
  }

  private settleWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (this.pos >= w.offset) w.resolve();
      else if (this.closed) w.reject(new Error(`consumer ${this.name} on ${this.topic} closed at offset ${this.pos}, before ${w.offset}`));
      else still.push(w);
    }
    this.waiters = still;
  }

  /** A retry backoff that close() cuts short. */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.interrupt = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.interrupt = done;
    });
  }

  private async run(): Promise<void> {
    // Deliver nothing before consume() has returned to its caller.
    await Promise.resolve();
    let retryMs = RETRY_MIN_MS;
    let attempt = 0;
    let sliceStart = performance.now();
    while (!this.closed) {
      const backlog = this.state.head - this.pos;
      if (this.lingerMs > 0 && backlog >= this.lingerMinBacklog && backlog < this.batchSize) {
        await this.sleep(this.lingerMs);
        sliceStart = performance.now();
        if (this.closed) break;
      }
      const { msgs, skipped } = this.state.read(this.pos, this.batchSize);
      if (msgs.length === 0) {
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
        sliceStart = performance.now();
        continue;
      }
      if (skipped > 0) {
        // Ephemeral data: the skipped messages are gone; move past them once.
        this.skipped += skipped;
        this.pos = msgs[0]!.offset - 1;
        this.logger?.warn({ topic: this.topic, consumer: this.name, skipped }, 'consumer fell behind a memory-only topic; skipped messages');
      }
      try {
        await this.opts.handle(msgs);
      } catch (err) {
        this.failures++;
        attempt++;
        this.logger?.error(
          { err, topic: this.topic, consumer: this.name, offset: msgs[0]!.offset, attempt, retry_ms: retryMs },
          'log consumer failed; redelivering the batch',
        );
        await this.sleep(retryMs);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        sliceStart = performance.now();
        continue;
      }
      this.pos = msgs[msgs.length - 1]!.offset;
      this.batches++;
      retryMs = RETRY_MIN_MS;
      attempt = 0;
      this.settleWaiters();
      if (performance.now() - sliceStart > SLICE_MS) {
        await nextMacrotask();
        sliceStart = performance.now();
      }
    }
    this.settleWaiters();
  }
}

export interface LogOptions {
  /** Consumer failures and memory-only skips are logged here. */
  logger?: Logger;
}

/**
 * The in-memory log between components (where Dendrite uses NATS JetStream): named topics,
 * keyed messages in offset order, named consumers resuming from stored offsets, at-least-once
 * delivery, durable topics replayed from their producer's tables, bounded memory.
 *
 * Message values are shared by every consumer of a topic: treat them as read-only.
 */
export class Log {
  private readonly topics = new Map<string, TopicState<unknown>>();
  private readonly logger: Logger | undefined;
  private closed = false;

  constructor(opts: LogOptions = {}) {
    this.logger = opts.logger;
  }

  /** Declares a topic (idempotent by name: a second declaration returns the first topic,
   * and must agree on durability). */
  topic<T>(name: string, opts: TopicOptions<T>): Topic<T> {
    const existing = this.topics.get(name);
    if (existing) {
      if (existing.opts.durable !== opts.durable) throw new Error(`log topic ${name} is already declared ${existing.opts.durable ? 'durable' : 'memory-only'}`);
    } else {
      this.topics.set(name, new TopicState<T>(name, opts) as TopicState<unknown>);
    }
    return {
      name,
      durable: opts.durable,
      publish: (key, value, offset) => this.publish<T>(name, key, value, offset),
      head: () => this.head(name),
      consume: (c) => this.consume<T>(name, c),
    };
  }

  private get<T>(name: string): TopicState<T> {
    const t = this.topics.get(name);
    if (!t) throw new Error(`unknown log topic ${name}`);
    return t as TopicState<T>;
  }

  /** Appends a message; never blocks. Durable topics take the offset the producer committed
   * it under (publish right after the commit); memory-only topics assign the next one. */
  publish<T>(topic: string, key: string, value: T, offset?: number): number {
    return this.get<T>(topic).publish(key, value, offset);
  }

  /** Starts a named consumer from its stored offset. Delivery begins on the next microtask. */
  consume<T>(topic: string, opts: ConsumerOptions<T>): Consumer {
    if (this.closed) throw new Error('log is closed');
    const t = this.get<T>(topic);
    if (t.consumers.has(opts.name)) throw new Error(`consumer ${opts.name} already exists on ${topic}`);
    const c = new ConsumerImpl<T>(t, opts, this.logger);
    t.consumers.set(opts.name, c);
    return {
      name: c.name,
      topic,
      offset: () => c.offset(),
      waitFor: (o) => c.waitFor(o),
      drained: () => c.drained(),
      close: async () => {
        t.consumers.delete(opts.name);
        await c.close();
      },
    };
  }

  head(topic: string): number {
    return this.get(topic).head;
  }

  /** Resolves when every consumer has processed everything published so far, including
   * what consumers published while handling. Never resolves while a handler keeps failing. */
  async drain(): Promise<void> {
    for (;;) {
      const behind = [...this.topics.values()].flatMap((t) => [...t.consumers.values()]).filter((c) => !c.caughtUp);
      if (behind.length === 0) return;
      await Promise.all(behind.map((c) => c.drained()));
    }
  }

  status(): TopicStatus[] {
    return [...this.topics.values()].map((t) => ({
      name: t.name,
      durable: t.opts.durable,
      head: t.head,
      buffered: t.buffered,
      consumers: [...t.consumers.values()].map((c) => c.status()),
    }));
  }

  /** Stops every consumer after its in-flight batch and waits for it. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.topics.values()].flatMap((t) => [...t.consumers.values()]);
    for (const t of this.topics.values()) t.consumers.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
