import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/index.js';
import type { MediaInfo } from './api.js';

const MIGRATIONS = [
  {
    version: 1,
    up: (db: import('better-sqlite3').Database) =>
      db.exec(`CREATE TABLE mr_media (
        origin TEXT NOT NULL,
        media_id TEXT NOT NULL,
        content_type TEXT NOT NULL,
        upload_name TEXT,
        size INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        created_ts INTEGER NOT NULL,
        PRIMARY KEY (origin, media_id)) WITHOUT ROWID`),
  },
  {
    // Media ids handed out by /media/v1/create, waiting for their upload.
    version: 2,
    up: (db: import('better-sqlite3').Database) =>
      db.exec(`CREATE TABLE mr_pending (media_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_ts INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX mr_pending_user ON mr_pending (user_id, expires_ts);`),
  },
];

interface Row {
  origin: string;
  media_id: string;
  content_type: string;
  upload_name: string | null;
  size: number;
  user_id: string;
  created_ts: number;
}

const info = (r: Row): MediaInfo => ({
  origin: r.origin,
  mediaId: r.media_id,
  contentType: r.content_type,
  uploadName: r.upload_name,
  size: r.size,
  userId: r.user_id,
  createdTs: r.created_ts,
});

/**
 * Media files in the data folder (`media/<origin>/<ab>/<cd>/<id>`), their metadata in the
 * database. A file is written and renamed into place before its row is committed, so a row
 * never points at a partial file; a crash in between leaves only an unreferenced file.
 */
export class MediaStorage {
  private readonly insertRow;
  private readonly getRow;
  private readonly insertPending;
  private readonly getPending;
  private readonly countPending;
  private readonly deletePending;
  private readonly prunePending;

  constructor(
    private readonly db: Db,
    readonly dir: string,
  ) {
    db.migrate('mediaapi', MIGRATIONS);
    this.insertRow = db.raw.prepare<[string, string, string, string | null, number, string, number]>(
      'INSERT INTO mr_media (origin, media_id, content_type, upload_name, size, user_id, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.getRow = db.raw.prepare<[string, string], Row>('SELECT * FROM mr_media WHERE origin = ? AND media_id = ?');
    this.insertPending = db.raw.prepare<[string, string, number]>('INSERT INTO mr_pending (media_id, user_id, expires_ts) VALUES (?, ?, ?)');
    this.getPending = db.raw.prepare<[string], { user_id: string; expires_ts: number }>('SELECT user_id, expires_ts FROM mr_pending WHERE media_id = ?');
    this.countPending = db.raw.prepare<[string, number], { n: number }>('SELECT COUNT(*) AS n FROM mr_pending WHERE user_id = ? AND expires_ts > ?');
    this.deletePending = db.raw.prepare<[string]>('DELETE FROM mr_pending WHERE media_id = ?');
    this.prunePending = db.raw.prepare<[number]>('DELETE FROM mr_pending WHERE expires_ts <= ?');
  }

  /** Reserves a media id for a later upload by `userId`, until `expiresTs`. */
  reserve(mediaId: string, userId: string, expiresTs: number, now: number): void {
    this.prunePending.run(now);
    this.insertPending.run(mediaId, userId, expiresTs);
  }

  /** Who reserved a media id, while the reservation lasts. */
  reservation(mediaId: string, now: number): { userId: string; expiresTs: number } | undefined {
    const r = this.getPending.get(mediaId);
    return r && r.expires_ts > now ? { userId: r.user_id, expiresTs: r.expires_ts } : undefined;
  }

  /** How many reservations of the user still wait for their upload. */
  reservations(userId: string, now: number): number {
    return this.countPending.get(userId, now)!.n;
  }

  /** Where a media item's bytes live. Ids are checked by the caller (URL-safe base64). */
  file(origin: string, mediaId: string): string {
    return path.join(this.dir, origin, mediaId.slice(0, 2), mediaId.slice(2, 4), mediaId);
  }

  /** The folder of a media item's thumbnails. */
  thumbnailDir(origin: string, mediaId: string): string {
    return path.join(this.dir, 'thumbnails', origin, mediaId.slice(0, 2), mediaId.slice(2, 4), mediaId);
  }

  async put(m: MediaInfo, bytes: Uint8Array): Promise<void> {
    const file = this.file(m.origin, m.mediaId);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await fs.promises.writeFile(tmp, bytes);
    await fs.promises.rename(tmp, file);
    this.db.transaction(() => {
      this.insertRow.run(m.origin, m.mediaId, m.contentType, m.uploadName, m.size, m.userId, m.createdTs);
      this.deletePending.run(m.mediaId);
    });
  }

  /** Bytes of media kept for servers other than `ours`. */
  keptBytes(ours: string): number {
    return (this.db.raw.prepare<[string], { n: number | null }>('SELECT SUM(size) AS n FROM mr_media WHERE origin != ?').get(ours)?.n ?? 0);
  }

  /** The oldest kept copies of other servers' media, oldest first. */
  oldestKept(ours: string, limit: number): MediaInfo[] {
    return this.db.raw
      .prepare<[string, number], Row>('SELECT * FROM mr_media WHERE origin != ? ORDER BY created_ts LIMIT ?')
      .all(ours, limit)
      .map(info);
  }

  /** Forgets a media item: its row, its file and its thumbnails. */
  async remove(origin: string, mediaId: string): Promise<void> {
    this.db.transaction(() => this.db.raw.prepare<[string, string]>('DELETE FROM mr_media WHERE origin = ? AND media_id = ?').run(origin, mediaId));
    await fs.promises.rm(this.file(origin, mediaId), { force: true });
    await fs.promises.rm(this.thumbnailDir(origin, mediaId), { recursive: true, force: true });
  }

  get(origin: string, mediaId: string): MediaInfo | undefined {
    const r = this.getRow.get(origin, mediaId);
    return r && info(r);
  }
}
