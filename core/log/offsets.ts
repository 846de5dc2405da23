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
   * the batch's last offset. Returns how many messages were new. */
  commit<T>(consumer: string, msgs: readonly LogMessage<T>[], effects: (fresh: LogMessage<T>[]) => void): number;
}

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
  const set = (consumer: string, offset: number): void => {
    setStmt.run(consumer, offset);
  };
  return {
    get,
    set,
    commit<T>(consumer: string, msgs: readonly LogMessage<T>[], effects: (fresh: LogMessage<T>[]) => void): number {
      return db.transaction(() => {
        const stored = get(consumer);
        const fresh = msgs.filter((m) => m.offset > stored);
        if (fresh.length === 0) return 0;
        effects(fresh);
        set(consumer, fresh[fresh.length - 1]!.offset);
        return fresh.length;
      })();
    },
  };
}
