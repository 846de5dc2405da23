import type { Db } from '../../db/index.js';
import type { JsonObject } from '../../events/types.js';
import { MatrixError, notFound } from '../../http/index.js';
import type { BackupKeyRow, BackupVersionRow, KeyStorage } from './storage.js';

/** KeyBackupData from the spec. */
export interface BackupKeyData {
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
  session_data: JsonObject;
}

export type RoomSessions = Record<string, Record<string, BackupKeyData>>;

/** Version numbers are positive integers in decimal; anything else names no backup. */
function parseVersion(v: string): number | undefined {
  return /^[1-9][0-9]{0,14}$/.test(v) ? Number(v) : undefined;
}

function dataOf(r: BackupKeyRow): BackupKeyData {
  return { first_message_index: r.first_message_index, forwarded_count: r.forwarded_count, is_verified: r.is_verified === 1, session_data: JSON.parse(r.session_data) as JsonObject };
}

/** The spec's rule: a verified key beats an unverified one, then the lower
 * first_message_index, then the lower forwarded_count. */
export function isBetter(k: BackupKeyData, old: BackupKeyRow | undefined): boolean {
  if (!old) return true;
  if (k.is_verified !== (old.is_verified === 1)) return k.is_verified;
  if (k.first_message_index !== old.first_message_index) return k.first_message_index < old.first_message_index;
  return k.forwarded_count < old.forwarded_count;
}

/** Server-side key backup (/room_keys): versions of opaque backups and their session keys. */
export class KeyBackup {
  constructor(
    private readonly db: Db,
    private readonly store: KeyStorage,
  ) {}

  private versionRow(userId: string, version: string | undefined): BackupVersionRow {
    const v = version === undefined ? undefined : parseVersion(version);
    const row = version !== undefined && v === undefined ? undefined : this.store.backupVersion(userId, v);
    if (!row) throw notFound(version === undefined ? 'No current backup version' : `Unknown backup version ${version}`);
    return row;
  }

  private info(row: BackupVersionRow): JsonObject {
    return { algorithm: row.algorithm, auth_data: JSON.parse(row.auth_data) as JsonObject, count: this.store.backupCount(row.user_id, row.version), etag: String(row.etag), version: String(row.version) };
  }

  create(userId: string, algorithm: string, authData: JsonObject): { version: string } {
    return { version: String(this.db.transaction(() => this.store.createBackupVersion(userId, algorithm, JSON.stringify(authData)))) };
  }

  get(userId: string, version?: string): JsonObject {
    return this.info(this.versionRow(userId, version));
  }

  update(userId: string, version: string, algorithm: string, authData: JsonObject, bodyVersion: string | undefined): void {
    const row = this.versionRow(userId, version);
    if (bodyVersion !== undefined && bodyVersion !== version) throw new MatrixError(400, 'M_INVALID_PARAM', 'version in the body does not match the path');
    if (algorithm !== row.algorithm) throw new MatrixError(400, 'M_INVALID_PARAM', 'The algorithm of a backup version cannot change');
    this.store.updateBackupAuthData(userId, row.version, JSON.stringify(authData));
  }

  delete(userId: string, version: string): void {
    const row = this.versionRow(userId, version);
    this.db.transaction(() => this.store.deleteBackupVersion(userId, row.version));
  }

  /** Only the current (latest) version takes new keys. */
  private writable(userId: string, version: string): BackupVersionRow {
    const current = this.store.backupVersion(userId);
    const v = parseVersion(version);
    if (v !== undefined && current && current.version === v) return current;
    if (v === undefined || !this.store.backupVersion(userId, v)) throw notFound(`Unknown backup version ${version}`);
    throw new MatrixError(403, 'M_WRONG_ROOM_KEYS_VERSION', 'Wrong backup version', { current_version: String(current!.version) });
  }

  put(userId: string, version: string, rooms: RoomSessions): { etag: string; count: number } {
    return this.db.transaction(() => {
      const row = this.writable(userId, version);
      let changed = false;
      for (const [roomId, sessions] of Object.entries(rooms)) {
        for (const [sessionId, k] of Object.entries(sessions)) {
          if (!isBetter(k, this.store.backupKey(userId, row.version, roomId, sessionId))) continue;
          this.store.putBackupKey(userId, row.version, {
            room_id: roomId,
            session_id: sessionId,
            first_message_index: k.first_message_index,
            forwarded_count: k.forwarded_count,
            is_verified: k.is_verified ? 1 : 0,
            session_data: JSON.stringify(k.session_data),
          });
          changed = true;
        }
      }
      if (changed) this.store.bumpEtag(userId, row.version);
      return { etag: String(row.etag + (changed ? 1 : 0)), count: this.store.backupCount(userId, row.version) };
    });
  }

  getKeys(userId: string, version: string, roomId?: string, sessionId?: string): JsonObject {
    const row = this.versionRow(userId, version);
    if (roomId !== undefined && sessionId !== undefined) {
      const k = this.store.backupKey(userId, row.version, roomId, sessionId);
      if (!k) throw notFound('No key for this session');
      return dataOf(k) as unknown as JsonObject;
    }
    const rooms: Record<string, { sessions: Record<string, BackupKeyData> }> = {};
    for (const k of this.store.backupKeys(userId, row.version, roomId)) (rooms[k.room_id] ??= { sessions: {} }).sessions[k.session_id] = dataOf(k);
    if (roomId !== undefined) return (rooms[roomId] ?? { sessions: {} }) as unknown as JsonObject;
    return { rooms } as unknown as JsonObject;
  }

  deleteKeys(userId: string, version: string, roomId?: string, sessionId?: string): { etag: string; count: number } {
    return this.db.transaction(() => {
      const row = this.versionRow(userId, version);
      const n = this.store.deleteBackupKeys(userId, row.version, roomId, sessionId);
      if (n > 0) this.store.bumpEtag(userId, row.version);
      return { etag: String(row.etag + (n > 0 ? 1 : 0)), count: this.store.backupCount(userId, row.version) };
    });
  }
}
