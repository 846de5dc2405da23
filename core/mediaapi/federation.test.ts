import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { TEST_P2P, loopbackAddr, registerUser, startTestNode } from '../test/node.js';

let A: AxonNode;
let B: AxonNode;
let urlA: string;
let urlB: string;
let alice: Awaited<ReturnType<typeof registerUser>>;
let bob: Awaited<ReturnType<typeof registerUser>>;

beforeAll(async () => {
  ({ node: A, url: urlA } = await startTestNode());
  ({ node: B, url: urlB } = await startTestNode({ p2p: { ...TEST_P2P, peers: [loopbackAddr(A)] } }));
  alice = await registerUser(urlA, 'alice');
  bob = await registerUser(urlB, 'bob');
});
afterAll(async () => {
  await Promise.all([A?.stop(), B?.stop()]);
});

const get = (url: string, path: string, token: string) => fetch(`${url}${path}`, { headers: { Authorization: `Bearer ${token}` } });

describe('media across nodes', () => {
  it('a user of one node loads an image uploaded on another, over libp2p, and its thumbnail; the copy is kept', async () => {
    const png = await sharp({ create: { width: 200, height: 100, channels: 4, background: { r: 0, g: 120, b: 200, alpha: 1 } } }).png().toBuffer();
    const up = await fetch(`${urlA}/_matrix/media/v3/upload?filename=${encodeURIComponent('wave 🌊.png')}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.access_token}`, 'Content-Type': 'image/png' },
      body: new Uint8Array(png),
    });
    const uri = ((await up.json()) as { content_uri: string }).content_uri;
    expect(uri.startsWith(`mxc://${A.serverName}/`)).toBe(true);
    const path = uri.slice('mxc://'.length);

    const res = await get(urlB, `/_matrix/client/v1/media/download/${path}`, bob.access_token);
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(png)).toBe(true);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('content-disposition')).toBe(`inline; filename*=utf-8''${encodeURIComponent('wave 🌊.png')}`);

    const thumb = await get(urlB, `/_matrix/client/v1/media/thumbnail/${path}?width=50&height=50&method=crop`, bob.access_token);
    expect(thumb.status).toBe(200);
    expect(await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).toMatchObject({ format: 'png', width: 50, height: 50 });

    // What A does not have is 404 on B too.
    const unknown = await get(urlB, `/_matrix/client/v1/media/download/${A.serverName}/CCCCCCCCCCCCCCCCCCCCCCCC`, bob.access_token);
    expect([unknown.status, ((await unknown.json()) as { errcode: string }).errcode]).toEqual([404, 'M_NOT_FOUND']);

    // B keeps its copy: served with A gone.
    await A.stop();
    const again = await get(urlB, `/_matrix/client/v1/media/download/${path}`, bob.access_token);
    expect(Buffer.from(await again.arrayBuffer()).equals(png)).toBe(true);
    // Media B never had, of a server it cannot reach now: 502, not a crash.
    const gone = await get(urlB, `/_matrix/client/v1/media/download/${A.serverName}/BBBBBBBBBBBBBBBBBBBBBBBB`, bob.access_token);
    expect(gone.status).toBe(502);
  });
});

describe('kept copies of other nodes\' media', () => {
  it('go oldest first past the limit, and come back over federation when asked for again', async () => {
    const a = await startTestNode();
    const b = await startTestNode({ p2p: { ...TEST_P2P, peers: [loopbackAddr(a.node)] }, remoteMediaCacheBytes: 3000 });
    try {
      const carol = await registerUser(a.url, 'carol');
      const dave = await registerUser(b.url, 'dave');
      const ids: string[] = [];
      for (const fill of [1, 2]) {
        const up = await fetch(`${a.url}/_matrix/media/v3/upload`, { method: 'POST', headers: { Authorization: `Bearer ${carol.access_token}` }, body: new Uint8Array(2000).fill(fill) });
        ids.push(((await up.json()) as { content_uri: string }).content_uri.split('/').pop()!);
      }
      const fetchFromB = async (id: string) => Buffer.from(await (await get(b.url, `/_matrix/client/v1/media/download/${a.node.serverName}/${id}`, dave.access_token)).arrayBuffer());
      expect((await fetchFromB(ids[0]!))[0]).toBe(1);
      expect((await fetchFromB(ids[1]!))[0]).toBe(2);
      await b.node.media.settled();
      // 4,000 bytes kept is over 3,000: the older copy went.
      expect(b.node.media.info(a.node.serverName, ids[0]!)).toBeUndefined();
      expect(b.node.media.info(a.node.serverName, ids[1]!)).toBeDefined();
      expect((await fetchFromB(ids[0]!)).equals(Buffer.alloc(2000, 1))).toBe(true);
    } finally {
      await Promise.all([a.node.stop(), b.node.stop()]);
    }
  });
});

describe('serving media to other servers', () => {
  it('answers only signed requests', async () => {
    const { node, url } = await startTestNode();
    try {
      const token = (await registerUser(url, 'carol')).access_token;
      const up = await fetch(`${url}/_matrix/media/v3/upload`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'text/plain' }, body: 'hi' });
      const id = ((await up.json()) as { content_uri: string }).content_uri.split('/').pop()!;
      const unsigned = await node.federation.handle(new Request(`http://x/_matrix/federation/v1/media/download/${id}`), { serverName: 'aa'.repeat(32) });
      expect(unsigned.status).toBe(401);
    } finally {
      await node.stop();
    }
  });
});
