import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';

export type ThumbnailMethod = 'crop' | 'scale';

/** Image types this node thumbnails (what libvips in sharp reads, as browsers show them). */
export const THUMBNAILABLE = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif', 'image/tiff', 'image/heif']);

/** Thumbnails are no larger than this on either side (a request for more gets this much). */
export const MAX_THUMBNAIL_SIDE = 800;
/** Sources with more pixels than this are not decoded (a small file can be a huge image). */
const MAX_INPUT_PIXELS = 64 * 1024 * 1024;

export interface Thumbnail {
  bytes: Buffer;
  contentType: string;
}

/**
 * A thumbnail of the image in `source`, cached in `cacheDir` by size and method. `scale`
 * fits the image inside the box keeping its aspect; `crop` fills the box and cuts what is
 * over. Never larger than the original. JPEG stays JPEG; everything else becomes PNG (which
 * keeps transparency). Throws for what is not an image sharp can read.
 */
export async function thumbnail(source: string, contentType: string, width: number, height: number, method: ThumbnailMethod, cacheDir: string): Promise<Thumbnail> {
  const w = Math.min(Math.max(1, width), MAX_THUMBNAIL_SIDE);
  const h = Math.min(Math.max(1, height), MAX_THUMBNAIL_SIDE);
  const jpeg = contentType === 'image/jpeg';
  const out = jpeg ? 'image/jpeg' : 'image/png';
  const cached = path.join(cacheDir, `${w}x${h}-${method}.${jpeg ? 'jpg' : 'png'}`);
  try {
    return { bytes: await fs.promises.readFile(cached), contentType: out };
  } catch {
    // not made yet
  }
  const pipeline = sharp(source, { limitInputPixels: MAX_INPUT_PIXELS, animated: false })
    .rotate() // as the camera held it (EXIF orientation), which browsers also apply
    .resize(w, h, { fit: method === 'crop' ? 'cover' : 'inside', withoutEnlargement: true });
  const bytes = await (jpeg ? pipeline.jpeg({ quality: 80 }) : pipeline.png()).toBuffer();
  await fs.promises.mkdir(cacheDir, { recursive: true });
  // Two requests for the same new thumbnail may both make it: each writes its own file.
  const tmp = `${cached}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.promises.writeFile(tmp, bytes);
  await fs.promises.rename(tmp, cached);
  return { bytes, contentType: out };
}
