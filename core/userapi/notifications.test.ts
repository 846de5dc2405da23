import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, registerUser, startTestNode, type ResponseJson } from '../test/node.js';
import { expectMatchesSpec, specMissing } from '../test/openapi.js';

type Json = ResponseJson;
type User = { user_id: string; access_token: string };

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let roomId: string;
let txn = 0;

const call = (method: string, path: string, token: string, body?: unknown) => clientCall(url, method, path, token, body);
const room = () => encodeURIComponent(roomId);

async function send(u: User, content: Json): Promise<string> {
  const r = await call('PUT', `/rooms/${room()}/send/m.room.message/n${++txn}`, u.access_token, { msgtype: 'm.text', ...content });
  expect(r.status).toBe(200);
  return r.body.event_id as string;
}

async function receipt(u: User, eventId: string, threadId?: string): Promise<void> {
  const r = await call('POST', `/rooms/${room()}/receipt/m.read/${encodeURIComponent(eventId)}`, u.access_token, threadId ? { thread_id: threadId } : {});
  expect(r.status).toBe(200);
}

/** The user's joined-room entry of a fresh (initial) sync, after the node has caught up. */
async function roomEntry(u: User, filter?: Json): Promise<Json> {
  await node.log.drain();
  const q = new URLSearchParams({ timeout: '0', set_presence: 'offline' });
  if (filter) q.set('filter', JSON.stringify(filter));
  const r = await call('GET', `/sync?${q}`, u.access_token);
  expect(r.status).toBe(200);
  return r.body.rooms.join[roomId];
}

const counts = async (u: User) => (await roomEntry(u)).unread_notifications as Json;
const THREADED = { room: { timeline: { unread_thread_notifications: true } } };

beforeAll(async () => {
  ({ node, url } = await startTestNode());
  alice = await registerUser(url, 'alice');
  bob = await registerUser(url, 'bob');
  // Three members, so the room is not a one-to-one and plain messages use .m.rule.message.
  const carol = await registerUser(url, 'carol');
  roomId = (await call('POST', '/createRoom', alice.access_token, { preset: 'public_chat' })).body.room_id;
  for (const u of [bob, carol]) expect((await call('POST', `/join/${room()}`, u.access_token, {})).status).toBe(200);
});
afterAll(() => node.stop());

describe('notification counts', () => {
  it('a message counts for the others, never for its sender; a mention highlights; a receipt resets', async () => {
    expect(await counts(bob)).toEqual({ notification_count: 0, highlight_count: 0 });
    const before = node.notifications.head();
    await send(alice, { body: 'hello all' });
    expect(await counts(bob)).toEqual({ notification_count: 1, highlight_count: 0 });
    expect(await counts(alice)).toEqual({ notification_count: 0, highlight_count: 0 });
    // The count change has a sync position for Bob (so a sync that ran before the count
    // shows the room again), not for Alice.
    expect(node.notifications.changedRooms(bob.user_id, before, node.notifications.head())).toEqual([roomId]);
    expect(node.notifications.changedRooms(alice.user_id, before, node.notifications.head())).toEqual([]);

    const mention = await send(alice, { body: 'bob: look', 'm.mentions': { user_ids: [bob.user_id] } });
    expect(await counts(bob)).toEqual({ notification_count: 2, highlight_count: 1 });
    // A notice does not notify (.m.rule.suppress_notices).
    await send(alice, { msgtype: 'm.notice', body: 'bot says hi' });
    expect(await counts(bob)).toEqual({ notification_count: 2, highlight_count: 1 });

    await receipt(bob, mention);
    expect(await counts(bob)).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it('@room highlights only when the sender may notify the room (power levels from the room server)', async () => {
    const before = (await roomEntry(alice)).unread_notifications as Json;
    // Bob has power level 0; notifications.room needs 50: a plain notification for Alice.
    const fromBob = await send(bob, { body: 'everyone!', 'm.mentions': { room: true } });
    expect(await counts(alice)).toEqual({ notification_count: before.notification_count + 1, highlight_count: before.highlight_count });
    // Alice created the room (100): a highlight for Bob.
    const fromAlice = await send(alice, { body: 'everyone, really', 'm.mentions': { room: true } });
    expect(await counts(bob)).toEqual({ notification_count: 1, highlight_count: 1 });
    await receipt(alice, fromBob);
    await receipt(bob, fromAlice);
  });

  it('a waiting /sync wakes when a receipt clears the counts, and shows them', async () => {
    const last = await send(alice, { body: 'one more' });
    await node.log.drain();
    const first = await call('GET', '/sync?timeout=0&set_presence=offline', bob.access_token);
    expect(first.body.rooms.join[roomId].unread_notifications.notification_count).toBe(1);
    const waiting = call('GET', `/sync?timeout=5000&set_presence=offline&since=${first.body.next_batch}`, bob.access_token);
    await new Promise((r) => setTimeout(r, 50));
    await receipt(bob, last);
    // The receipt itself wakes the sync; the counts may follow in a later one.
    let body = (await waiting).body;
    for (let i = 0; i < 5 && body.rooms.join[roomId]?.unread_notifications?.notification_count !== 0; i++) {
      body = (await call('GET', `/sync?timeout=2000&set_presence=offline&since=${body.next_batch}`, bob.access_token)).body;
    }
    expect(body.rooms.join[roomId].unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
  });

  it('counts per thread, cleared by threaded and unthreaded receipts', async () => {
    const root = await send(alice, { body: 'thread root' });
    const inThread = (body: string, extra: Json = {}) => send(alice, { body, 'm.relates_to': { rel_type: 'm.thread', event_id: root }, ...extra });
    const t1 = await inThread('reply one');
    await inThread('reply two', { 'm.mentions': { user_ids: [bob.user_id] } });

    const threaded = await roomEntry(bob, THREADED);
    if (!specMissing) {
      const whole = await call('GET', `/sync?timeout=0&set_presence=offline&filter=${encodeURIComponent(JSON.stringify(THREADED))}`, bob.access_token);
      expectMatchesSpec('GET', '/sync', 200, whole.body);
    }
    expect(threaded.unread_notifications).toEqual({ notification_count: 1, highlight_count: 0 });
    expect(threaded.unread_thread_notifications).toEqual({ [root]: { notification_count: 2, highlight_count: 1 } });
    // Without the filter flag, threads fold into the room's counts.
    const plain = await roomEntry(bob);
    expect(plain.unread_notifications).toEqual({ notification_count: 3, highlight_count: 1 });
    expect(plain.unread_thread_notifications).toBeUndefined();

    // A receipt in the thread reads up to its event in that thread only.
    await receipt(bob, t1, root);
    let e = await roomEntry(bob, THREADED);
    expect(e.unread_thread_notifications).toEqual({ [root]: { notification_count: 1, highlight_count: 1 } });
    expect(e.unread_notifications).toEqual({ notification_count: 1, highlight_count: 0 });
    // A main-timeline receipt reads the main timeline only.
    await receipt(bob, root, 'main');
    e = await roomEntry(bob, THREADED);
    expect(e.unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
    expect(e.unread_thread_notifications).toEqual({ [root]: { notification_count: 1, highlight_count: 1 } });
    // An unthreaded receipt at the latest event reads everything.
    const last = await inThread('reply three');
    await receipt(bob, last);
    e = await roomEntry(bob, THREADED);
    expect(e.unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
    expect(e.unread_thread_notifications).toEqual({});
  });

  it('a disabled rule stops notifying; a room rule can silence a room', async () => {
    const off = await call('PUT', `/pushrules/global/room/${room()}`, bob.access_token, { actions: [] });
    expect(off.status).toBe(200);
    await send(alice, { body: 'quiet please' });
    expect((await counts(bob)).notification_count).toBe(0);
    expect((await call('DELETE', `/pushrules/global/room/${room()}`, bob.access_token)).status).toBe(200);
    await send(alice, { body: 'loud again' });
    expect((await counts(bob)).notification_count).toBe(1);
  });
});

describe('GET /notifications', () => {
  it('lists notifications newest first, with read flags, highlights only, and pages', async () => {
    await node.log.drain();
    const all = await call('GET', '/notifications', bob.access_token);
    expect(all.status).toBe(200);
    if (!specMissing) expectMatchesSpec('GET', '/notifications', 200, all.body);
    const list = all.body.notifications as Json[];
    expect(list.length).toBeGreaterThanOrEqual(7);
    expect(list[0]!.event.content.body).toBe('loud again');
    expect(list[0]!.read).toBe(false);
    expect(list.find((n) => n.event.content.body === 'hello all')!.read).toBe(true);
    expect(list.every((n) => n.event.sender === alice.user_id && n.room_id === roomId)).toBe(true);
    expect(list.map((n) => n.ts)).toEqual([...list.map((n) => n.ts)].sort((a, b) => b - a));

    const hl = (await call('GET', '/notifications?only=highlight', bob.access_token)).body.notifications as Json[];
    expect(hl.map((n) => n.event.content.body).sort()).toEqual(['bob: look', 'everyone, really', 'reply two']);
    expect(hl.every((n) => n.actions.some((a: Json) => a.set_tweak === 'highlight'))).toBe(true);

    const seen: string[] = [];
    let from: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await call('GET', `/notifications?limit=3${from ? `&from=${from}` : ''}`, bob.access_token);
      expect(page.status).toBe(200);
      seen.push(...(page.body.notifications as Json[]).map((n) => n.event.event_id as string));
      from = page.body.next_token;
      if (!from) break;
    }
    expect(seen).toEqual(list.map((n) => n.event.event_id));
    // Alice's only notification is Bob's @room, read and without highlight.
    const hers = (await call('GET', '/notifications', alice.access_token)).body.notifications as Json[];
    expect(hers.map((n) => [n.event.content.body, n.read, n.actions])).toEqual([['everyone!', true, ['notify']]]);
  });

  it('an invite notifies the invitee, who is not in the room yet', async () => {
    const dave = await registerUser(url, 'dave');
    expect((await call('POST', `/rooms/${room()}/invite`, alice.access_token, { user_id: dave.user_id })).status).toBe(200);
    await node.log.drain();
    const list = (await call('GET', '/notifications', dave.access_token)).body.notifications as Json[];
    expect(list).toHaveLength(1);
    expect(list[0]!.event).toMatchObject({ type: 'm.room.member', state_key: dave.user_id, content: { membership: 'invite' } });
    expect(list[0]!.actions).toContain('notify');
  });

  it('answers bad parameters with 400, never 500', async () => {
    for (const q of ['limit=abc', 'limit=0', 'limit=-1', 'limit=1.5', 'from=abc', 'from=-3', 'from=99999999999999999999']) {
      const r = await call('GET', `/notifications?${q}`, bob.access_token);
      expect(r.status, q).toBe(400);
      expect(r.body.errcode, q).toBe('M_INVALID_PARAM');
    }
    const unknownOnly = await call('GET', '/notifications?only=everything&limit=1000', bob.access_token);
    expect(unknownOnly.status).toBe(200);
    expect((await fetch(`${url}/_matrix/client/v3/notifications`)).status).toBe(401);
  });
});
