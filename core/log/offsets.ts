import type Database from 'better-sqlite3';
import type { LogMessage } from './types.js';

/** A component's record of its consumers' offsets, in its own table, so each offset is
 * committed in the same transaction as the effects it stands for. */
export interface OffsetStore {
  /** The consumer's stored offset (0 if it never stored one). */
  get(consumer: string): number;
  /** Call inside the transaction that commits the effects up to `offset`. */
  set(consumer: string, offset: number): void;
  /** The idempotent consumer in one call: in one transaction, applies `effects` to the
   * messages after the stored offset (a redelivered batch may start below it) and stores
   * the batch's last offset. Returns how many messages were new.
   *
   * `effects` returns false when it wrote nothing: the offset may then wait for the next
   * batch that writes (a write-free commit costs more than the consumer's work on most of
   * them), up to a bound; after a crash those messages are applied again, to the same effect. */
  commit<T>(consumer: string, msgs: readonly LogMessage<T>[], effects: (fresh: LogMessage<T>[]) => void | boolean): number;
}

/** How far an offset may trail what a consumer has applied, when its effects wrote nothing. */
const IDLE_OFFSET_MAX_MESSAGES = 1000;
const IDLE_OFFSET_MAX_MS = 10_000;

/** Creates `table(consumer TEXT PRIMARY KEY, offset INTEGER NOT NULL)` if missing. The name
 * should carry the component's prefix (e.g. `sync_offsets`). */
export function createOffsetStore(db: Database.Database, table: string): OffsetStore {
  // Interpolated into SQL, so only plain identifiers.
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`bad offset table name ${table}`);
  db.exec(`CREATE TABLE IF NOT EXISTS ${table} (consumer TEXT PRIMARY KEY, offset INTEGER NOT NULL)`);
  const getStmt = db.prepare<[string], { offset: number }>(`SELECT offset FROM ${table} WHERE consumer = ?`);
  const setStmt = db.prepare<[string, number]>(
    `INSERT INTO ${table} (consumer, offset) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET offset = excluded.offset`,
  );
  const get = (consumer: string): number => getStmt.get(consumer)?.offset ?? 0;
  /** When each consumer's offset was last stored (by this process). */
  const storedAt = new Map<string, number>();
  const write = (consumer: string, offset: number): void => {
    setStmt.run(consumer, offset);
    storedAt.set(consumer, Date.now());
  };
  /** Offsets as committed by commit() outside any other transaction, so that the next batch
   * needs no read: each consumer is this store's only writer of its row. */
  const committed = new Map<string, number>();
  const set = (consumer: string, offset: number): void => {
    committed.delete(consumer);
    write(consumer, offset);
  };
  return {
    get,
    set,
    commit<T>(consumer: string, msgs: readonly LogMessage<T>[], effects: (fresh: LogMessage<T>[]) => void | boolean): number {
      // Inside another transaction, a commit here is not final: read and remember nothing.
      const outermost = !db.inTransaction;
      let stored = 0;
      try {
        const n = db.transaction(() => {
          stored = (outermost ? committed.get(consumer) : undefined) ?? get(consumer);
          const fresh = msgs.filter((m) => m.offset > stored);
          if (fresh.length === 0) return 0;
          const last = fresh[fresh.length - 1]!.offset;
          const wrote = effects(fresh) !== false;
          if (wrote || last - stored >= IDLE_OFFSET_MAX_MESSAGES || Date.now() - (storedAt.get(consumer) ?? 0) >= IDLE_OFFSET_MAX_MS) {
            write(consumer, last);
            stored = last;
          }
          return fresh.length;
        })();
        if (outermost) committed.set(consumer, stored);
        else committed.delete(consumer);
        return n;
      } catch (e) {
        committed.delete(consumer);
        throw e;
      }
    },
  };
}
