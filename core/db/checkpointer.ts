import fs from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** WAL size from which checkpoints start (SQLite's own default is 1000 pages, ~4 MB). */
const START_BYTES = 4 * 1024 * 1024;
const CHECK_MS = 500;

/* The worker's code, run with eval so that it needs no compiled file of its own (tests run
 * the TypeScript sources). It checkpoints on its own connection when asked, one at a time. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 1000');
parentPort.on('message', (m) => {
  if (m === 'close') { db.close(); parentPort.close(); return; }
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
  parentPort.postMessage('done');
});
`;

/**
 * Moves WAL checkpoints off the event loop: a checkpoint copies pages into the database
 * file and fsyncs it, which on the writer's thread stalls every request behind the commit
 * that crossed the threshold. A timer watches the WAL's size; once it is large, a worker
 * thread with its own connection checkpoints (PASSIVE: writers go on appending). The
 * writer keeps a much higher automatic threshold as a safety net. The worker starts only
 * when first needed, so small databases (tests) never start one.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private busy = false;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly file: string) {
    this.timer = setInterval(() => this.tick(), CHECK_MS);
    this.timer.unref();
  }

  private tick(): void {
    if (this.busy) return;
    let size = 0;
    try {
      size = fs.statSync(`${this.file}-wal`).size;
    } catch {
      return;
    }
    if (size < START_BYTES) return;
    if (!this.worker) {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver: createRequire(import.meta.url).resolve('better-sqlite3') } });
      w.unref();
      w.on('message', () => (this.busy = false));
      // Without the worker the writer's own automatic checkpoints still run.
      w.on('error', () => undefined);
      w.on('exit', () => {
        if (this.worker === w) this.worker = undefined;
        this.busy = false;
      });
      this.worker = w;
    }
    this.busy = true;
    this.worker.postMessage('checkpoint');
  }

  /** Stops the timer and the worker (its connection closes before the writer's final
   * checkpoint, which waits for a running one through the busy timeout). */
  close(): void {
    clearInterval(this.timer);
    const w = this.worker;
    this.worker = undefined;
    if (w) {
      w.postMessage('close');
      void w.terminate();
    }
  }
}
