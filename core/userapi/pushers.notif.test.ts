import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, registerUser, startTestNode, type ResponseJson } from '../test/node.js';
import { expectMatchesRequestSpec, expectMatchesSpec, specMissing } from '../test/openapi.js';

type Json = ResponseJson;
type User = { user_id: string; access_token: string };

/** A push gateway on 127.0.0.1:0: records each /notify body with its arrival time and
 * answers what `reply` says (status and body, or a hang). */
class Gateway {
  readonly hits: Array<{ at: number; body: Json }> = [];
  reply: (body: Json) => { status: number; body?: Json } | 'hang' = () => ({ status: 200, body: { rejected: [] } });
  private readonly server = http.createServer((req, res) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      const body = JSON.parse(data) as Json;
      this.hits.push({ at: Date.now(), body });
      const r = req.url === '/_matrix/push/v1/notify' ? this.reply(body) : { status: 404, body: { errcode: 'M_UNRECOGNIZED' } };
      if (r === 'hang') return;
      res.writeHead(r.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(r.body ?? {}));
    });
  });
  url = '';
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/_matrix/push/v1/notify`;
  }
  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  /** Waits until `n` notifications arrived (or fails after `ms`). */
  async waitFor(n: number, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (this.hits.length < n) {
      if (Date.now() > end) throw new Error(`gateway got ${this.hits.length} of ${n} notifications`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let roomId: string;
let gw: Gateway;
let txn = 0;

const call = (method: string, path: string, token: string, body?: unknown) => clientCall(url, method, path, token, body);
const pusher = (pushkey: string, data: Json, extra: Json = {}) => ({
  pushkey,
  kind: 'http',
  app_id: 'org.example.app',
  app_display_name: 'Example',
  device_display_name: 'Phone',
  lang: 'en',
  data,
  ...extra,
});
const setPusher = (u: User, body: Json) => call('POST', '/pushers/set', u.access_token, body);
const pushkeys = async (u: User) => ((await call('GET', '/pushers', u.access_token)).body.pushers as Json[]).map((p) => p.pushkey as string);
async function send(body: string, extra: Json = {}): Promise<string> {
  const r = await call('PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/p${++txn}`, alice.access_token, { msgtype: 'm.text', body, ...extra });
  expect(r.status).toBe(200);
  return r.body.event_id as string;
}

beforeAll(async () => {
  ({ node, url } = await startTestNode());
  gw = new Gateway();
  await gw.start();
  alice = await registerUser(url, 'alice');
  bob = await registerUser(url, 'bob');
  roomId = (await call('POST', '/createRoom', alice.access_token, { preset: 'public_chat', name: 'Garden' })).body.room_id;
  expect((await call('POST', `/join/${encodeURIComponent(roomId)}`, bob.access_token, {})).status).toBe(200);
  node.notifications.delivery.backoff = { initialMs: 150, maxMs: 2000, maxAttempts: 4 };
});
afterAll(async () => {
  await node.stop();
  await gw.stop();
});

describe('pushers', () => {
  it('a pusher receives the spec payload at its gateway; event_id_only gets ids and counts only', async () => {
    expect((await setPusher(bob, pusher('full-key', { url: gw.url, custom: 'x' }))).status).toBe(200);
    expect((await setPusher(bob, pusher('lean-key', { url: gw.url, format: 'event_id_only' }))).status).toBe(200);
    const listed = await call('GET', '/pushers', bob.access_token);
    expect(listed.body.pushers.map((p: Json) => p.pushkey).sort()).toEqual(['full-key', 'lean-key']);
    if (!specMissing) expectMatchesSpec('GET', '/pushers', 200, listed.body);

    const eventId = await send('hello bob', { 'm.mentions': { user_ids: [bob.user_id] } });
    await gw.waitFor(2);
    const byKey = new Map(gw.hits.map((h) => [h.body.notification.devices[0].pushkey as string, h.body.notification as Json]));
    const full = byKey.get('full-key')!;
    expect(full).toMatchObject({
      event_id: eventId,
      room_id: roomId,
      type: 'm.room.message',
      sender: alice.user_id,
      sender_display_name: 'alice',
      room_name: 'Garden',
      prio: 'high',
      content: { msgtype: 'm.text', body: 'hello bob' },
      counts: { unread: 1 },
    });
    expect(full.devices[0]).toMatchObject({ app_id: 'org.example.app', pushkey: 'full-key', data: { custom: 'x' }, tweaks: { highlight: true } });
    expect(full.devices[0].data.url).toBeUndefined();
    expect(Number.isInteger(full.devices[0].pushkey_ts)).toBe(true);
    const lean = byKey.get('lean-key')!;
    expect(Object.keys(lean).sort()).toEqual(['counts', 'devices', 'event_id', 'prio', 'room_id']);
    expect(lean.devices[0].data).toEqual({ format: 'event_id_only' });
    if (!specMissing) for (const h of gw.hits) expectMatchesRequestSpec('push-gateway', 'POST', '/notify', h.body);
    // Alice sent it: her own event is not pushed to her (she has no pusher, and no count).
    expect(gw.hits.every((h) => h.body.notification.devices[0].pushkey !== 'alice')).toBe(true);
    await setPusher(bob, { ...pusher('lean-key', {}), kind: null });
    expect(await pushkeys(bob)).toEqual(['full-key']);
  });

  it('a failing gateway is retried with exponential backoff', async () => {
    gw.hits.length = 0;
    let fails = 2;
    gw.reply = () => (fails-- > 0 ? { status: 503 } : { status: 200, body: { rejected: [] } });
    await send('are you there');
    await gw.waitFor(3);
    const gaps = [gw.hits[1]!.at - gw.hits[0]!.at, gw.hits[2]!.at - gw.hits[1]!.at];
    // 150 ms, then 300 ms (timers may fire a little early or late).
    expect(gaps[0]).toBeGreaterThanOrEqual(140);
    expect(gaps[1]).toBeGreaterThanOrEqual(280);
    expect(gaps[1]).toBeGreaterThan(gaps[0]! * 1.5);
    expect(gw.hits.every((h) => h.body.notification.content.body === 'are you there')).toBe(true);
    await new Promise((r) => setTimeout(r, 400));
    expect(gw.hits.length).toBe(3);
    expect(await pushkeys(bob)).toEqual(['full-key']);
  });

  it('a slow gateway never holds up events or counts', async () => {
    gw.hits.length = 0;
    gw.reply = () => 'hang';
    const t0 = Date.now();
    await send('first while hanging');
    await gw.waitFor(1);
    await send('second while hanging');
    await node.log.drain();
    const s = await call('GET', '/sync?timeout=0&set_presence=offline', bob.access_token);
    expect(s.body.rooms.join[roomId].unread_notifications.notification_count).toBe(4);
    expect(Date.now() - t0).toBeLessThan(3000);
    // The second waits behind the first in the pusher's queue.
    expect(gw.hits.length).toBe(1);
    expect(node.notifications.delivery.pending).toBe(2);
    gw.reply = () => ({ status: 200, body: { rejected: [] } });
  });

  it('a gateway that rejects the pushkey removes the pusher', async () => {
    const rejecting = new Gateway();
    await rejecting.start();
    try {
      rejecting.reply = (b) => ({ status: 200, body: { rejected: [b.notification.devices[0].pushkey] } });
      expect((await setPusher(bob, pusher('doomed', { url: rejecting.url }, { append: true }))).status).toBe(200);
      expect((await pushkeys(bob)).sort()).toEqual(['doomed', 'full-key']);
      await send('bye pusher');
      await rejecting.waitFor(1);
      for (let i = 0; i < 50 && (await pushkeys(bob)).includes('doomed'); i++) await new Promise((r) => setTimeout(r, 20));
      expect(await pushkeys(bob)).toEqual(['full-key']);
    } finally {
      await rejecting.stop();
    }
  });

  it('without append, a pusher takes over the same app id and pushkey from another user', async () => {
    expect((await setPusher(alice, pusher('full-key', { url: gw.url }))).status).toBe(200);
    expect(await pushkeys(alice)).toEqual(['full-key']);
    expect(await pushkeys(bob)).toEqual([]);
  });

  it('refuses malformed pusher bodies with the spec\'s errcodes', async () => {
    const cases: Array<[Json, string]> = [
      [{ app_id: 'a', kind: 'http' }, 'M_MISSING_PARAM'],
      [{ pushkey: 'k', app_id: 'a' }, 'M_MISSING_PARAM'],
      [{ pushkey: 'k', kind: 'http' }, 'M_MISSING_PARAM'],
      [{ ...pusher('k', { url: gw.url }), lang: undefined }, 'M_MISSING_PARAM'],
      [{ ...pusher('k', { url: gw.url }), data: undefined }, 'M_MISSING_PARAM'],
      [pusher('k', {}), 'M_MISSING_PARAM'],
      [pusher('k', { url: 'not a url' }), 'M_INVALID_PARAM'],
      [pusher('k', { url: 'http://127.0.0.1:1/push' }), 'M_INVALID_PARAM'],
      [pusher('k', { url: 'ftp://127.0.0.1/_matrix/push/v1/notify' }), 'M_INVALID_PARAM'],
      [pusher('k', { url: gw.url, format: 'full' }), 'M_BAD_JSON'],
      [{ ...pusher('k', { url: gw.url }), kind: 'sms' }, 'M_BAD_JSON'],
      [{ ...pusher('k', { url: gw.url }), data: 'x' }, 'M_BAD_JSON'],
      [{ ...pusher('k', { url: gw.url }), append: 'yes' }, 'M_BAD_JSON'],
      [pusher('k'.repeat(513), { url: gw.url }), 'M_BAD_JSON'],
      [{ ...pusher('k', { url: gw.url }), app_id: 'a'.repeat(65) }, 'M_BAD_JSON'],
      [{ ...pusher('k', { url: gw.url }), pushkey: 5 }, 'M_BAD_JSON'],
    ];
    for (const [body, errcode] of cases) {
      const r = await setPusher(bob, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.errcode, JSON.stringify(body)).toBe(errcode);
    }
    const notJson = await fetch(`${url}/_matrix/client/v3/pushers/set`, { method: 'POST', headers: { Authorization: `Bearer ${bob.access_token}` }, body: '{nope' });
    expect(notJson.status).toBe(400);
    expect(await pushkeys(bob)).toEqual([]);
  });
});
