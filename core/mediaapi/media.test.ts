import '../../p2p/polyfill.js';
import { createClient } from 'matrix-js-sdk';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { tmpDir } from '../test/fixtures.js';
import { registerUser, startTestNode } from '../test/node.js';
import { expectMatchesSpec, specMissing } from '../test/openapi.js';
import { quietSdk } from '../test/sdk.js';
import { contentDisposition } from './routes.js';

const nodes: AxonNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function start(dataDir = tmpDir('axon-media-'), maxUploadBytes?: number) {
  const { node, url } = await startTestNode(maxUploadBytes ? { maxUploadBytes } : {}, dataDir);
  nodes.push(node);
  return { node, url, dataDir };
}

const image = (width: number, height: number, format: 'png' | 'jpeg') =>
  sharp({ create: { width, height, channels: 3, background: { r: 200, g: 30, b: 30 } } })[format]().toBuffer();

async function upload(url: string, token: string, bytes: Uint8Array, contentType?: string, filename?: string) {
  const res = await fetch(`${url}/_matrix/media/v3/upload${filename !== undefined ? `?filename=${encodeURIComponent(filename)}` : ''}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, ...(contentType ? { 'Content-Type': contentType } : {}) },
    body: new Uint8Array(bytes),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const get = (url: string, path: string, token?: string) => fetch(`${url}${path}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {});
const mediaPath = (mxc: string) => mxc.slice('mxc://'.length);

describe('media repository', () => {
  it('uploads a file and serves it back to authenticated clients with safe headers, also after a restart', async () => {
    const { node, url, dataDir } = await start();
    const alice = await registerUser(url, 'alice');
    const png = await image(300, 200, 'png');
    const up = await upload(url, alice.access_token, png, 'image/png', 'cat picture.png');
    expect(up.status).toBe(200);
    if (!specMissing) expectMatchesSpec('post', '/media/v3/upload', 200, up.body);
    expect(up.body.content_uri).toMatch(new RegExp(`^mxc://${node.serverName}/[A-Za-z0-9_-]+$`));

    const res = await get(url, `/_matrix/client/v1/media/download/${mediaPath(up.body.content_uri)}`, alice.access_token);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe('inline; filename="cat picture.png"');
    expect(res.headers.get('content-security-policy')).toContain('sandbox');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    // A file name in the path names the download.
    const named = await get(url, `/_matrix/client/v1/media/download/${mediaPath(up.body.content_uri)}/k%C3%A4tzchen.png`, alice.access_token);
    expect(named.headers.get('content-disposition')).toBe("inline; filename*=utf-8''k%C3%A4tzchen.png");

    // Anything a browser could run is an attachment.
    const html = await upload(url, alice.access_token, Buffer.from('<script>alert(1)</script>'), 'text/html', 'x.html');
    const page = await get(url, `/_matrix/client/v1/media/download/${mediaPath(html.body.content_uri)}`, alice.access_token);
    expect(page.headers.get('content-disposition')).toBe('attachment; filename="x.html"');
    // No type given: stored as bytes.
    const raw = await upload(url, alice.access_token, Buffer.from([1, 2, 3]));
    expect((await get(url, `/_matrix/client/v1/media/download/${mediaPath(raw.body.content_uri)}`, alice.access_token)).headers.get('content-type')).toBe('application/octet-stream');

    await node.stop();
    nodes.splice(nodes.indexOf(node), 1);
    const again = await start(dataDir);
    const kept = await get(again.url, `/_matrix/client/v1/media/download/${mediaPath(up.body.content_uri)}`, alice.access_token);
    expect(Buffer.from(await kept.arrayBuffer()).equals(png)).toBe(true);
  });

  it('makes thumbnails: scaled inside the box or cropped to it, never larger than the image, JPEG kept', async () => {
    const { url } = await start();
    const alice = await registerUser(url, 'alice');
    const png = mediaPath((await upload(url, alice.access_token, await image(300, 200, 'png'), 'image/png')).body.content_uri);
    const jpeg = mediaPath((await upload(url, alice.access_token, await image(640, 480, 'jpeg'), 'image/jpeg')).body.content_uri);
    const thumb = async (media: string, q: string) => {
      const res = await get(url, `/_matrix/client/v1/media/thumbnail/${media}?${q}`, alice.access_token);
      expect(res.status).toBe(200);
      const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
      return [res.headers.get('content-type'), meta.format, meta.width, meta.height];
    };
    expect(await thumb(png, 'width=96&height=96&method=scale')).toEqual(['image/png', 'png', 96, 64]);
    expect(await thumb(png, 'width=32&height=32&method=crop')).toEqual(['image/png', 'png', 32, 32]);
    expect(await thumb(png, 'width=96&height=96')).toEqual(['image/png', 'png', 96, 64]); // scale is the default
    expect(await thumb(png, 'width=800&height=600')).toEqual(['image/png', 'png', 300, 200]);
    expect(await thumb(jpeg, 'width=320&height=240&method=scale')).toEqual(['image/jpeg', 'jpeg', 320, 240]);
    // Two clients asking for the same new thumbnail at once (each side of a chat) both get it.
    const both = await Promise.all([thumb(png, 'width=40&height=30'), thumb(png, 'width=40&height=30'), thumb(png, 'width=40&height=30')]);
    expect(both).toEqual([
      ['image/png', 'png', 40, 27],
      ['image/png', 'png', 40, 27],
      ['image/png', 'png', 40, 27],
    ]);
    // Served from the cache the second time, the same.
    expect(await thumb(jpeg, 'width=320&height=240&method=scale')).toEqual(['image/jpeg', 'jpeg', 320, 240]);
  });

  it('answers bad requests with the spec errcodes, and keeps serving', async () => {
    const { node, url } = await start(undefined, 4096);
    const alice = await registerUser(url, 'alice');
    const err = async (res: Response) => [res.status, ((await res.json()) as { errcode: string }).errcode];

    const config = await get(url, '/_matrix/client/v1/media/config', alice.access_token);
    const body = await config.json();
    expect(body).toEqual({ 'm.upload.size': 4096 });
    if (!specMissing) expectMatchesSpec('get', '/media/config', 200, body);
    expect(await (await get(url, '/_matrix/media/v3/config', alice.access_token)).json()).toEqual({ 'm.upload.size': 4096 });

    const big = await upload(url, alice.access_token, Buffer.alloc(5000, 1), 'application/octet-stream');
    expect([big.status, big.body.errcode]).toEqual([413, 'M_TOO_LARGE']);
    expect((await upload(url, 'nope', Buffer.from('x'), 'text/plain')).status).toBe(401);

    const text = mediaPath((await upload(url, alice.access_token, Buffer.from('hello'), 'text/plain')).body.content_uri);
    const [, id] = text.split('/');
    expect(await err(await get(url, `/_matrix/client/v1/media/thumbnail/${text}?width=32&height=32`, alice.access_token))).toEqual([400, 'M_UNKNOWN']);
    // An "image" that is not one.
    const fake = mediaPath((await upload(url, alice.access_token, Buffer.from('not a png'), 'image/png')).body.content_uri);
    expect(await err(await get(url, `/_matrix/client/v1/media/thumbnail/${fake}?width=32&height=32`, alice.access_token))).toEqual([400, 'M_UNKNOWN']);
    expect(await err(await get(url, `/_matrix/client/v1/media/thumbnail/${text}?height=32`, alice.access_token))).toEqual([400, 'M_MISSING_PARAM']);
    expect(await err(await get(url, `/_matrix/client/v1/media/thumbnail/${text}?width=-1&height=32`, alice.access_token))).toEqual([400, 'M_INVALID_PARAM']);
    expect(await err(await get(url, `/_matrix/client/v1/media/thumbnail/${text}?width=32&height=32&method=stretch`, alice.access_token))).toEqual([400, 'M_INVALID_PARAM']);

    const unknown = await get(url, `/_matrix/client/v1/media/download/${node.serverName}/AAAAAAAAAAAAAAAAAAAAAAAA`, alice.access_token);
    const unknownBody = await unknown.json();
    expect([unknown.status, unknownBody.errcode]).toEqual([404, 'M_NOT_FOUND']);
    expect(await err(await get(url, `/_matrix/client/v1/media/download/${node.serverName}/bad%2Fid`, alice.access_token))).toEqual([400, 'M_INVALID_PARAM']);
    // Another server's media, and that server cannot be reached.
    expect(await err(await get(url, `/_matrix/client/v1/media/download/other.example/${id}`, alice.access_token))).toEqual([502, 'M_UNKNOWN']);
    // Downloads need a token; the unauthenticated v3 ones are frozen.
    expect((await get(url, `/_matrix/client/v1/media/download/${text}`)).status).toBe(401);
    expect(await err(await get(url, `/_matrix/media/v3/download/${text}`))).toEqual([404, 'M_NOT_FOUND']);
    expect(await err(await get(url, `/_matrix/media/v3/thumbnail/${text}?width=32&height=32`))).toEqual([404, 'M_NOT_FOUND']);

    expect(await (await get(url, `/_matrix/client/v1/media/download/${text}`, alice.access_token)).text()).toBe('hello');
  });

  it('matrix-js-sdk uploads an image, sets it as the avatar and loads it and its thumbnail with authenticated media', async () => {
    quietSdk();
    const { url } = await start();
    const alice = await registerUser(url, 'alice');
    const client = createClient({ baseUrl: url, userId: alice.user_id, accessToken: alice.access_token, deviceId: alice.device_id });
    const png = await image(120, 80, 'png');
    const { content_uri: uri } = await client.uploadContent(new Blob([png], { type: 'image/png' }), { name: 'me.png' });
    await client.setAvatarUrl(uri);
    expect((await client.getProfileInfo(alice.user_id)).avatar_url).toBe(uri);
    // The SDK builds authenticated URLs when asked to (as clients do for a v1.11+ server).
    const download = client.mxcUrlToHttp(uri, undefined, undefined, undefined, false, true, true)!;
    expect(download).toContain('/_matrix/client/v1/media/download/');
    const res = await fetch(download, { headers: { Authorization: `Bearer ${alice.access_token}` } });
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    const thumbUrl = client.mxcUrlToHttp(uri, 32, 32, 'crop', false, true, true)!;
    const thumb = await fetch(thumbUrl, { headers: { Authorization: `Bearer ${alice.access_token}` } });
    expect(await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).toMatchObject({ width: 32, height: 32 });
  });

  it('asynchronous uploads: create an id, download waits for the upload; only its creator uploads, once', async () => {
    const { node, url } = await start();
    const [alice, bob] = await Promise.all([registerUser(url, 'alice'), registerUser(url, 'bob')]);
    const post = (token: string) => fetch(`${url}/_matrix/media/v1/create`, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    const put = (token: string, path: string, bytes: string) =>
      fetch(`${url}/_matrix/media/v3/upload/${path}?filename=late.txt`, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' }, body: bytes });
    const created = await post(alice.access_token);
    const body = (await created.json()) as { content_uri: string; unused_expires_at: number };
    if (!specMissing) expectMatchesSpec('post', '/media/v1/create', 200, body);
    expect(body.unused_expires_at).toBeGreaterThan(Date.now() + 23 * 3600_000);
    const path = mediaPath(body.content_uri);

    // Not uploaded yet: a download waits as long as asked, then 504.
    const early = await get(url, `/_matrix/client/v1/media/download/${path}?timeout_ms=50`, bob.access_token);
    expect([early.status, ((await early.json()) as { errcode: string }).errcode]).toEqual([504, 'M_NOT_YET_UPLOADED']);
    // A download waiting when the upload comes gets it.
    const waiting = get(url, `/_matrix/client/v1/media/download/${path}?timeout_ms=10000`, bob.access_token);
    await new Promise((r) => setTimeout(r, 50));
    const theirs = await put(bob.access_token, path, 'not yours');
    expect([theirs.status, ((await theirs.json()) as { errcode: string }).errcode]).toEqual([403, 'M_FORBIDDEN']);
    const done = await put(alice.access_token, path, 'arrived');
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({});
    const got = await waiting;
    expect([got.status, await got.text(), got.headers.get('content-disposition')]).toEqual([200, 'arrived', 'inline; filename="late.txt"']);
    const again = await put(alice.access_token, path, 'overwrite');
    expect([again.status, ((await again.json()) as { errcode: string }).errcode]).toEqual([409, 'M_CANNOT_OVERWRITE_MEDIA']);
    const never = await put(alice.access_token, `${node.serverName}/DDDDDDDDDDDDDDDDDDDDDDDD`, 'x');
    expect([never.status, ((await never.json()) as { errcode: string }).errcode]).toEqual([404, 'M_NOT_FOUND']);

    // At most ten waiting per user.
    for (let i = 0; i < 9; i++) expect((await post(bob.access_token)).status).toBe(200);
    expect((await post(bob.access_token)).status).toBe(200);
    const limited = await post(bob.access_token);
    expect([limited.status, ((await limited.json()) as { errcode: string }).errcode]).toEqual([429, 'M_LIMIT_EXCEEDED']);
  });

  it('names files in Content-Disposition safely', () => {
    expect(contentDisposition('image/png', undefined)).toBe('inline');
    expect(contentDisposition('image/svg+xml', 'a.svg')).toBe('attachment; filename="a.svg"');
    expect(contentDisposition('text/plain; charset=utf-8', 'say "hi".txt')).toBe("inline; filename*=utf-8''say%20%22hi%22.txt");
    expect(contentDisposition('application/pdf', "it's (1).pdf")).toBe('attachment; filename="it\'s (1).pdf"');
    expect(contentDisposition('application/pdf', "naïve (1).pdf")).toBe("attachment; filename*=utf-8''na%C3%AFve%20%281%29.pdf");
  });
});
