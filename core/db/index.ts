import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { WalCheckpointer } from './checkpointer.js';

export interface Migration {
  /** Positive, unique per component; migrations run in ascending order. */
  version: number;
  /** Synchronous: it runs inside the transaction that records its version. */
  up: (db: Database.Database) => void;
}

const SCHEMA_TABLE = 'db_schema_versions';
/** The writer's own checkpoint threshold, in pages: only a safety net, since the
 * WalCheckpointer checkpoints from 1000 pages on, off the event loop. */
const WRITER_AUTOCHECKPOINT_PAGES = 16000;

function isMemory(file: string): boolean {
  // better-sqlite3 treats '' as a private temporary database, like ':memory:'.
  return file === ':memory:' || file === '';
}

function oneLine(message: string): string {
  return message.replace(/\s+/g, ' ').trim();
}

/** The node's one SQLite database: WAL, synchronous=NORMAL, foreign keys on. Components own
 * their tables and register their migrations here. */
export class Db {
  private closed = false;
  private readonly batchers = new Set<WriteBatcher>();
  private readonly checkpointer: WalCheckpointer | undefined;

  constructor(
    readonly raw: Database.Database,
    readonly file: string,
  ) {
    if (!isMemory(file)) {
      this.checkpointer = new WalCheckpointer(file);
      raw.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
    }
  }

  /** Runs the component's pending migrations, each in a transaction with its version bump.
   * Refuses a database written by a newer Axon (a higher stored version). */
  migrate(component: string, migrations: readonly Migration[]): void {
    if (!component) throw new Error('migrate: component name is empty');
    const sorted = [...migrations].sort((a, b) => a.version - b.version);
    sorted.forEach((m, i) => {
      if (!Number.isSafeInteger(m.version) || m.version < 1) throw new Error(`${component}: migration version ${m.version} is not a positive integer`);
      if (i > 0 && sorted[i - 1]!.version === m.version) throw new Error(`${component}: migration version ${m.version} is declared twice`);
    });
    const highest = sorted.at(-1)?.version ?? 0;
    const current = this.schemaVersion(component);
    if (current > highest) {
      throw new Error(`database ${this.file}: ${component} schema version ${current} is newer than this Axon knows (${highest}); use a newer Axon`);
    }
    const setVersion = this.raw.prepare<[string, number]>(
      `INSERT INTO ${SCHEMA_TABLE} (component, version) VALUES (?, ?) ON CONFLICT (component) DO UPDATE SET version = excluded.version`,
    );
    for (const m of sorted) {
      if (m.version <= current) continue;
      this.raw.transaction(() => {
        m.up(this.raw);
        setVersion.run(component, m.version);
      })();
    }
  }

  /** The component's stored schema version (0 before its first migration). */
  schemaVersion(component: string): number {
    const row = this.raw.prepare<[string], { version: number }>(`SELECT version FROM ${SCHEMA_TABLE} WHERE component = ?`).get(component);
    return row?.version ?? 0;
  }

  /** Runs `fn` in one transaction; nested calls become savepoints. `fn` must be synchronous. */
  transaction<T>(fn: () => T): T {
    return this.raw.transaction(fn)();
  }

  /** Collects writes submitted in the same tick and commits them in one transaction. */
  createWriteBatcher(): WriteBatcher {
    const b = new WriteBatcher(this.raw);
    this.batchers.add(b);
    return b;
  }

  /** Size of the database file and its WAL, in bytes (pages in use for an in-memory one). */
  sizeBytes(): number {
    if (isMemory(this.file)) {
      if (this.closed) return 0;
      const pages = this.raw.pragma('page_count', { simple: true }) as number;
      const pageSize = this.raw.pragma('page_size', { simple: true }) as number;
      return pages * pageSize;
    }
    let total = 0;
    for (const f of [this.file, `${this.file}-wal`]) {
      try {
        total += fs.statSync(f).size;
      } catch {
        // no WAL yet, or removed by the checkpoint on close
      }
    }
    return total;
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  /** Commits writes still queued in batchers, checkpoints the WAL into the main file and
   * closes. Idempotent. */
  close(): void {
    if (this.closed) return;
    for (const b of this.batchers) b.flush();
    this.batchers.clear();
    this.checkpointer?.close();
    this.closed = true;
    try {
      if (!isMemory(this.file)) this.raw.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.raw.close();
    }
  }
}

interface Pending {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** One transaction per tick for hot paths: a commit (and its fsync at checkpoints) is paid
 * once per batch instead of once per write. Each write runs in its own savepoint, so one
 * that throws is rolled back and rejected alone while the others commit. Promises settle
 * only after the commit. */
export class WriteBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  constructor(private readonly db: Database.Database) {}

  /** `fn` must be synchronous (better-sqlite3 transactions cannot span an await). */
  enqueue<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Writes waiting for the next flush. */
  get pending(): number {
    return this.queue.length;
  }

  /** Commits everything queued now (also run by Db.close so nothing queued is lost). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (!this.db.open) {
      const err = new Error('database is closed');
      for (const p of batch) p.reject(err);
      return;
    }
    const results: Array<{ ok: boolean; value: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const p of batch) {
          try {
            results.push({ ok: true, value: this.db.transaction(p.fn)() });
          } catch (e) {
            results.push({ ok: false, value: e });
          }
        }
      })();
    } catch (e) {
      // The commit itself failed: nothing of the batch was written.
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => (results[i]!.ok ? p.resolve(results[i]!.value) : p.reject(results[i]!.value)));
  }
}

/** Opens (creating if needed) the node's database file, or ':memory:'. Throws an Error with a
 * one-line message when the folder is missing or not writable, or the file is not a database. */
export function openDatabase(file: string): Db {
  if (!isMemory(file)) {
    const dir = path.dirname(path.resolve(file));
    let st: fs.Stats;
    try {
      st = fs.statSync(dir);
    } catch {
      throw new Error(`cannot open database ${file}: folder ${dir} does not exist`);
    }
    if (!st.isDirectory()) throw new Error(`cannot open database ${file}: ${dir} is not a folder`);
    try {
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      throw new Error(`cannot open database ${file}: folder ${dir} is not writable`);
    }
  }
  let raw: Database.Database | undefined;
  try {
    raw = new Database(file);
    // The first pragma reads the file header, so a file that is not a database fails here.
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    raw.pragma('busy_timeout = 5000');
    raw.exec(`CREATE TABLE IF NOT EXISTS ${SCHEMA_TABLE} (component TEXT PRIMARY KEY, version INTEGER NOT NULL)`);
  } catch (e) {
    raw?.close();
    throw new Error(`cannot open database ${file}: ${oneLine((e as Error).message)}`);
  }
  return new Db(raw, file);
}
