import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { P2PHost, RemotePeer } from './api.js';
import { Hosts, tcpAddr } from './testing/hosts.js';

const hosts = new Hosts();
afterEach(() => hosts.stopAll());

function headersOf(h: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
}

async function pair(): Promise<{ a: P2PHost; b: P2PHost }> {
  const a = await hosts.start();
  const b = await hosts.start();
  await a.dial(tcpAddr(b));
  return { a, b };
}

const echo = async (req: Request, remote: RemotePeer): Promise<Response> =>
  new Response(new Uint8Array(await req.arrayBuffer()), { headers: { 'x-remote': remote.serverName, 'x-path': new URL(req.url).pathname } });

describe('federation transport', () => {
  it('carries method, path, query, headers, body and status both ways', async () => {
    const { a, b } = await pair();
    let seen: { method: string; url: string; headers: Record<string, string>; body: string; remote: RemotePeer } | undefined;
    b.serve(async (req, remote) => {
      seen = { method: req.method, url: req.url, headers: headersOf(req.headers), body: await req.text(), remote };
      return new Response('{"ok":true}', { status: 201, headers: { 'content-type': 'application/json', 'x-answer': '42' } });
    });
    const res = await a.fetch(
      b.serverName,
      new Request(`http://${b.serverName}/_matrix/federation/v1/send/t%201?x=1&y=%C3%A9`, {
        method: 'PUT',
        headers: { authorization: 'X-Matrix origin="a"', 'content-type': 'application/json' },
        body: '{"pdus":[]}',
      }),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get('x-answer')).toBe('42');
    expect(await res.json()).toEqual({ ok: true });
    expect(seen!.method).toBe('PUT');
    expect(seen!.url).toBe(`http://${b.serverName}/_matrix/federation/v1/send/t%201?x=1&y=%C3%A9`);
    expect(seen!.headers.authorization).toBe('X-Matrix origin="a"');
    expect(seen!.body).toBe('{"pdus":[]}');
    // Who called comes from the authenticated connection.
    expect(seen!.remote).toEqual({ serverName: a.serverName, peerId: a.peerId, relayed: false });
  });

  it('carries a GET with no body, error statuses and bodiless statuses', async () => {
    const { a, b } = await pair();
    b.serve(async (req) => {
      if (req.url.endsWith('/missing')) return new Response('{"errcode":"M_NOT_FOUND"}', { status: 404 });
      return new Response(null, { status: 204 });
    });
    const missing = await a.fetch(b.serverName, new Request(`http://${b.serverName}/missing`));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ errcode: 'M_NOT_FOUND' });
    const empty = await a.fetch(b.serverName, new Request(`http://${b.serverName}/x`));
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('carries 1 MiB bodies both ways', async () => {
    const { a, b } = await pair();
    b.serve(echo);
    const body = randomBytes(1024 * 1024);
    const res = await a.fetch(b.serverName, new Request(`http://${b.serverName}/big`, { method: 'POST', body }));
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
  });

  it('serves 50 concurrent requests on one connection, each getting its own answer', async () => {
    const { a, b } = await pair();
    b.serve(async (req) => {
      await new Promise((r) => setTimeout(r, 20));
      return new Response(JSON.stringify({ n: new URL(req.url).searchParams.get('n') }));
    });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, n) => a.fetch(b.serverName, new Request(`http://${b.serverName}/c?n=${n}`)).then((r) => r.json() as Promise<{ n: string }>)),
    );
    expect(answers.map((x) => x.n)).toEqual(Array.from({ length: 50 }, (_, n) => String(n)));
  });

  it('drops a spoofed x-axon-remote header', async () => {
    const { a, b } = await pair();
    let got: Record<string, string> = {};
    b.serve(async (req) => {
      got = headersOf(req.headers);
      return new Response('{}');
    });
    await a.fetch(b.serverName, new Request(`http://${b.serverName}/x`, { headers: { 'X-Axon-Remote': 'ffff', 'x-other': '1' } }));
    expect(got['x-other']).toBe('1');
    expect(got).not.toHaveProperty('x-axon-remote');
  });

  it('answers 503 with no handler and 500 M_UNKNOWN when the handler throws', async () => {
    const { a, b } = await pair();
    const before = await a.fetch(b.serverName, new Request(`http://${b.serverName}/x`));
    expect(before.status).toBe(503);
    expect(((await before.json()) as { errcode: string }).errcode).toBe('M_UNKNOWN');
    b.serve(async () => {
      throw new Error('boom');
    });
    const res = await a.fetch(b.serverName, new Request(`http://${b.serverName}/x`));
    expect(res.status).toBe(500);
    expect(await res.json()).toMatchObject({ errcode: 'M_UNKNOWN' });
  });

  it('rejects an unreachable server name within the timeout, and malformed names at once', async () => {
    const a = await hosts.start();
    const nobody = randomBytes(32).toString('hex');
    const t = Date.now();
    await expect(a.fetch(nobody, new Request(`http://${nobody}/x`), { timeoutMs: 1500 })).rejects.toThrow(/federation request to/);
    expect(Date.now() - t).toBeLessThan(5000);
    await expect(a.fetch('example.org', new Request('http://example.org/x'))).rejects.toThrow(/not an Axon server name/);
  });

  it('rejects a request body over 32 MiB without sending it', async () => {
    const { a, b } = await pair();
    let called = false;
    b.serve(async () => {
      called = true;
      return new Response('{}');
    });
    const body = new Uint8Array(32 * 1024 * 1024 + 1);
    await expect(a.fetch(b.serverName, new Request(`http://${b.serverName}/x`, { method: 'POST', body }))).rejects.toThrow(/larger than/);
    expect(called).toBe(false);
  });

  it('honours an abort signal', async () => {
    const { a, b } = await pair();
    b.serve(() => new Promise<Response>(() => undefined));
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('caller gave up')), 200);
    await expect(a.fetch(b.serverName, new Request(`http://${b.serverName}/x`), { signal: ac.signal })).rejects.toThrow(/caller gave up/);
  });
});
