import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { tmpDir } from '../test/fixtures.js';
import { clientCall, registerUser, startTestNode } from '../test/node.js';
import { STATUS_STREAM_PATH, StatusModel, uiHandler } from './index.js';

const nodes: AxonNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

/** Reads server-sent `status` events from a fetch response. */
function events(res: Response) {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  return async function next(): Promise<Record<string, any> | null> {
    for (;;) {
      const i = buf.indexOf('\n\n');
      if (i >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(frame);
        if (data) return JSON.parse(data[1]!);
        continue;
      }
      const { value, done } = await reader.read();
      if (done) return null;
      buf += dec.decode(value, { stream: true });
    }
  };
}

describe('status stream', () => {
  it('is for the owner only', async () => {
    const { node, url } = await startTestNode();
    nodes.push(node);
    expect((await fetch(`${url}${STATUS_STREAM_PATH}`)).status).toBe(401);
    const alice = await registerUser(url, 'alice');
    const res = await fetch(`${url}${STATUS_STREAM_PATH}`, { headers: { Authorization: `Bearer ${alice.access_token}` } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errcode: string }).errcode).toBe('M_FORBIDDEN');
  });

  it('pushes a snapshot, then the change when the owner creates a room, and ends when the node stops', async () => {
    const { node, url } = await startTestNode();
    nodes.push(node);
    const { accessToken } = node.owner.desktopSession();
    const res = await fetch(`${url}${STATUS_STREAM_PATH}`, { headers: { Authorization: `Bearer ${accessToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const next = events(res);
    const first = await next();
    expect(first?.serverName).toBe(node.serverName);
    expect(first?.rooms).toEqual([]);
    expect(first?.startedAt).toBeLessThanOrEqual(Date.now());
    expect(Array.isArray(first?.topics)).toBe(true);

    const created = await clientCall(url, 'POST', '/createRoom', accessToken, { name: 'Plans' });
    expect(created.status).toBe(200);
    let snap = await next();
    while (snap && snap.rooms.length === 0) snap = await next();
    expect(snap?.rooms).toEqual([{ roomId: created.body.room_id, name: 'Plans', joinedMembers: 1 }]);

    await node.stop();
    nodes.pop();
    while ((await next()) !== null);
  });
});

describe('status stream while stopping', () => {
  it('ends at once instead of failing when the model is already closed', async () => {
    const { node, url } = await startTestNode();
    nodes.push(node);
    const { accessToken } = node.owner.desktopSession();
    node.statusModel.close();
    // A request on a kept-alive connection can still arrive after close(): it gets an empty stream.
    const res = await node.http.fetch(new Request(`${url}${STATUS_STREAM_PATH}`, { headers: { Authorization: `Bearer ${accessToken}` } }));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('status model', () => {
  it('pushes only when something besides the clock changed', async () => {
    let n = 0;
    let uptime = 0;
    const model = new StatusModel(() => ({ uptimeMs: (uptime += 10), n }), { intervalMs: 5 });
    const seen: number[] = [];
    const off = model.subscribe((s) => seen.push(s.n as number));
    await new Promise((r) => setTimeout(r, 40));
    n = 1;
    await new Promise((r) => setTimeout(r, 40));
    off();
    expect(seen).toEqual([0, 1]);
    let closed = false;
    model.subscribe(() => undefined, () => (closed = true));
    model.close();
    expect(closed).toBe(true);
  });
});

describe('the UI at /', () => {
  function builtUi(): string {
    const dir = tmpDir('axon-ui-');
    fs.mkdirSync(path.join(dir, 'assets'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>Axon</title>');
    fs.writeFileSync(path.join(dir, 'assets', 'app-123.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dir, 'assets', 'app-123.css'), 'body{}');
    return dir;
  }

  it('serves files with their types, index.html for UI routes, and never shadows the APIs', async () => {
    const dir = builtUi();
    process.env.AXON_UI_DIR = dir;
    let t;
    try {
      t = await startTestNode();
    } finally {
      delete process.env.AXON_UI_DIR;
    }
    nodes.push(t.node);
    const { url } = t;
    const index = await fetch(`${url}/`);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await index.text()).toContain('<title>Axon</title>');
    const js = await fetch(`${url}/assets/app-123.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${url}/assets/app-123.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await (await fetch(`${url}/rooms/abc`)).text()).toContain('<title>Axon</title>');
    expect((await fetch(`${url}/missing.js`)).status).toBe(404);
    const escape = uiHandler(dir)(new Request(`${url}/a/..%2f..%2f..%2f..%2fetc%2fpasswd`));
    expect(await escape?.text()).toContain('<title>Axon</title>');
    const versions = await fetch(`${url}/_matrix/client/versions`);
    expect(versions.headers.get('content-type')).toMatch(/json/);
    const unknown = await fetch(`${url}/_matrix/client/v3/nothing-here`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { errcode: string }).errcode).toBe('M_UNRECOGNIZED');
    expect((await fetch(`${url}/_axon/status`)).headers.get('content-type')).toMatch(/json/);
    expect((await fetch(`${url}/.well-known/matrix/client`)).headers.get('content-type')).not.toMatch(/html/);
  });

  it('says how to build the UI when it is missing', () => {
    const serve = uiHandler(path.join(tmpDir('axon-ui-'), 'absent'));
    const res = serve(new Request('http://x/'));
    expect(res?.status).toBe(200);
    expect(serve(new Request('http://x/other'))).toBeUndefined();
    expect(serve(new Request('http://x/', { method: 'POST' }))).toBeUndefined();
  });
});
