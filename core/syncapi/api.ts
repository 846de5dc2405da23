/** The sync API's interface. It consumes `room.output` (and later the EDU topics) into its
 * own tables and serves /sync, /messages, /context and /relations. */
export interface SyncAPI {
  /** Resolves when every log entry published so far has been consumed (tests, benchmarks). */
  caughtUp(): Promise<void>;
  /** Stops its consumers after their batches in flight (Log.close does it too). */
  close(): Promise<void>;
}
