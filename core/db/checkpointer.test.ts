import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpDir } from '../test/fixtures.js';
import { openDatabase } from './index.js';

describe('WAL checkpoints off the event loop', () => {
  it('a worker copies a large WAL into the database file while the writer never checkpoints itself', async () => {
    const file = path.join(tmpDir('axon-db-'), 'axon.db');
    const db = openDatabase(file);
    db.raw.exec('CREATE TABLE t_blob (id INTEGER PRIMARY KEY, v BLOB NOT NULL)');
    const ins = db.raw.prepare<[Buffer]>('INSERT INTO t_blob (v) VALUES (?)');
    const blob = Buffer.alloc(64 * 1024, 7);
    // ~6 MB in small commits: past the worker's start, far below the writer's own threshold.
    for (let i = 0; i < 96; i++) db.transaction(() => ins.run(blob));
    const before = fs.statSync(file).size;
    expect(before).toBeLessThan(1024 * 1024);
    const deadline = Date.now() + 10_000;
    while (fs.statSync(file).size < 6 * 1024 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(fs.statSync(file).size).toBeGreaterThanOrEqual(6 * 1024 * 1024);
    // The writer goes on, and closing (with its own final checkpoint) still works.
    db.transaction(() => ins.run(blob));
    db.close();
    expect(fs.existsSync(`${file}-wal`) ? fs.statSync(`${file}-wal`).size : 0).toBe(0);
    const again = openDatabase(file);
    expect(again.raw.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM t_blob').get()!.n).toBe(97);
    again.close();
  });
});
