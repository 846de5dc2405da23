import { z } from 'zod';
import { isValidServerName } from '../events/index.js';
import { MatrixError, endpoint, notFound, readRequestBody, type AnyEndpoint } from '../http/index.js';
import { buildMultipart } from '../http/multipart.js';
import type { MediaApi } from './index.js';

/** Media ids this node makes are URL-safe base64; others' are held to the same alphabet. */
const mediaIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'not a media id');
const serverNameSchema = z.string().refine((s) => isValidServerName(s), 'not a server name');
const mediaParams = z.object({ serverName: serverNameSchema, mediaId: mediaIdSchema, fileName: z.string().max(255).optional() });
const timeoutMs = z.coerce.number().int().min(0).optional();
const thumbnailQuery = z.object({
  width: z.coerce.number().int().min(1),
  height: z.coerce.number().int().min(1),
  method: z.enum(['crop', 'scale']).optional(),
  animated: z.enum(['true', 'false']).optional(),
  timeout_ms: timeoutMs,
});

/** Types a browser may show inline from the media origin without running anything (the
 * spec's list for Content-Disposition: inline); everything else is an attachment. */
const INLINE_TYPES = new Set([
  'text/css', 'text/plain', 'text/csv', 'application/json', 'application/ld+json',
  'image/jpeg', 'image/gif', 'image/png', 'image/apng', 'image/webp', 'image/avif',
  'video/mp4', 'video/webm', 'video/ogg', 'video/quicktime',
  'audio/mp4', 'audio/webm', 'audio/aac', 'audio/mpeg', 'audio/ogg', 'audio/wave', 'audio/wav', 'audio/x-wav', 'audio/x-pn-wav', 'audio/flac', 'audio/x-flac',
]);

/** What a media response carries besides its type: no script runs from it, any origin may embed it. */
const MEDIA_HEADERS = {
  'Content-Security-Policy': "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';",
  'Cross-Origin-Resource-Policy': 'cross-origin',
  'Cache-Control': 'private, max-age=86400',
};

/** A thumbnail as a thumbnail query asks for it: 404 for unknown media, 400 for media that
 * is not an image this node can thumbnail. */
async function thumbnailOf(media: MediaApi, origin: string, mediaId: string, q: z.infer<typeof thumbnailQuery>) {
  const t = await media.thumbnail(origin, mediaId, q.width, q.height, q.method ?? 'scale', q.timeout_ms);
  if (t === undefined) throw notFound('Media not found');
  if (t === null) throw new MatrixError(400, 'M_UNKNOWN', 'This media cannot be thumbnailed');
  return t;
}

/** Content-Disposition for a download: inline for safe types, with the file name (RFC 6266;
 * non-ASCII names as RFC 8187 UTF-8). */
export function contentDisposition(contentType: string, fileName: string | null | undefined): string {
  const kind = INLINE_TYPES.has(contentType.split(';')[0]!.trim().toLowerCase()) ? 'inline' : 'attachment';
  if (!fileName) return kind;
  if (/^[\x20-\x7e]*$/.test(fileName) && !/["\\]/.test(fileName)) return `${kind}; filename="${fileName}"`;
  return `${kind}; filename*=utf-8''${encodeURIComponent(fileName).replace(/['()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}

/** The type an upload declares, or bytes when it declares none. */
function contentTypeOf(header: string | undefined): string {
  const type = header?.trim() || 'application/octet-stream';
  if (type.length > 255) throw new MatrixError(400, 'M_INVALID_PARAM', 'Content-Type is too long');
  return type;
}

function mediaResponse(bytes: Buffer, contentType: string, disposition: string): Response {
  return new Response(new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength), { status: 200, headers: { 'Content-Type': contentType, 'Content-Disposition': disposition, ...MEDIA_HEADERS } });
}

/**
 * The content repository: uploads (`/_matrix/media/v3/upload`), the upload limit, and
 * authenticated downloads and thumbnails (`/_matrix/client/v1/media/...`). The
 * unauthenticated `/_matrix/media/v3` downloads are frozen as the spec asks since v1.11:
 * this node never served media through them.
 */
export function mediaEndpoints(media: MediaApi): AnyEndpoint[] {
  const config = () => ({ 'm.upload.size': media.maxUploadBytes });
  const frozen = () => {
    throw notFound('Media is served at /_matrix/client/v1/media with an access token');
  };
  return [
    endpoint({
      method: 'POST',
      path: '/_matrix/media/v3/upload',
      auth: 'user',
      rateLimited: true,
      query: z.object({ filename: z.string().max(255).optional() }),
      handler: async ({ query, requester, c }) => {
        const bytes = await readRequestBody(c, media.maxUploadBytes);
        const mediaId = await media.upload(requester!.userId, bytes, contentTypeOf(c.req.header('content-type')), query.filename);
        return { content_uri: `mxc://${media.serverName}/${mediaId}` };
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/media/v1/create',
      auth: 'user',
      rateLimited: true,
      handler: ({ requester }) => {
        const { mediaId, expiresTs } = media.create(requester!.userId);
        return { content_uri: `mxc://${media.serverName}/${mediaId}`, unused_expires_at: expiresTs };
      },
    }),
    endpoint({
      method: 'PUT',
      path: '/_matrix/media/v3/upload/:serverName/:mediaId',
      auth: 'user',
      rateLimited: true,
      params: mediaParams,
      query: z.object({ filename: z.string().max(255).optional() }),
      handler: async ({ params, query, requester, c }) => {
        if (params.serverName !== media.serverName) throw notFound('Media ids of other servers are uploaded there');
        const bytes = await readRequestBody(c, media.maxUploadBytes);
        await media.uploadTo(requester!.userId, params.mediaId, bytes, contentTypeOf(c.req.header('content-type')), query.filename);
        return {};
      },
    }),
    endpoint({ method: 'GET', path: '/_matrix/client/v1/media/config', auth: 'user', handler: config }),
    endpoint({ method: 'GET', path: '/_matrix/media/v3/config', auth: 'user', handler: config }),
    ...['/_matrix/client/v1/media/download/:serverName/:mediaId', '/_matrix/client/v1/media/download/:serverName/:mediaId/:fileName'].map((path) =>
      endpoint({
        method: 'GET',
        path,
        auth: 'user',
        params: mediaParams,
        query: z.object({ timeout_ms: timeoutMs }),
        handler: async ({ params, query }) => {
          const found = await media.download(params.serverName, params.mediaId, query.timeout_ms);
          if (!found) throw notFound('Media not found');
          return mediaResponse(found.bytes, found.info.contentType, contentDisposition(found.info.contentType, params.fileName ?? found.info.uploadName));
        },
      }),
    ),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v1/media/thumbnail/:serverName/:mediaId',
      auth: 'user',
      params: mediaParams,
      query: thumbnailQuery,
      handler: async ({ params, query }) => {
        const t = await thumbnailOf(media, params.serverName, params.mediaId, query);
        return mediaResponse(t.bytes, t.contentType, 'inline');
      },
    }),
    ...['/_matrix/media/v3/download/:serverName/:mediaId', '/_matrix/media/v3/download/:serverName/:mediaId/:fileName', '/_matrix/media/v3/thumbnail/:serverName/:mediaId'].map((path) =>
      endpoint({ method: 'GET', path, auth: 'none', handler: frozen }),
    ),
  ];
}

/** A multipart/mixed federation answer: the (empty) metadata, then the media. */
function federationMedia(bytes: Buffer, contentType: string, disposition: string): Response {
  const { contentType: type, body } = buildMultipart([
    { headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{}') },
    { headers: { 'Content-Type': contentType, 'Content-Disposition': disposition }, body: bytes },
  ]);
  return new Response(new Uint8Array(body.buffer as ArrayBuffer, body.byteOffset, body.byteLength), { status: 200, headers: { 'Content-Type': type } });
}

/** What other servers fetch of this node's media (server-server "Content repository"):
 * downloads and thumbnails of media uploaded here, never media this node keeps for others. */
export function mediaFederationEndpoints(media: MediaApi): AnyEndpoint[] {
  const own = z.object({ mediaId: mediaIdSchema });
  return [
    endpoint({
      method: 'GET',
      path: '/_matrix/federation/v1/media/download/:mediaId',
      auth: 'server',
      params: own,
      query: z.object({ timeout_ms: timeoutMs }),
      handler: async ({ params, query }) => {
        const found = await media.download(media.serverName, params.mediaId, query.timeout_ms);
        if (!found) throw notFound('Media not found');
        return federationMedia(found.bytes, found.info.contentType, contentDisposition(found.info.contentType, found.info.uploadName));
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/federation/v1/media/thumbnail/:mediaId',
      auth: 'server',
      params: own,
      query: thumbnailQuery,
      handler: async ({ params, query }) => {
        const t = await thumbnailOf(media, media.serverName, params.mediaId, query);
        return federationMedia(t.bytes, t.contentType, 'inline');
      },
    }),
  ];
}
