import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Db } from '../db/index.js';
import { MatrixError, forbidden, notFound } from '../http/index.js';
import type { Logger } from '../logger.js';
import type { MediaAPI, MediaInfo } from './api.js';
import { MediaStorage } from './storage.js';
import { THUMBNAILABLE, thumbnail, type Thumbnail, type ThumbnailMethod } from './thumbnail.js';

export { mediaEndpoints, mediaFederationEndpoints } from './routes.js';
export type { MediaAPI, MediaInfo } from './api.js';

/** How long a created media id waits for its upload (the spec's recommendation). */
export const PENDING_UPLOAD_MS = 24 * 60 * 60 * 1000;
/** Created media ids a user may have waiting at once. */
export const MAX_PENDING_UPLOADS = 10;
/** How long a download waits for a pending upload: the spec's default, and at most. */
const DEFAULT_WAIT_MS = 20_000;
const MAX_WAIT_MS = 120_000;

export interface MediaApiDeps {
  db: Db;
  logger: Logger;
  serverName: string;
  /** The folder media files are kept in (`<data>/media`). */
  dir: string;
  maxUploadBytes: number;
  /** How many bytes of other servers' media to keep; the oldest copies go past it. */
  remoteCacheBytes: number;
}

/** Fetches a media item from the server that has it; undefined if it has none. */
export type RemoteMediaFetcher = (origin: string, mediaId: string, maxBytes: number) => Promise<{ bytes: Buffer; contentType: string; disposition?: string } | undefined>;

/** The file name a Content-Disposition header gives, if any. */
export function dispositionFileName(disposition: string | undefined): string | undefined {
  if (!disposition) return undefined;
  const star = /filename\*\s*=\s*utf-8''([^;\s]+)/i.exec(disposition);
  if (star) {
    try {
      return decodeURIComponent(star[1]!);
    } catch {
      // fall through to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(disposition);
  return plain ? (plain[1] ?? plain[2]) : undefined;
}

/** The media repository: uploads of this node's users, stored in the data folder, served to
 * authenticated clients with thumbnails of images; other servers' media fetched over
 * federation on first use and kept. */
export class MediaApi implements MediaAPI {
  readonly maxUploadBytes: number;
  readonly serverName: string;
  /** Set once federation exists; without it only this node's media is found. */
  remote: RemoteMediaFetcher | undefined;
  private readonly storage: MediaStorage;
  /** Bytes of other servers' media kept now. */
  private kept: number;
  private pruning: Promise<void> | undefined;
  private readonly fetching = new Map<string, Promise<MediaInfo | undefined>>();
  /** Downloads waiting for the upload of a reserved media id. */
  private readonly waiting = new Map<string, Array<() => void>>();

  constructor(private readonly deps: MediaApiDeps) {
    this.maxUploadBytes = deps.maxUploadBytes;
    this.serverName = deps.serverName;
    this.storage = new MediaStorage(deps.db, deps.dir);
    this.kept = this.storage.keptBytes(deps.serverName);
  }

  async upload(userId: string, bytes: Uint8Array, contentType: string, uploadName: string | undefined): Promise<string> {
    const mediaId = randomBytes(18).toString('base64url');
    await this.store(mediaId, userId, bytes, contentType, uploadName);
    return mediaId;
  }

  private async store(mediaId: string, userId: string, bytes: Uint8Array, contentType: string, uploadName: string | undefined): Promise<void> {
    const info: MediaInfo = { origin: this.serverName, mediaId, contentType, uploadName: uploadName ?? null, size: bytes.byteLength, userId, createdTs: Date.now() };
    await this.storage.put(info, bytes);
    this.deps.logger.debug({ media_id: mediaId, size: info.size, user_id: userId }, 'media uploaded');
    for (const wake of this.waiting.get(mediaId) ?? []) wake();
    this.waiting.delete(mediaId);
  }

  /** POST /media/v1/create: a media id for the user to upload to within a day. 429 while
   * the user has too many waiting. */
  create(userId: string, now = Date.now()): { mediaId: string; expiresTs: number } {
    if (this.storage.reservations(userId, now) >= MAX_PENDING_UPLOADS) {
      throw new MatrixError(429, 'M_LIMIT_EXCEEDED', `At most ${MAX_PENDING_UPLOADS} uploads may be waiting`, { retry_after_ms: 60_000 });
    }
    const mediaId = randomBytes(18).toString('base64url');
    const expiresTs = now + PENDING_UPLOAD_MS;
    this.storage.reserve(mediaId, userId, expiresTs, now);
    return { mediaId, expiresTs };
  }

  /** PUT /media/v3/upload/{serverName}/{mediaId}: the upload to a created media id, by the
   * user who created it, once. */
  async uploadTo(userId: string, mediaId: string, bytes: Uint8Array, contentType: string, uploadName: string | undefined): Promise<void> {
    if (this.storage.get(this.serverName, mediaId)) throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    const reserved = this.storage.reservation(mediaId, Date.now());
    if (!reserved) throw notFound('Unknown or expired media id');
    if (reserved.userId !== userId) throw forbidden('This media id was created by another user');
    await this.store(mediaId, userId, bytes, contentType, uploadName);
  }

  info(origin: string, mediaId: string): MediaInfo | undefined {
    return this.storage.get(origin, mediaId);
  }

  /** The media item, fetched from its server first when it is another's and not kept yet.
   * A created one still waiting for its upload is waited for up to `timeoutMs`, then 504
   * M_NOT_YET_UPLOADED. */
  async find(origin: string, mediaId: string, timeoutMs = DEFAULT_WAIT_MS): Promise<MediaInfo | undefined> {
    const known = this.storage.get(origin, mediaId);
    if (!known && origin === this.serverName && this.storage.reservation(mediaId, Date.now())) return this.awaitUpload(mediaId, timeoutMs);
    if (known || origin === this.serverName || !this.remote) return known;
    const key = `${origin}/${mediaId}`;
    let p = this.fetching.get(key);
    if (!p) {
      p = this.fetchRemote(origin, mediaId).finally(() => this.fetching.delete(key));
      this.fetching.set(key, p);
    }
    return p;
  }

  private async awaitUpload(mediaId: string, timeoutMs: number): Promise<MediaInfo> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, Math.min(timeoutMs, MAX_WAIT_MS));
      timer.unref();
      const list = this.waiting.get(mediaId) ?? [];
      list.push(done);
      this.waiting.set(mediaId, list);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
    });
    const info = this.storage.get(this.serverName, mediaId);
    if (!info) throw new MatrixError(504, 'M_NOT_YET_UPLOADED', 'The media has not been uploaded yet');
    return info;
  }

  private async fetchRemote(origin: string, mediaId: string): Promise<MediaInfo | undefined> {
    const got = await this.remote!(origin, mediaId, this.maxUploadBytes);
    if (!got) return undefined;
    // Fetched while another request for it waited on the same promise: stored once.
    const info: MediaInfo = {
      origin,
      mediaId,
      contentType: got.contentType.slice(0, 255),
      uploadName: dispositionFileName(got.disposition)?.slice(0, 255) ?? null,
      size: got.bytes.byteLength,
      userId: '',
      createdTs: Date.now(),
    };
    await this.storage.put(info, got.bytes);
    this.kept += info.size;
    if (this.kept > this.deps.remoteCacheBytes) this.pruning ??= this.pruneKept().finally(() => (this.pruning = undefined));
    return info;
  }

  /** Drops the oldest copies of other servers' media until they fit in 90% of the limit
   * (they are fetched again when asked for). */
  private async pruneKept(): Promise<void> {
    const target = this.deps.remoteCacheBytes * 0.9;
    while (this.kept > target) {
      const oldest = this.storage.oldestKept(this.serverName, 100);
      if (oldest.length === 0) break;
      for (const m of oldest) {
        if (this.kept <= target) break;
        await this.storage.remove(m.origin, m.mediaId);
        this.kept -= m.size;
      }
    }
    this.kept = Math.max(0, this.kept);
  }

  /** Resolves once dropping old copies of other servers' media, if running, is done. */
  async settled(): Promise<void> {
    await this.pruning;
  }

  async download(origin: string, mediaId: string, timeoutMs?: number): Promise<{ info: MediaInfo; bytes: Buffer } | undefined> {
    const info = await this.find(origin, mediaId, timeoutMs);
    if (!info) return undefined;
    try {
      return { info, bytes: await fs.promises.readFile(this.storage.file(origin, mediaId)) };
    } catch (e) {
      // A kept copy dropped just now to make room: fetch it again.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || origin === this.serverName) throw e;
      const again = await this.find(origin, mediaId, timeoutMs);
      return again && { info: again, bytes: await fs.promises.readFile(this.storage.file(origin, mediaId)) };
    }
  }

  /** A thumbnail of a stored image; undefined when the media is unknown, null when it is
   * not an image this node can thumbnail. */
  async thumbnail(origin: string, mediaId: string, width: number, height: number, method: ThumbnailMethod, timeoutMs?: number): Promise<Thumbnail | undefined | null> {
    const info = await this.find(origin, mediaId, timeoutMs);
    if (!info) return undefined;
    if (!THUMBNAILABLE.has(info.contentType)) return null;
    try {
      return await thumbnail(this.storage.file(origin, mediaId), info.contentType, width, height, method, this.storage.thumbnailDir(origin, mediaId));
    } catch (err) {
      // A file named an image that is not one (or is too large to decode).
      this.deps.logger.info({ err: (err as Error).message, media_id: mediaId }, 'cannot thumbnail media');
      return null;
    }
  }

  /** The media folder of a data folder. */
  static dirOf(dataDir: string): string {
    return path.join(dataDir, 'media');
  }
}
