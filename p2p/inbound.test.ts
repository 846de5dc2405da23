/**
 * The serving side against a hand-rolled client speaking the framing directly: limits and
 * malformed input must be answered, and only ed25519 peers are served.
 */
import './polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p, Stream } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { afterEach, describe, expect, it } from 'vitest';
import type { P2PHost } from './api.js';
import { MAX_BODY_BYTES, StreamReader } from './framing.js';
import { Hosts, tcpAddr } from './testing/hosts.js';
import { FEDERATION_PROTOCOL } from './transport.js';

const hosts = new Hosts();
const raws: Libp2p[] = [];
afterEach(async () => {
  await Promise.all(raws.splice(0).map((n) => n.stop()));
  await hosts.stopAll();
});

async function rawClient(type: 'Ed25519' | 'secp256k1' = 'Ed25519'): Promise<Libp2p> {
  const n = await createLibp2p({ privateKey: await generateKeyPair(type), transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
  raws.push(n);
  return n;
}

function frame(head: unknown): Uint8Array {
  const json = Buffer.from(typeof head === 'string' ? head : JSON.stringify(head));
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(json.length);
  return Buffer.concat([prefix, json]);
}

/** Sends raw bytes (in pieces, respecting backpressure) while reading the answer. */
async function exchange(n: Libp2p, host: P2PHost, parts: Uint8Array[]): Promise<{ status: number; body: Record<string, unknown> }> {
  const stream: Stream = await n.dialProtocol(multiaddr(tcpAddr(host)), FEDERATION_PROTOCOL);
  const reader = new StreamReader(stream);
  const answer = (async () => {
    const head = (await reader.readHead()) as { status: number };
    const body = JSON.parse(Buffer.from(await reader.readToEnd(1 << 20)).toString()) as Record<string, unknown>;
    return { status: head.status, body };
  })();
  const sending = (async () => {
    for (const p of parts) {
      for (let i = 0; i < p.length; i += 1 << 16) if (!stream.send(p.subarray(i, i + (1 << 16)))) await stream.onDrain();
    }
    await stream.close();
  })().catch(() => undefined); // the server may stop reading once it has answered
  const res = await answer;
  stream.abort(new Error('done'));
  await sending;
  return res;
}

describe('inbound federation requests', () => {
  it('serves a well-formed hand-made request', async () => {
    const h = await hosts.start();
    h.serve(async (req) => new Response(JSON.stringify({ got: await req.text() })));
    const n = await rawClient();
    const res = await exchange(n, h, [frame({ method: 'POST', path: '/x', headers: [['content-type', 'text/plain']] }), Buffer.from('hello')]);
    expect(res).toEqual({ status: 200, body: { got: 'hello' } });
  });

  it('answers 413 M_TOO_LARGE to a head over 64 KiB and a body over 32 MiB', async () => {
    const h = await hosts.start();
    let called = false;
    h.serve(async () => {
      called = true;
      return new Response('{}');
    });
    const n = await rawClient();
    const bigHead = frame({ method: 'GET', path: '/x', headers: [['x-pad', 'a'.repeat(70 * 1024)]] });
    expect(await exchange(n, h, [bigHead])).toMatchObject({ status: 413, body: { errcode: 'M_TOO_LARGE' } });
    const head = frame({ method: 'PUT', path: '/x', headers: [] });
    const body = new Uint8Array(MAX_BODY_BYTES + 1);
    expect(await exchange(n, h, [head, body])).toMatchObject({ status: 413, body: { errcode: 'M_TOO_LARGE' } });
    expect(called).toBe(false);
  });

  it.each([
    ['not JSON', frame('{nope')],
    ['a path without a leading slash', frame({ method: 'GET', path: 'x', headers: [] })],
    ['a bad method', frame({ method: 'get it', path: '/x', headers: [] })],
    ['headers that are not pairs', frame({ method: 'GET', path: '/x', headers: { a: 'b' } })],
    ['an invalid header name', frame({ method: 'GET', path: '/x', headers: [['bad name', 'v']] })],
    ['a truncated head', frame({ method: 'GET', path: '/x', headers: [] }).subarray(0, 10)],
  ])('answers 400 to %s', async (_what, bytes) => {
    const h = await hosts.start();
    h.serve(async () => new Response('{}'));
    const res = await exchange(await rawClient(), h, [bytes]);
    expect(res.status).toBe(400);
    expect(res.body.errcode).toBe('M_BAD_JSON');
  });

  it('refuses peers whose key is not ed25519 (they cannot be Matrix servers)', async () => {
    const h = await hosts.start();
    let called = false;
    h.serve(async () => {
      called = true;
      return new Response('{}');
    });
    const res = await exchange(await rawClient('secp256k1'), h, [frame({ method: 'GET', path: '/x', headers: [] })]);
    expect(res).toMatchObject({ status: 403, body: { errcode: 'M_FORBIDDEN' } });
    expect(called).toBe(false);
  });
});
