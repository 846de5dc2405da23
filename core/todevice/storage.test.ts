import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { tmpDir } from '../test/fixtures.js';
import { RECEIVED_RETENTION_MS, TODEVICE_MIGRATIONS, TXN_RETENTION_MS, ToDeviceStorage } from './storage.js';

const dbs: Db[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
});
function db(): Db {
  const d = openDatabase(path.join(tmpDir('axon-td-'), 'axon.db'));
  dbs.push(d);
  return d;
}

describe('to-device transaction ids', () => {
  it('are claimed once, and forgotten after their retention: a day for clients, a week for servers', () => {
    const d = db();
    d.migrate('todevice', TODEVICE_MIGRATIONS);
    const s = new ToDeviceStorage(d.raw);
    const t0 = 1_000_000_000_000;
    expect(s.claimTxn('@a:x', 'D', 't1', t0)).toBe(true);
    expect(s.claimTxn('@a:x', 'D', 't1', t0 + 1)).toBe(false);
    expect(s.claimTxn('@a:x', 'E', 't1', t0)).toBe(true);
    expect(s.claimReceived('other.example', 'm1', t0)).toBe(true);
    expect(s.claimReceived('other.example', 'm1', t0 + 1)).toBe(false);
    expect(s.claimTxn('@a:x', 'D', 't2', t0 + TXN_RETENTION_MS)).toBe(true);

    // A day on: the client ids of the first moment go, the server's stays for a week.
    expect(s.prune(t0 + TXN_RETENTION_MS + 1)).toBe(2);
    expect(s.claimTxn('@a:x', 'D', 't1', t0 + TXN_RETENTION_MS + 2)).toBe(true);
    expect(s.claimTxn('@a:x', 'D', 't2', t0 + TXN_RETENTION_MS + 2)).toBe(false);
    expect(s.claimReceived('other.example', 'm1', t0 + TXN_RETENTION_MS + 2)).toBe(false);
    expect(s.prune(t0 + RECEIVED_RETENTION_MS + 1)).toBe(3);
    expect(s.claimReceived('other.example', 'm1', t0 + RECEIVED_RETENTION_MS + 2)).toBe(true);
  });

  it('keeps the ids of the first schema, dated at the upgrade', () => {
    const d = db();
    d.migrate('todevice', TODEVICE_MIGRATIONS.slice(0, 1));
    d.raw.prepare("INSERT INTO td_txns (user_id, device_id, txn_id) VALUES ('@a:x', 'D', 'old')").run();
    const before = Date.now();
    d.migrate('todevice', TODEVICE_MIGRATIONS);
    const s = new ToDeviceStorage(d.raw);
    expect(s.prune()).toBe(0);
    expect(s.claimTxn('@a:x', 'D', 'old')).toBe(false);
    expect(s.prune(before + TXN_RETENTION_MS + 60_000)).toBe(1);
  });
});
