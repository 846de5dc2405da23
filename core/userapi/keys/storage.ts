import type Database from 'better-sqlite3';
import { StatementCache } from '../../db/statements.js';
import type { Migration } from '../../db/index.js';

/** The key server's tables (prefix `uk_`): device keys, one-time and fallback keys,
 * cross-signing keys and signatures, the device-list change stream, and key backups. */
export const USERKEYS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) => {
      db.exec(`
        CREATE TABLE uk_device_keys (
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          key_json TEXT NOT NULL,
          PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE uk_one_time_keys (
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          algorithm TEXT NOT NULL,
          key_id TEXT NOT NULL,
          key_json TEXT NOT NULL,
          PRIMARY KEY (user_id, device_id, algorithm, key_id)
        );
        CREATE TABLE uk_fallback_keys (
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          algorithm TEXT NOT NULL,
          key_id TEXT NOT NULL,
          key_json TEXT NOT NULL,
          used INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id, device_id, algorithm)
        );
        CREATE TABLE uk_cross_signing_keys (
          user_id TEXT NOT NULL,
          key_type TEXT NOT NULL,
          public_key TEXT NOT NULL,
          key_json TEXT NOT NULL,
          PRIMARY KEY (user_id, key_type)
        );
        -- Signatures uploaded later (/keys/signatures/upload) on a device or cross-signing key.
        CREATE TABLE uk_signatures (
          target_user TEXT NOT NULL,
          target_key TEXT NOT NULL,
          signer_user TEXT NOT NULL,
          signer_key_id TEXT NOT NULL,
          signature TEXT NOT NULL,
          PRIMARY KEY (target_user, target_key, signer_user, signer_key_id)
        );
        -- The key-change stream: its ids are the topic's offsets and the sync token's position.
        CREATE TABLE uk_changes (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id TEXT NOT NULL,
          device_id TEXT,
          kind TEXT NOT NULL,
          deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX uk_changes_user ON uk_changes (user_id, id);
        CREATE TABLE uk_backup_versions (
          user_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          algorithm TEXT NOT NULL,
          auth_data TEXT NOT NULL,
          etag INTEGER NOT NULL DEFAULT 0,
          deleted INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id, version)
        );
        CREATE TABLE uk_backup_keys (
          user_id TEXT NOT NULL,
          version INTEGER NOT NULL,
          room_id TEXT NOT NULL,
          session_id TEXT NOT NULL,
          first_message_index INTEGER NOT NULL,
          forwarded_count INTEGER NOT NULL,
          is_verified INTEGER NOT NULL,
          session_data TEXT NOT NULL,
          PRIMARY KEY (user_id, version, room_id, session_id)
        );
      `);
    },
  },
  {
    version: 2,
    // Remote users' keys, kept while federation keeps them fresh (see remote.ts).
    up: (db) =>
      db.exec(`
        CREATE TABLE uk_remote_keys (
          user_id TEXT PRIMARY KEY,
          keys_json TEXT NOT NULL,
          stream_id INTEGER,
          stale INTEGER NOT NULL DEFAULT 0
        );
      `),
  },
];

export interface RemoteKeysRow {
  user_id: string;
  keys_json: string;
  stream_id: number | null;
  stale: number;
}

export interface ChangeRow {
  id: number;
  user_id: string;
  device_id: string | null;
  kind: 'device' | 'signing';
  deleted: number;
}

export interface BackupVersionRow {
  user_id: string;
  version: number;
  algorithm: string;
  auth_data: string;
  etag: number;
  deleted: number;
}

export interface BackupKeyRow {
  room_id: string;
  session_id: string;
  first_message_index: number;
  forwarded_count: number;
  is_verified: number;
  session_data: string;
}

export interface SignatureRow {
  signer_user: string;
  signer_key_id: string;
  signature: string;
}

/** Plain reads and writes of the key server's tables; callers hold the transactions. */
export class KeyStorage {
  private readonly statements: StatementCache;

  constructor(readonly raw: Database.Database) {
    this.statements = new StatementCache(raw);
  }

  private st(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  // ---- device keys ----
  deviceKeys(userId: string, deviceId: string): string | undefined {
    return (this.st('SELECT key_json FROM uk_device_keys WHERE user_id = ? AND device_id = ?').get(userId, deviceId) as { key_json: string } | undefined)?.key_json;
  }
  allDeviceKeys(userId: string): Array<{ device_id: string; key_json: string }> {
    return this.st('SELECT device_id, key_json FROM uk_device_keys WHERE user_id = ? ORDER BY device_id').all(userId) as Array<{ device_id: string; key_json: string }>;
  }
  putDeviceKeys(userId: string, deviceId: string, json: string): void {
    this.st('INSERT INTO uk_device_keys (user_id, device_id, key_json) VALUES (?, ?, ?) ON CONFLICT (user_id, device_id) DO UPDATE SET key_json = excluded.key_json')
      .run(userId, deviceId, json);
  }

  // ---- one-time and fallback keys ----
  oneTimeKey(userId: string, deviceId: string, algorithm: string, keyId: string): string | undefined {
    return (
      this.st('SELECT key_json FROM uk_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?').get(userId, deviceId, algorithm, keyId) as
        | { key_json: string }
        | undefined
    )?.key_json;
  }
  insertOneTimeKey(userId: string, deviceId: string, algorithm: string, keyId: string, json: string): void {
    this.st('INSERT OR IGNORE INTO uk_one_time_keys (user_id, device_id, algorithm, key_id, key_json) VALUES (?, ?, ?, ?, ?)').run(userId, deviceId, algorithm, keyId, json);
  }
  oneTimeKeyCounts(userId: string, deviceId: string): Record<string, number> {
    const rows = this.st('SELECT algorithm, COUNT(*) AS n FROM uk_one_time_keys WHERE user_id = ? AND device_id = ? GROUP BY algorithm').all(userId, deviceId) as Array<{
      algorithm: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((r) => [r.algorithm, r.n]));
  }
  /** Removes and returns one one-time key of the algorithm (oldest key id first). */
  takeOneTimeKey(userId: string, deviceId: string, algorithm: string): { key_id: string; key_json: string } | undefined {
    const row = this.st('SELECT key_id, key_json FROM uk_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? ORDER BY key_id LIMIT 1')
      .get(userId, deviceId, algorithm) as { key_id: string; key_json: string } | undefined;
    if (row) this.st('DELETE FROM uk_one_time_keys WHERE user_id = ? AND device_id = ? AND algorithm = ? AND key_id = ?').run(userId, deviceId, algorithm, row.key_id);
    return row;
  }
  putFallbackKey(userId: string, deviceId: string, algorithm: string, keyId: string, json: string): void {
    this.st(
        `INSERT INTO uk_fallback_keys (user_id, device_id, algorithm, key_id, key_json, used) VALUES (?, ?, ?, ?, ?, 0)
         ON CONFLICT (user_id, device_id, algorithm) DO UPDATE SET
           used = CASE WHEN uk_fallback_keys.key_id = excluded.key_id AND uk_fallback_keys.key_json = excluded.key_json THEN uk_fallback_keys.used ELSE 0 END,
           key_id = excluded.key_id, key_json = excluded.key_json`,
      )
      .run(userId, deviceId, algorithm, keyId, json);
  }
  /** Returns the fallback key of the algorithm and marks it used (it stays claimable). */
  useFallbackKey(userId: string, deviceId: string, algorithm: string): { key_id: string; key_json: string } | undefined {
    const row = this.st('SELECT key_id, key_json FROM uk_fallback_keys WHERE user_id = ? AND device_id = ? AND algorithm = ?').get(userId, deviceId, algorithm) as
      | { key_id: string; key_json: string }
      | undefined;
    if (row) this.st('UPDATE uk_fallback_keys SET used = 1 WHERE user_id = ? AND device_id = ? AND algorithm = ?').run(userId, deviceId, algorithm);
    return row;
  }
  unusedFallbackKeyTypes(userId: string, deviceId: string): string[] {
    return (this.st('SELECT algorithm FROM uk_fallback_keys WHERE user_id = ? AND device_id = ? AND used = 0 ORDER BY algorithm').all(userId, deviceId) as Array<{ algorithm: string }>).map(
      (r) => r.algorithm,
    );
  }

  /** Everything of one device (it was deleted). */
  deleteDevice(userId: string, deviceId: string): boolean {
    const had = this.st('DELETE FROM uk_device_keys WHERE user_id = ? AND device_id = ?').run(userId, deviceId).changes > 0;
    this.st('DELETE FROM uk_one_time_keys WHERE user_id = ? AND device_id = ?').run(userId, deviceId);
    this.st('DELETE FROM uk_fallback_keys WHERE user_id = ? AND device_id = ?').run(userId, deviceId);
    this.st('DELETE FROM uk_signatures WHERE target_user = ? AND target_key = ?').run(userId, deviceId);
    return had;
  }

  // ---- cross-signing ----
  crossSigningKey(userId: string, type: string): { public_key: string; key_json: string } | undefined {
    return this.st('SELECT public_key, key_json FROM uk_cross_signing_keys WHERE user_id = ? AND key_type = ?').get(userId, type) as
      | { public_key: string; key_json: string }
      | undefined;
  }
  crossSigningKeyByPublic(userId: string, publicKey: string): { key_type: string; key_json: string } | undefined {
    return this.st('SELECT key_type, key_json FROM uk_cross_signing_keys WHERE user_id = ? AND public_key = ?').get(userId, publicKey) as
      | { key_type: string; key_json: string }
      | undefined;
  }
  putCrossSigningKey(userId: string, type: string, publicKey: string, json: string): void {
    // Signatures made on a replaced key no longer hold.
    const old = this.crossSigningKey(userId, type);
    if (old && old.public_key !== publicKey) this.st('DELETE FROM uk_signatures WHERE target_user = ? AND target_key = ?').run(userId, old.public_key);
    this.st(
        `INSERT INTO uk_cross_signing_keys (user_id, key_type, public_key, key_json) VALUES (?, ?, ?, ?)
         ON CONFLICT (user_id, key_type) DO UPDATE SET public_key = excluded.public_key, key_json = excluded.key_json`,
      )
      .run(userId, type, publicKey, json);
  }
  signatures(targetUser: string, targetKey: string): SignatureRow[] {
    return this.st('SELECT signer_user, signer_key_id, signature FROM uk_signatures WHERE target_user = ? AND target_key = ?').all(targetUser, targetKey) as SignatureRow[];
  }
  putSignature(targetUser: string, targetKey: string, signerUser: string, signerKeyId: string, signature: string): void {
    this.st(
        `INSERT INTO uk_signatures (target_user, target_key, signer_user, signer_key_id, signature) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (target_user, target_key, signer_user, signer_key_id) DO UPDATE SET signature = excluded.signature`,
      )
      .run(targetUser, targetKey, signerUser, signerKeyId, signature);
  }

  // ---- the change stream ----
  addChange(userId: string, deviceId: string | null, kind: 'device' | 'signing', deleted = false): number {
    return Number(this.st('INSERT INTO uk_changes (user_id, device_id, kind, deleted) VALUES (?, ?, ?, ?)').run(userId, deviceId, kind, deleted ? 1 : 0).lastInsertRowid);
  }
  changesAfter(after: number, limit: number): ChangeRow[] {
    return this.st('SELECT * FROM uk_changes WHERE id > ? ORDER BY id LIMIT ?').all(after, limit) as ChangeRow[];
  }
  changedUsers(after: number, upTo: number): string[] {
    return (this.st('SELECT DISTINCT user_id FROM uk_changes WHERE id > ? AND id <= ?').all(after, upTo) as Array<{ user_id: string }>).map((r) => r.user_id);
  }
  previousChange(userId: string, id: number): number | undefined {
    return (this.st('SELECT MAX(id) AS m FROM uk_changes WHERE user_id = ? AND id < ?').get(userId, id) as { m: number | null }).m ?? undefined;
  }
  changeHead(): number {
    return (this.st('SELECT MAX(id) AS m FROM uk_changes').get() as { m: number | null }).m ?? 0;
  }

  // ---- remote users' keys ----
  remoteKeys(userId: string): RemoteKeysRow | undefined {
    return this.st('SELECT * FROM uk_remote_keys WHERE user_id = ?').get(userId) as RemoteKeysRow | undefined;
  }
  putRemoteKeys(userId: string, json: string, streamId: number | null): void {
    this.st(
      `INSERT INTO uk_remote_keys (user_id, keys_json, stream_id, stale) VALUES (?, ?, ?, 0)
       ON CONFLICT (user_id) DO UPDATE SET keys_json = excluded.keys_json, stream_id = excluded.stream_id, stale = 0`,
    ).run(userId, json, streamId);
  }
  markRemoteStale(userId: string): void {
    this.st('UPDATE uk_remote_keys SET stale = 1 WHERE user_id = ?').run(userId);
  }
  deleteRemoteKeys(userId: string): void {
    this.st('DELETE FROM uk_remote_keys WHERE user_id = ?').run(userId);
  }

  // ---- key backup ----
  backupVersion(userId: string, version?: number): BackupVersionRow | undefined {
    return (
      version === undefined
        ? this.st('SELECT * FROM uk_backup_versions WHERE user_id = ? AND deleted = 0 ORDER BY version DESC LIMIT 1').get(userId)
        : this.st('SELECT * FROM uk_backup_versions WHERE user_id = ? AND version = ? AND deleted = 0').get(userId, version)
    ) as BackupVersionRow | undefined;
  }
  createBackupVersion(userId: string, algorithm: string, authData: string): number {
    const max = (this.st('SELECT MAX(version) AS m FROM uk_backup_versions WHERE user_id = ?').get(userId) as { m: number | null }).m ?? 0;
    this.st('INSERT INTO uk_backup_versions (user_id, version, algorithm, auth_data, etag) VALUES (?, ?, ?, ?, 0)').run(userId, max + 1, algorithm, authData);
    return max + 1;
  }
  updateBackupAuthData(userId: string, version: number, authData: string): void {
    this.st('UPDATE uk_backup_versions SET auth_data = ? WHERE user_id = ? AND version = ?').run(authData, userId, version);
  }
  deleteBackupVersion(userId: string, version: number): boolean {
    this.st('DELETE FROM uk_backup_keys WHERE user_id = ? AND version = ?').run(userId, version);
    return this.st('UPDATE uk_backup_versions SET deleted = 1 WHERE user_id = ? AND version = ? AND deleted = 0').run(userId, version).changes > 0;
  }
  bumpEtag(userId: string, version: number): void {
    this.st('UPDATE uk_backup_versions SET etag = etag + 1 WHERE user_id = ? AND version = ?').run(userId, version);
  }
  backupCount(userId: string, version: number): number {
    return (this.st('SELECT COUNT(*) AS n FROM uk_backup_keys WHERE user_id = ? AND version = ?').get(userId, version) as { n: number }).n;
  }
  backupKey(userId: string, version: number, roomId: string, sessionId: string): BackupKeyRow | undefined {
    return this.st('SELECT room_id, session_id, first_message_index, forwarded_count, is_verified, session_data FROM uk_backup_keys WHERE user_id = ? AND version = ? AND room_id = ? AND session_id = ?')
      .get(userId, version, roomId, sessionId) as BackupKeyRow | undefined;
  }
  backupKeys(userId: string, version: number, roomId?: string): BackupKeyRow[] {
    const cols = 'room_id, session_id, first_message_index, forwarded_count, is_verified, session_data';
    return (
      roomId === undefined
        ? this.st(`SELECT ${cols} FROM uk_backup_keys WHERE user_id = ? AND version = ? ORDER BY room_id, session_id`).all(userId, version)
        : this.st(`SELECT ${cols} FROM uk_backup_keys WHERE user_id = ? AND version = ? AND room_id = ? ORDER BY session_id`).all(userId, version, roomId)
    ) as BackupKeyRow[];
  }
  putBackupKey(userId: string, version: number, k: BackupKeyRow): void {
    this.st(
        `INSERT INTO uk_backup_keys (user_id, version, room_id, session_id, first_message_index, forwarded_count, is_verified, session_data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (user_id, version, room_id, session_id) DO UPDATE SET first_message_index = excluded.first_message_index,
           forwarded_count = excluded.forwarded_count, is_verified = excluded.is_verified, session_data = excluded.session_data`,
      )
      .run(userId, version, k.room_id, k.session_id, k.first_message_index, k.forwarded_count, k.is_verified, k.session_data);
  }
  deleteBackupKeys(userId: string, version: number, roomId?: string, sessionId?: string): number {
    if (roomId === undefined) return this.st('DELETE FROM uk_backup_keys WHERE user_id = ? AND version = ?').run(userId, version).changes;
    if (sessionId === undefined) return this.st('DELETE FROM uk_backup_keys WHERE user_id = ? AND version = ? AND room_id = ?').run(userId, version, roomId).changes;
    return this.st('DELETE FROM uk_backup_keys WHERE user_id = ? AND version = ? AND room_id = ? AND session_id = ?').run(userId, version, roomId, sessionId).changes;
  }
}
