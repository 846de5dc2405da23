export interface LogMessage<T> {
  topic: string;
  /** Position in the topic: strictly increasing. Memory-only topics number from 1 in each
   * process; durable topics use the producer's committed position (e.g. a row id). */
  offset: number;
  /** Ordering key (room id, user id). Offsets order all messages of a topic, and so each key. */
  key: string;
  value: T;
}

/** For durable topics: reads messages back from the producer's own tables, so consumers
 * can catch up after a restart or when they fall behind the in-memory window. Offsets are
 * the producer's positions (e.g. a row id): strictly increasing, not necessarily contiguous. */
export interface ReplaySource<T> {
  /** Up to `limit` committed messages with offset > `afterOffset`, in offset order. */
  read(afterOffset: number, limit: number): LogMessage<T>[];
  /** The highest committed offset (0 when empty). */
  head(): number;
}

export interface TopicOptions<T> {
  /** Durable topics are replayed from the producer's tables; memory-only ones (typing,
   * presence) lose what a slow consumer did not read in time. */
  durable: boolean;
  /** Required for durable topics. */
  replay?: ReplaySource<T>;
  /** How many recent messages stay in memory (default 4096). */
  bufferSize?: number;
}

export interface ConsumerOptions<T> {
  /** Unique per topic; shown in status. */
  name: string;
  /** The last offset this consumer processed, as it stored it with its effects (0 = none).
   * Memory-only topics start again at 0 in each process, so their consumers should not
   * keep offsets across restarts. */
  fromOffset: number;
  /** Receives a batch in offset order. Commit the effects and the batch's last offset in one
   * transaction (see OffsetStore.commit). If it throws, the same batch is delivered again
   * after a backoff, until it succeeds. */
  handle(msgs: LogMessage<T>[]): void | Promise<void>;
  /** Most messages per batch (default 100). */
  batchSize?: number;
  /** When fewer than a full batch are waiting, wait this long for more before handling them
   * (default 0). For consumers whose cost is mostly per commit and whose output nobody
   * waits on (notification counts, search): under load they commit once per many messages. */
  lingerMs?: number;
  /** Linger only when at least this many messages wait (default 1): a consumer whose output
   * readers want at once (notification counts, shown with their event) lingers only when it
   * is behind anyway. */
  lingerMinBacklog?: number;
}

/** A running consumer. */
export interface Consumer {
  readonly name: string;
  readonly topic: string;
  /** The last offset handled successfully (or skipped, on a memory-only topic). */
  offset(): number;
  /** Resolves once the consumer has handled `offset`; rejects if it is closed first. */
  waitFor(offset: number): Promise<void>;
  /** Resolves once the consumer has caught up with the topic's head, or is closed. */
  drained(): Promise<void>;
  /** Stops after the batch in flight, if any. */
  close(): Promise<void>;
}

/** A declared topic; a typed shortcut to Log.publish and Log.consume. */
export interface Topic<T> {
  readonly name: string;
  readonly durable: boolean;
  publish(key: string, value: T, offset?: number): number;
  head(): number;
  consume(opts: ConsumerOptions<T>): Consumer;
}

export interface ConsumerStatus {
  name: string;
  offset: number;
  /** head - offset: messages behind on memory-only topics, offsets behind on durable ones. */
  lag: number;
  /** Memory-only topics: messages this consumer missed by falling behind the window. */
  skipped: number;
  /** Failed deliveries so far (each one retried). */
  failures: number;
  /** Batches handled so far: messages / batches is how well the consumer amortises its commits. */
  batches: number;
}

export interface TopicStatus {
  name: string;
  durable: boolean;
  head: number;
  /** Messages held in memory (at most the topic's bufferSize). */
  buffered: number;
  consumers: ConsumerStatus[];
}
