import type Database from 'better-sqlite3';
import type { Migration } from '../db/index.js';

export const USERAPI_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) => {
      db.exec(`
        CREATE TABLE ua_accounts (
          localpart TEXT PRIMARY KEY,
          password_hash TEXT,
          created_ts INTEGER NOT NULL,
          is_admin INTEGER NOT NULL DEFAULT 0,
          deactivated INTEGER NOT NULL DEFAULT 0,
          displayname TEXT,
          avatar_url TEXT
        );
        CREATE TABLE ua_devices (
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          display_name TEXT,
          created_ts INTEGER NOT NULL,
          last_seen_ts INTEGER,
          last_seen_ip TEXT,
          PRIMARY KEY (user_id, device_id)
        );
        CREATE TABLE ua_access_tokens (
          token_hash TEXT PRIMARY KEY,
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          created_ts INTEGER NOT NULL,
          expires_ts INTEGER,
          refresh_hash TEXT UNIQUE
        );
        CREATE INDEX ua_access_tokens_device ON ua_access_tokens (user_id, device_id);
        CREATE TABLE ua_account_data_stream (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL,
          type TEXT NOT NULL
        );
        CREATE TABLE ua_account_data (
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL,
          type TEXT NOT NULL,
          content TEXT NOT NULL,
          stream_id INTEGER NOT NULL,
          PRIMARY KEY (user_id, room_id, type)
        );
        CREATE TABLE ua_filters (
          user_id TEXT NOT NULL,
          filter_id INTEGER NOT NULL,
          filter TEXT NOT NULL,
          PRIMARY KEY (user_id, filter_id)
        );
      `);
    },
  },
  {
    // The user agent of a device's last request, for the admin whois API.
    version: 2,
    up: (db) => db.exec('ALTER TABLE ua_devices ADD COLUMN last_seen_user_agent TEXT'),
  },
];

export interface AccountRow {
  localpart: string;
  password_hash: string | null;
  is_admin: number;
  deactivated: number;
  displayname: string | null;
  avatar_url: string | null;
}

export interface DeviceRow {
  device_id: string;
  display_name: string | null;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
  last_seen_user_agent: string | null;
}

export interface TokenRow {
  token_hash: string;
  user_id: string;
  device_id: string;
  expires_ts: number | null;
  is_admin: number;
}

export interface StreamRow {
  id: number;
  user_id: string;
  room_id: string;
  type: string;
}

/** The user API's tables, behind prepared statements. Room id '' stands for global account data. */
export class UserApiStorage {
  private readonly s;

  constructor(readonly db: Database.Database) {
    this.s = {
      searchAccounts: db.prepare<[string, string, string, number], AccountRow>(
        `SELECT localpart, password_hash, is_admin, deactivated, displayname, avatar_url FROM ua_accounts
         WHERE deactivated = 0 AND ('@' || localpart || ':' || ? LIKE ? ESCAPE '\\' OR displayname LIKE ? ESCAPE '\\') ORDER BY localpart LIMIT ?`,
      ),
      account: db.prepare<[string], AccountRow>('SELECT localpart, password_hash, is_admin, deactivated, displayname, avatar_url FROM ua_accounts WHERE localpart = ?'),
      insertAccount: db.prepare<[string, string | null, number, number, string | null]>(
        'INSERT INTO ua_accounts (localpart, password_hash, created_ts, is_admin, displayname) VALUES (?, ?, ?, ?, ?)',
      ),
      setPassword: db.prepare<[string, string]>('UPDATE ua_accounts SET password_hash = ? WHERE localpart = ?'),
      deactivate: db.prepare<[string]>('UPDATE ua_accounts SET deactivated = 1, password_hash = NULL WHERE localpart = ?'),
      setDisplayname: db.prepare<[string | null, string]>('UPDATE ua_accounts SET displayname = ? WHERE localpart = ?'),
      setAvatar: db.prepare<[string | null, string]>('UPDATE ua_accounts SET avatar_url = ? WHERE localpart = ?'),
      devices: db.prepare<[string], DeviceRow>('SELECT device_id, display_name, last_seen_ts, last_seen_ip, last_seen_user_agent FROM ua_devices WHERE user_id = ? ORDER BY device_id'),
      device: db.prepare<[string, string], DeviceRow>('SELECT device_id, display_name, last_seen_ts, last_seen_ip, last_seen_user_agent FROM ua_devices WHERE user_id = ? AND device_id = ?'),
      insertDevice: db.prepare<[string, string, string | null, number]>(
        'INSERT INTO ua_devices (user_id, device_id, display_name, created_ts) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, device_id) DO NOTHING',
      ),
      setDeviceName: db.prepare<[string | null, string, string]>('UPDATE ua_devices SET display_name = ? WHERE user_id = ? AND device_id = ?'),
      deleteDevice: db.prepare<[string, string]>('DELETE FROM ua_devices WHERE user_id = ? AND device_id = ?'),
      token: db.prepare<[string], TokenRow>(
        `SELECT t.token_hash, t.user_id, t.device_id, t.expires_ts, a.is_admin FROM ua_access_tokens t
         JOIN ua_accounts a ON a.localpart = substr(t.user_id, 2, instr(t.user_id, ':') - 2)
         WHERE t.token_hash = ? AND a.deactivated = 0`,
      ),
      tokenByRefresh: db.prepare<[string], TokenRow>(
        `SELECT t.token_hash, t.user_id, t.device_id, t.expires_ts, 0 AS is_admin FROM ua_access_tokens t WHERE t.refresh_hash = ?`,
      ),
      insertToken: db.prepare<[string, string, string, number, number | null, string | null]>(
        'INSERT INTO ua_access_tokens (token_hash, user_id, device_id, created_ts, expires_ts, refresh_hash) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      deleteToken: db.prepare<[string]>('DELETE FROM ua_access_tokens WHERE token_hash = ?'),
      deviceTokens: db.prepare<[string, string], { token_hash: string }>('SELECT token_hash FROM ua_access_tokens WHERE user_id = ? AND device_id = ?'),
      deleteDeviceTokens: db.prepare<[string, string]>('DELETE FROM ua_access_tokens WHERE user_id = ? AND device_id = ?'),
      accountData: db.prepare<[string, string, string], { content: string }>('SELECT content FROM ua_account_data WHERE user_id = ? AND room_id = ? AND type = ?'),
      insertStream: db.prepare<[string, string, string]>('INSERT INTO ua_account_data_stream (user_id, room_id, type) VALUES (?, ?, ?)'),
      upsertAccountData: db.prepare<[string, string, string, string, number]>(
        `INSERT INTO ua_account_data (user_id, room_id, type, content, stream_id) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (user_id, room_id, type) DO UPDATE SET content = excluded.content, stream_id = excluded.stream_id`,
      ),
      streamAfter: db.prepare<[number, number], StreamRow>('SELECT id, user_id, room_id, type FROM ua_account_data_stream WHERE id > ? ORDER BY id LIMIT ?'),
      streamHead: db.prepare<[], { id: number | null }>('SELECT MAX(id) AS id FROM ua_account_data_stream'),
      nextFilterId: db.prepare<[string], { n: number | null }>('SELECT MAX(filter_id) AS n FROM ua_filters WHERE user_id = ?'),
      insertFilter: db.prepare<[string, number, string]>('INSERT INTO ua_filters (user_id, filter_id, filter) VALUES (?, ?, ?)'),
      filter: db.prepare<[string, number], { filter: string }>('SELECT filter FROM ua_filters WHERE user_id = ? AND filter_id = ?'),
    };
  }

  account(localpart: string): AccountRow | undefined {
    return this.s.account.get(localpart);
  }

  /** Active accounts whose user id or display name contains `term` (ASCII case-insensitive). */
  searchAccounts(serverName: string, term: string, limit: number): AccountRow[] {
    const like = `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    return this.s.searchAccounts.all(serverName, like, like, limit);
  }

  insertAccount(localpart: string, passwordHash: string | null, isAdmin: boolean, displayname: string | null): void {
    this.s.insertAccount.run(localpart, passwordHash, Date.now(), isAdmin ? 1 : 0, displayname);
  }

  setPassword(localpart: string, hash: string): void {
    this.s.setPassword.run(hash, localpart);
  }

  deactivate(localpart: string): void {
    this.s.deactivate.run(localpart);
  }

  setDisplayname(localpart: string, v: string | null): void {
    this.s.setDisplayname.run(v, localpart);
  }

  setAvatarUrl(localpart: string, v: string | null): void {
    this.s.setAvatar.run(v, localpart);
  }

  devices(userId: string): DeviceRow[] {
    return this.s.devices.all(userId);
  }

  device(userId: string, deviceId: string): DeviceRow | undefined {
    return this.s.device.get(userId, deviceId);
  }

  insertDevice(userId: string, deviceId: string, displayName: string | null): void {
    this.s.insertDevice.run(userId, deviceId, displayName, Date.now());
  }

  setDeviceName(userId: string, deviceId: string, name: string | null): void {
    this.s.setDeviceName.run(name, userId, deviceId);
  }

  /** Deletes the device and its tokens; returns the hashes of the tokens removed. */
  deleteDevice(userId: string, deviceId: string): string[] {
    const hashes = this.deleteDeviceTokens(userId, deviceId);
    this.s.deleteDevice.run(userId, deviceId);
    return hashes;
  }

  deleteDeviceTokens(userId: string, deviceId: string): string[] {
    const hashes = this.s.deviceTokens.all(userId, deviceId).map((r) => r.token_hash);
    this.s.deleteDeviceTokens.run(userId, deviceId);
    return hashes;
  }

  /** A live token (its account not deactivated); expiry is the caller's to check. */
  token(hash: string): TokenRow | undefined {
    return this.s.token.get(hash);
  }

  tokenByRefresh(refreshHash: string): TokenRow | undefined {
    return this.s.tokenByRefresh.get(refreshHash);
  }

  insertToken(hash: string, userId: string, deviceId: string, expiresTs: number | null, refreshHash: string | null): void {
    this.s.insertToken.run(hash, userId, deviceId, Date.now(), expiresTs, refreshHash);
  }

  deleteToken(hash: string): void {
    this.s.deleteToken.run(hash);
  }

  accountData(userId: string, roomId: string, type: string): string | undefined {
    return this.s.accountData.get(userId, roomId, type)?.content;
  }

  /** Stores account data with a new stream position; returns the position. */
  putAccountData(userId: string, roomId: string, type: string, content: string): number {
    const id = Number(this.s.insertStream.run(userId, roomId, type).lastInsertRowid);
    this.s.upsertAccountData.run(userId, roomId, type, content, id);
    return id;
  }

  streamAfter(after: number, limit: number): StreamRow[] {
    return this.s.streamAfter.all(after, limit);
  }

  streamHead(): number {
    return this.s.streamHead.get()?.id ?? 0;
  }

  insertFilter(userId: string, filter: string): number {
    const id = (this.s.nextFilterId.get(userId)?.n ?? -1) + 1;
    this.s.insertFilter.run(userId, id, filter);
    return id;
  }

  filter(userId: string, filterId: number): string | undefined {
    return this.s.filter.get(userId, filterId)?.filter;
  }
}
