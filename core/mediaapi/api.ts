/** The media repository (content repository): local uploads, their downloads and thumbnails. */
export interface MediaInfo {
  origin: string;
  mediaId: string;
  contentType: string;
  uploadName: string | null;
  size: number;
  userId: string;
  createdTs: number;
}

export interface MediaAPI {
  /** Stores an upload; returns its media id (the content URI is mxc://origin/mediaId). */
  upload(userId: string, bytes: Uint8Array, contentType: string, uploadName: string | undefined): Promise<string>;
  /** A stored media item and its bytes, if this node has it. */
  download(origin: string, mediaId: string): Promise<{ info: MediaInfo; bytes: Buffer } | undefined>;
  /** The largest upload accepted, in bytes. */
  readonly maxUploadBytes: number;
}
