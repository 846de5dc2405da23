import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../../node.js';
import { clientCall, registerAdmin, startWithUsers, type RegisteredUser as User } from '../../test/node.js';
import { expectMatchesSpec, specMissing } from '../../test/openapi.js';

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let eve: User;
let admin: User;
let roomId: string;
let eventId: string;

beforeAll(async () => {
  let users: User[];
  ({ node, url, users } = await startWithUsers(['alice', 'bob', 'eve'], { registrationSharedSecret: 'shh' }));
  [alice, bob, eve] = users as [User, User, User];
  admin = await registerAdmin(url, 'shh');
  roomId = (await clientCall(url, 'POST', '/createRoom', alice.access_token, { preset: 'public_chat', name: 'Lobby' })).body.room_id;
  await clientCall(url, 'POST', `/join/${encodeURIComponent(roomId)}`, bob.access_token, {});
  eventId = (await clientCall(url, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`, alice.access_token, { msgtype: 'm.text', body: 'rude' })).body.event_id;
});

afterAll(async () => {
  await node.stop();
});

const reportEvent = (who: User, room: string, event: string, body: unknown) =>
  clientCall(url, 'POST', `/rooms/${encodeURIComponent(room)}/report/${encodeURIComponent(event)}`, who.access_token, body);

describe('reporting content', () => {
  it('a member reports an event; the admin lists it as Synapse does; others may not list', async () => {
    const r = await reportEvent(bob, roomId, eventId, { reason: 'this makes me sad', score: -100 });
    expect(r).toEqual({ status: 200, body: {} });
    if (!specMissing) expectMatchesSpec('post', '/rooms/{roomId}/report/{eventId}', 200, r.body);
    // Without a reason too: it may be left out.
    expect((await reportEvent(bob, roomId, eventId, {})).status).toBe(200);

    const list = await fetch(`${url}/_synapse/admin/v1/event_reports?limit=1`, { headers: { Authorization: `Bearer ${admin.access_token}` } });
    expect(list.status).toBe(200);
    const page = (await list.json()) as { event_reports: Array<Record<string, unknown>>; total: number; next_token?: number };
    expect(page.total).toBe(2);
    expect(page.next_token).toBe(1);
    expect(page.event_reports).toEqual([
      expect.objectContaining({ room_id: roomId, event_id: eventId, user_id: bob.user_id, sender: alice.user_id, reason: '', name: 'Lobby' }),
    ]);
    const rest = (await (await fetch(`${url}/_synapse/admin/v1/event_reports?from=1`, { headers: { Authorization: `Bearer ${admin.access_token}` } })).json()) as typeof page;
    expect(rest.event_reports.map((e) => e.reason)).toEqual(['this makes me sad']);
    expect(rest.next_token).toBeUndefined();

    const denied = await fetch(`${url}/_synapse/admin/v1/event_reports`, { headers: { Authorization: `Bearer ${bob.access_token}` } });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { errcode: string }).errcode).toBe('M_FORBIDDEN');
  });

  it('an event is reported only by a member of its room, and only if it is in that room', async () => {
    // Eve is not in the room.
    const notMember = await reportEvent(eve, roomId, eventId, { reason: 'x' });
    expect(notMember.status).toBe(404);
    expect(notMember.body.errcode).toBe('M_NOT_FOUND');
    if (!specMissing) expectMatchesSpec('post', '/rooms/{roomId}/report/{eventId}', 404, notMember.body);
    const other = (await clientCall(url, 'POST', '/createRoom', bob.access_token, {})).body.room_id as string;
    // An event of another room, through a room the reporter is in.
    expect((await reportEvent(bob, other, eventId, { reason: 'x' })).status).toBe(404);
    expect((await reportEvent(bob, roomId, `$${'A'.repeat(43)}`, { reason: 'x' })).status).toBe(404);
    expect((await reportEvent(bob, roomId, 'not-an-id', { reason: 'x' })).body.errcode).toBe('M_INVALID_PARAM');
    expect((await reportEvent(bob, roomId, eventId, { reason: 5 })).body.errcode).toBe('M_BAD_JSON');
  });

  it('rooms and users are reported with a reason; unknown ones are 404', async () => {
    const room = await clientCall(url, 'POST', `/rooms/${encodeURIComponent(roomId)}/report`, eve.access_token, { reason: 'spam room' });
    expect(room).toEqual({ status: 200, body: {} });
    if (!specMissing) expectMatchesSpec('post', '/rooms/{roomId}/report', 200, room.body);
    const unknownRoom = await clientCall(url, 'POST', `/rooms/${encodeURIComponent(`!nope:${node.serverName}`)}/report`, eve.access_token, { reason: 'x' });
    expect(unknownRoom.status).toBe(404);
    if (!specMissing) expectMatchesSpec('post', '/rooms/{roomId}/report', 404, unknownRoom.body);
    expect((await clientCall(url, 'POST', `/rooms/${encodeURIComponent(roomId)}/report`, eve.access_token, {})).body.errcode).toBe('M_MISSING_PARAM');

    const user = await clientCall(url, 'POST', `/users/${encodeURIComponent(alice.user_id)}/report`, eve.access_token, { reason: 'harassment' });
    expect(user).toEqual({ status: 200, body: {} });
    if (!specMissing) expectMatchesSpec('post', '/users/{userId}/report', 200, user.body);
    const nobody = await clientCall(url, 'POST', `/users/${encodeURIComponent(`@nobody:${node.serverName}`)}/report`, eve.access_token, { reason: 'x' });
    expect(nobody.status).toBe(404);
    if (!specMissing) expectMatchesSpec('post', '/users/{userId}/report', 404, nobody.body);
    // Another server's user cannot be checked from here: taken.
    expect((await clientCall(url, 'POST', `/users/${encodeURIComponent('@someone:elsewhere.example')}/report`, eve.access_token, { reason: 'x' })).status).toBe(200);

    const rows = node.db.raw.prepare('SELECT kind, reporter, room_id, user_id, reason FROM ca_reports WHERE kind != ? ORDER BY id').all('event');
    expect(rows).toEqual([
      { kind: 'room', reporter: eve.user_id, room_id: roomId, user_id: null, reason: 'spam room' },
      { kind: 'user', reporter: eve.user_id, room_id: null, user_id: alice.user_id, reason: 'harassment' },
      { kind: 'user', reporter: eve.user_id, room_id: null, user_id: '@someone:elsewhere.example', reason: 'x' },
    ]);
  });
});
