import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../test/fixtures.js';
import { openDatabase, type Migration } from './index.js';

function tmpFile(): string {
  return path.join(tmpDir('axon-db-'), 'axon.db');
}

const migrations: Migration[] = [
  { version: 1, up: (db) => db.exec('CREATE TABLE t_items (id INTEGER PRIMARY KEY, v TEXT NOT NULL)') },
  { version: 2, up: (db) => db.exec('ALTER TABLE t_items ADD COLUMN n INTEGER NOT NULL DEFAULT 0') },
];

const count = (db: ReturnType<typeof openDatabase>): number => db.raw.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM t_items').get()!.n;

describe('openDatabase', () => {
  it('sets WAL, synchronous=NORMAL, foreign keys and the busy timeout', () => {
    const db = openDatabase(tmpFile());
    expect(db.raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.raw.pragma('synchronous', { simple: true })).toBe(1);
    expect(db.raw.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.raw.pragma('busy_timeout', { simple: true })).toBe(5000);
    db.close();
    db.close(); // idempotent
    expect(db.isOpen).toBe(false);
  });

  it('accepts :memory:', () => {
    const db = openDatabase(':memory:');
    db.migrate('test', migrations);
    db.raw.prepare('INSERT INTO t_items (v) VALUES (?)').run('x');
    expect(count(db)).toBe(1);
    expect(db.sizeBytes()).toBeGreaterThan(0);
    db.close();
  });

  it('fails with a one-line message when the folder is missing', () => {
    const file = path.join(path.dirname(tmpFile()), 'sub', 'axon.db');
    expect(() => openDatabase(file)).toThrow(/^cannot open database .*: folder .*sub does not exist$/);
    const notDir = tmpFile();
    fs.writeFileSync(notDir, '');
    expect(() => openDatabase(path.join(notDir, 'axon.db'))).toThrow(/axon\.db is not a folder$/);
  });

  it('fails with a one-line message when the file is not a database', () => {
    const file = tmpFile();
    fs.writeFileSync(file, 'this is not a database, just some text that is long enough to fill a header....'.repeat(20));
    let message = '';
    try {
      openDatabase(file);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^cannot open database .*: file is not a database$/);
    expect(message).not.toContain('\n');
  });

  it('fails with a one-line message when the folder is not writable', () => {
    const dir = path.dirname(tmpFile());
    fs.chmodSync(dir, 0o500);
    try {
      let writable = true;
      try {
        fs.accessSync(dir, fs.constants.W_OK);
      } catch {
        writable = false;
      }
      // root ignores permission bits; then there is nothing to test.
      if (!writable) expect(() => openDatabase(path.join(dir, 'axon.db'))).toThrow(/folder .* is not writable$/);
    } finally {
      fs.chmodSync(dir, 0o700);
    }
  });
});

describe('migrate', () => {
  it('runs migrations once and resumes after reopening', () => {
    const file = tmpFile();
    const a = openDatabase(file);
    let runs = 0;
    const counted = migrations.map((m) => ({ version: m.version, up: (d: Parameters<Migration['up']>[0]) => (runs++, m.up(d)) }));
    a.migrate('test', counted.slice(0, 1));
    a.raw.prepare('INSERT INTO t_items (v) VALUES (?)').run('x');
    a.close();
    const b = openDatabase(file);
    b.migrate('test', counted);
    b.migrate('test', [...counted].reverse()); // order of declaration does not matter
    expect(runs).toBe(2);
    expect(b.raw.prepare('SELECT v, n FROM t_items').all()).toEqual([{ v: 'x', n: 0 }]);
    expect(b.schemaVersion('test')).toBe(2);
    expect(b.schemaVersion('other')).toBe(0);
    b.close();
  });

  it('keeps components apart', () => {
    const db = openDatabase(tmpFile());
    db.migrate('a', [{ version: 1, up: (d) => d.exec('CREATE TABLE a_x (id INTEGER)') }]);
    db.migrate('b', [
      { version: 1, up: (d) => d.exec('CREATE TABLE b_x (id INTEGER)') },
      { version: 2, up: (d) => d.exec('CREATE TABLE b_y (id INTEGER)') },
    ]);
    expect(db.raw.prepare('SELECT component, version FROM db_schema_versions ORDER BY component').all()).toEqual([
      { component: 'a', version: 1 },
      { component: 'b', version: 2 },
    ]);
    db.close();
  });

  it('refuses a database from a newer version', () => {
    const file = tmpFile();
    const a = openDatabase(file);
    a.migrate('test', migrations);
    a.close();
    const b = openDatabase(file);
    expect(() => b.migrate('test', migrations.slice(0, 1))).toThrow(/test schema version 2 is newer than this Axon knows \(1\)/);
    b.close();
  });

  it('a failing migration is rolled back and leaves the version where it was', () => {
    const db = openDatabase(tmpFile());
    const bad: Migration[] = [
      migrations[0]!,
      {
        version: 2,
        up: (d) => {
          d.exec('CREATE TABLE t_half (x)');
          d.exec('CREATE TABLE t_items (x)'); // already exists
        },
      },
    ];
    expect(() => db.migrate('test', bad)).toThrow(/already exists/);
    expect(db.schemaVersion('test')).toBe(1);
    expect(db.raw.prepare("SELECT name FROM sqlite_master WHERE name = 't_half'").get()).toBeUndefined();
    db.close();
  });

  it('rejects duplicate or invalid versions before running anything', () => {
    const db = openDatabase(tmpFile());
    expect(() => db.migrate('test', [migrations[0]!, migrations[0]!])).toThrow(/declared twice/);
    expect(() => db.migrate('test', [{ version: 0, up: () => undefined }])).toThrow(/positive integer/);
    expect(db.schemaVersion('test')).toBe(0);
    db.close();
  });
});

describe('transactions and the write batcher', () => {
  it('transaction commits or rolls back as a whole, and nests', () => {
    const db = openDatabase(tmpFile());
    db.migrate('test', migrations);
    const insert = db.raw.prepare<[string]>('INSERT INTO t_items (v) VALUES (?)');
    expect(() =>
      db.transaction(() => {
        insert.run('a');
        throw new Error('undo');
      }),
    ).toThrow('undo');
    expect(count(db)).toBe(0);
    const r = db.transaction(() => {
      insert.run('outer');
      try {
        db.transaction(() => {
          insert.run('inner');
          throw new Error('inner only');
        });
      } catch {
        // the savepoint rolled back; the outer transaction goes on
      }
      return 'done';
    });
    expect(r).toBe('done');
    expect(db.raw.prepare('SELECT v FROM t_items').all()).toEqual([{ v: 'outer' }]);
    db.close();
  });

  it('batches one tick of writes into one transaction and isolates a failing write', async () => {
    const db = openDatabase(tmpFile());
    db.migrate('test', migrations);
    const insert = db.raw.prepare<[string]>('INSERT INTO t_items (v) VALUES (?)');
    const batcher = db.createWriteBatcher();
    let visibleElsewhere = -1;
    let inTransaction = false;
    const results = await Promise.allSettled([
      batcher.enqueue(() => insert.run('a').lastInsertRowid),
      batcher.enqueue(() => {
        insert.run('doomed');
        throw new Error('no');
      }),
      batcher.enqueue(() => {
        insert.run('c');
        inTransaction = db.raw.inTransaction;
        // Another connection cannot see 'a' yet: it is in the same, uncommitted transaction.
        const other = openDatabase(db.file);
        visibleElsewhere = count(other);
        other.raw.close();
        return 'c';
      }),
    ]);
    expect(inTransaction).toBe(true);
    expect(visibleElsewhere).toBe(0);
    expect(results).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'rejected', reason: new Error('no') },
      { status: 'fulfilled', value: 'c' },
    ]);
    expect(db.raw.prepare('SELECT v FROM t_items ORDER BY id').all()).toEqual([{ v: 'a' }, { v: 'c' }]);
    // The next tick is the next transaction.
    await batcher.enqueue(() => insert.run('d'));
    expect(count(db)).toBe(3);
    db.close();
  });

  it('rejects an async write instead of committing half of it', async () => {
    const db = openDatabase(tmpFile());
    const batcher = db.createWriteBatcher();
    await expect(batcher.enqueue(async () => 1)).rejects.toThrow(/cannot return a promise/);
    db.close();
  });

  it('close commits writes still queued', async () => {
    const file = tmpFile();
    const a = openDatabase(file);
    a.migrate('test', migrations);
    const batcher = a.createWriteBatcher();
    const queued = batcher.enqueue(() => a.raw.prepare('INSERT INTO t_items (v) VALUES (?)').run('late').changes);
    expect(batcher.pending).toBe(1);
    a.close();
    await expect(queued).resolves.toBe(1);
    await expect(batcher.enqueue(() => 1)).rejects.toThrow(/closed/);
    const b = openDatabase(file);
    expect(count(b)).toBe(1);
    b.close();
  });

  it('data survives close and reopen; close truncates the WAL', () => {
    const file = tmpFile();
    const a = openDatabase(file);
    a.migrate('test', migrations);
    a.transaction(() => {
      a.raw.prepare('INSERT INTO t_items (v) VALUES (?)').run('kept');
    });
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(0);
    expect(a.sizeBytes()).toBeGreaterThan(fs.statSync(file).size);
    a.close();
    expect(fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0).toBe(0);
    const b = openDatabase(file);
    expect(b.raw.prepare('SELECT v FROM t_items').all()).toEqual([{ v: 'kept' }]);
    expect(b.schemaVersion('test')).toBe(2);
    b.close();
  });
});
