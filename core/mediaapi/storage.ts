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

  constructor(
    db: Db,
    readonly dir: string,
  ) {
    db.migrate('mediaapi', MIGRATIONS);
    this.insertRow = db.raw.prepare<[string, string, string, string | null, number, string, number]>(
      'INSERT INTO mr_media (origin, media_id, content_type, upload_name, size, user_id, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.getRow = db.raw.prepare<[string, string], Row>('SELECT * FROM mr_media WHERE origin = ? AND media_id = ?');
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
    const tmp = `${file}.${process.pid}.tmp`;
    await fs.promises.writeFile(tmp, bytes);
    await fs.promises.rename(tmp, file);
    this.insertRow.run(m.origin, m.mediaId, m.contentType, m.uploadName, m.size, m.userId, m.createdTs);
  }

  get(origin: string, mediaId: string): MediaInfo | undefined {
    const r = this.getRow.get(origin, mediaId);
    return r && info(r);
  }
}
