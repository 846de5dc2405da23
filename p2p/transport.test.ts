import { afterEach, describe, expect, it } from 'vitest';
import type { RemotePeer } from './api.js';
import { Hosts, tcpAddr } from './testhosts.js';

const hosts = new Hosts();
afterEach(() => hosts.stopAll());

describe('federation transport', () => {
  it('carries method, path, query, headers, body and status both ways', async () => {
    const a = await hosts.start();
    const b = await hosts.start();
    let seen: { method: string; url: string; headers: Record<string, string>; body: string; remote: RemotePeer } | undefined;
    b.serve(async (req, remote) => {
      seen = { method: req.method, url: req.url, headers: Object.fromEntries(req.headers), body: await req.text(), remote };
      return new Response('{"ok":true}', { status: 201, headers: { 'content-type': 'application/json', 'x-answer': '42' } });
    });
    await a.dial(tcpAddr(b));
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
    expect(seen!.remote).toEqual({ serverName: a.serverName, peerId: a.peerId, relayed: false });
  });
});
