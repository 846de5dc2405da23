import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { tmpDir } from '../test/fixtures.js';
import { TRANSACTION_RETENTION_MS, TransactionCache } from './transactions.js';

const dbs: Db[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
});
function db(file = path.join(tmpDir('axon-txn-'), 'axon.db')): Db {
  const d = openDatabase(file);
  dbs.push(d);
  return d;
}

describe('transaction ids', () => {
  it('runs once per device, txn id and path; retries get the first result, also concurrent ones and after a restart', async () => {
    const file = path.join(tmpDir('axon-txn-'), 'axon.db');
    const d = db(file);
    const txns = new TransactionCache(d);
    let runs = 0;
    const send = (device: string, txn: string, p = '/send') =>
      txns.once(`@a:x`, device, txn, p, async (record) => {
        runs++;
        await new Promise((r) => setTimeout(r, 10));
        const result = { event_id: `$${runs}` };
        record(result);
        return result;
      });
    const [a, b] = await Promise.all([send('D', 't1'), send('D', 't1')]);
    expect(a).toEqual({ event_id: '$1' });
    expect(b).toEqual(a);
    expect(await send('D', 't1')).toEqual(a);
    expect(await send('E', 't1')).toEqual({ event_id: '$2' });
    expect(await send('D', 't1', '/other')).toEqual({ event_id: '$3' });
    d.close();
    dbs.splice(dbs.indexOf(d), 1);
    const again = new TransactionCache(db(file));
    expect(await again.once('@a:x', 'D', 't1', '/send', async () => ({ event_id: '$new' }))).toEqual(a);
  });

  it('an id whose storing transaction rolled back was never used', async () => {
    const d = db();
    const txns = new TransactionCache(d);
    const failed = txns.once('@a:x', 'D', 't1', '/send', async (record) => {
      d.transaction(() => {
        record({ event_id: '$lost' });
        throw new Error('the event was not stored');
      });
      return { event_id: '$lost' };
    });
    await expect(failed).rejects.toThrow('not stored');
    expect(await txns.once('@a:x', 'D', 't1', '/send', async () => ({ event_id: '$stored' }))).toEqual({ event_id: '$stored' });
    expect(await txns.once('@a:x', 'D', 't1', '/send', async () => ({ event_id: '$again' }))).toEqual({ event_id: '$stored' });
  });

  it('forgets transaction ids after the retention', async () => {
    const txns = new TransactionCache(db());
    await txns.once('@a:x', 'D', 't1', '/send', async () => ({ n: 1 }));
    expect(txns.pruneOld(Date.now())).toBe(0);
    expect(txns.pruneOld(Date.now() + TRANSACTION_RETENTION_MS + 1000)).toBe(1);
    expect(await txns.once('@a:x', 'D', 't1', '/send', async () => ({ n: 2 }))).toEqual({ n: 2 });
  });

  it('keeps the ids stored by the first schema', async () => {
    const d = db();
    d.migrate('clientapi', [
      {
        version: 1,
        up: (raw) =>
          raw.exec(`CREATE TABLE ca_transactions (
            user_id TEXT NOT NULL, device_id TEXT NOT NULL, txn_id TEXT NOT NULL, path TEXT NOT NULL,
            response TEXT NOT NULL, created_ts INTEGER NOT NULL,
            PRIMARY KEY (user_id, device_id, txn_id, path))`),
      },
    ]);
    d.raw.prepare('INSERT INTO ca_transactions VALUES (?, ?, ?, ?, ?, ?)').run('@a:x', 'D', 't1', '/send', '{"event_id":"$old"}', Date.now());
    const txns = new TransactionCache(d);
    expect(await txns.once('@a:x', 'D', 't1', '/send', async () => ({ event_id: '$new' }))).toEqual({ event_id: '$old' });
  });

  it('prunes the oldest first, in slices, and keeps what is recent', async () => {
    const d = db();
    const txns = new TransactionCache(d);
    for (let i = 0; i < 2500; i++) await txns.once('@a:x', 'D', `t${i}`, '/send', async () => ({ i }));
    // Make the first 2,200 old: a slice is 2,000, so two prunes take them all and no more.
    d.raw.prepare('UPDATE ca_txns SET created_ts = 0 WHERE id <= 2200').run();
    expect(txns.pruneOld()).toBe(2000);
    expect(txns.pruneOld()).toBe(200);
    expect(txns.pruneOld()).toBe(0);
    expect(await txns.once('@a:x', 'D', 't0', '/send', async () => ({ i: 'again' }))).toEqual({ i: 'again' });
    expect(await txns.once('@a:x', 'D', 't2499', '/send', async () => ({ i: 'again' }))).toEqual({ i: 2499 });
  });
});
