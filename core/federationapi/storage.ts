import type Database from 'better-sqlite3';

/** The federation API's tables: received transactions (idempotency), and the outbound queue
 * per destination, which survives restarts. */
export const FEDERATION_MIGRATIONS = [
  {
    version: 1,
    up(db: Database.Database): void {
      db.exec(`
        CREATE TABLE fs_received_txns (
          origin TEXT NOT NULL,
          txn_id TEXT NOT NULL,
          response TEXT NOT NULL,
          ts INTEGER NOT NULL,
          PRIMARY KEY (origin, txn_id)
        );
        -- One row per item to send; kind 'pdu' or 'edu', json the PDU or EDU.
        CREATE TABLE fs_queue (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          destination TEXT NOT NULL,
          kind TEXT NOT NULL,
          json TEXT NOT NULL
        );
        CREATE INDEX fs_queue_dest ON fs_queue (destination, id);
        CREATE TABLE fs_destinations (
          destination TEXT PRIMARY KEY,
          failures INTEGER NOT NULL DEFAULT 0,
          retry_at INTEGER NOT NULL DEFAULT 0,
          last_error TEXT
        );
      `);
    },
  },
];

export interface QueueItem {
  id: number;
  kind: 'pdu' | 'edu';
  json: string;
}

export interface DestinationRow {
  destination: string;
  failures: number;
  retry_at: number;
  last_error: string | null;
}

export class FederationStorage {
  private readonly s;

  constructor(readonly raw: Database.Database) {
    this.s = {
      txn: raw.prepare<[string, string], { response: string }>('SELECT response FROM fs_received_txns WHERE origin = ? AND txn_id = ?'),
      putTxn: raw.prepare<[string, string, string, number]>('INSERT OR REPLACE INTO fs_received_txns (origin, txn_id, response, ts) VALUES (?, ?, ?, ?)'),
      pruneTxns: raw.prepare<[number]>('DELETE FROM fs_received_txns WHERE ts < ?'),
      enqueue: raw.prepare<[string, string, string]>('INSERT INTO fs_queue (destination, kind, json) VALUES (?, ?, ?)'),
      pending: raw.prepare<[string, string, number], QueueItem>('SELECT id, kind, json FROM fs_queue WHERE destination = ? AND kind = ? ORDER BY id LIMIT ?'),
      dequeue: raw.prepare<[string, number]>('DELETE FROM fs_queue WHERE destination = ? AND id <= ?'),
      deleteIds: raw.prepare<[number]>('DELETE FROM fs_queue WHERE id = ?'),
      destinationsWithWork: raw.prepare<[], { destination: string }>('SELECT DISTINCT destination FROM fs_queue'),
      counts: raw.prepare<[], { destination: string; n: number }>('SELECT destination, COUNT(*) AS n FROM fs_queue GROUP BY destination'),
      destination: raw.prepare<[string], DestinationRow>('SELECT * FROM fs_destinations WHERE destination = ?'),
      destinations: raw.prepare<[], DestinationRow>('SELECT * FROM fs_destinations'),
      setDestination: raw.prepare<[string, number, number, string | null]>(
        'INSERT INTO fs_destinations (destination, failures, retry_at, last_error) VALUES (?, ?, ?, ?) ON CONFLICT (destination) DO UPDATE SET failures = excluded.failures, retry_at = excluded.retry_at, last_error = excluded.last_error',
      ),
    };
  }

  receivedTxn(origin: string, txnId: string): string | undefined {
    return this.s.txn.get(origin, txnId)?.response;
  }

  putReceivedTxn(origin: string, txnId: string, response: string): void {
    this.s.putTxn.run(origin, txnId, response, Date.now());
    // A day is far longer than any sender retries one transaction.
    if (Math.random() < 0.01) this.s.pruneTxns.run(Date.now() - 86_400_000);
  }

  enqueue(destinations: Iterable<string>, kind: 'pdu' | 'edu', json: string): void {
    for (const d of destinations) this.s.enqueue.run(d, kind, json);
  }

  pending(destination: string, kind: 'pdu' | 'edu', limit: number): QueueItem[] {
    return this.s.pending.all(destination, kind, limit);
  }

  remove(ids: number[]): void {
    this.raw.transaction(() => {
      for (const id of ids) this.s.deleteIds.run(id);
    })();
  }

  destinationsWithWork(): string[] {
    return this.s.destinationsWithWork.all().map((r) => r.destination);
  }

  queueCounts(): Map<string, number> {
    return new Map(this.s.counts.all().map((r) => [r.destination, r.n]));
  }

  destination(d: string): DestinationRow | undefined {
    return this.s.destination.get(d);
  }

  destinations(): DestinationRow[] {
    return this.s.destinations.all();
  }

  setDestination(d: string, failures: number, retryAt: number, lastError: string | null): void {
    this.s.setDestination.run(d, failures, retryAt, lastError);
  }
}
