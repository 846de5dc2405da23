import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../../node.js';
import { clientCall, type RegisteredUser as User, startWithUsers } from '../../test/node.js';
import { expectMatchesSpec, specMissing } from '../../test/openapi.js';

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let mallory: User;
let eve: User;

beforeAll(async () => {
  let users: User[];
  ({ node, url, users } = await startWithUsers(['alice', 'bob', 'mallory', 'eve']));
  [alice, bob, mallory, eve] = users as [User, User, User, User];
});
afterAll(async () => {
  await node.stop();
});

const enc = encodeURIComponent;
const state = async (who: User, roomId: string, type: string, key = '') => clientCall(url, 'GET', `/rooms/${enc(roomId)}/state/${type}/${key}`, who.access_token);

describe('POST /rooms/{roomId}/upgrade', () => {
  it('replaces the room: state, power levels, bans, alias and directory listing move; the old room gets a tombstone and is closed', async () => {
    const created = await clientCall(url, 'POST', '/createRoom', alice.access_token, {
      room_version: '11',
      preset: 'public_chat',
      visibility: 'public',
      name: 'Lobby',
      topic: 'Talk here',
      room_alias_name: 'lobby',
      power_level_content_override: { users: { [alice.user_id]: 100, [bob.user_id]: 50 } },
    });
    const oldRoom = created.body.room_id as string;
    for (const u of [bob, mallory]) expect((await clientCall(url, 'POST', `/join/${enc(oldRoom)}`, u.access_token, {})).status).toBe(200);
    expect((await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/ban`, alice.access_token, { user_id: mallory.user_id, reason: 'spam' })).status).toBe(200);

    // Bob (50) may not send the tombstone (100); eve is not in the room.
    const bobTry = await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, bob.access_token, { new_version: '12' });
    expect(bobTry.status).toBe(403);
    if (!specMissing) expectMatchesSpec('post', '/rooms/{roomId}/upgrade', 403, bobTry.body);
    expect((await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, eve.access_token, { new_version: '12' })).status).toBe(403);
    const badVersion = await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, alice.access_token, { new_version: '999' });
    expect(badVersion.status).toBe(400);
    expect(badVersion.body.errcode).toBe('M_UNSUPPORTED_ROOM_VERSION');
    if (!specMissing) expectMatchesSpec('post', '/rooms/{roomId}/upgrade', 400, badVersion.body);
    expect((await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, alice.access_token, {})).body.errcode).toBe('M_MISSING_PARAM');
    expect((await clientCall(url, 'POST', `/rooms/${enc(`!nope:${node.serverName}`)}/upgrade`, alice.access_token, { new_version: '12' })).status).toBe(404);

    const r = await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, alice.access_token, { new_version: '12' });
    expect(r.status).toBe(200);
    if (!specMissing) expectMatchesSpec('post', '/rooms/{roomId}/upgrade', 200, r.body);
    const newRoom = r.body.replacement_room as string;
    expect(newRoom).not.toBe(oldRoom);

    const create = await state(alice, newRoom, 'm.room.create');
    expect(create.body).toMatchObject({ room_version: '12', predecessor: { room_id: oldRoom } });
    expect((await state(alice, newRoom, 'm.room.name')).body).toEqual({ name: 'Lobby' });
    expect((await state(alice, newRoom, 'm.room.topic')).body.topic).toBe('Talk here');
    expect((await state(alice, newRoom, 'm.room.join_rules')).body).toEqual({ join_rule: 'public' });
    // Alice is a v12 creator now, so unlisted; bob keeps his level.
    expect((await state(alice, newRoom, 'm.room.power_levels')).body.users).toEqual({ [bob.user_id]: 50 });
    expect((await state(alice, newRoom, 'm.room.member', mallory.user_id)).body).toMatchObject({ membership: 'ban', reason: 'spam' });
    // Bob is not moved: he joins the new room himself (clients follow the tombstone).
    expect((await state(alice, newRoom, 'm.room.member', bob.user_id)).status).toBe(404);

    const alias = await fetch(`${url}/_matrix/client/v3/directory/room/${enc(`#lobby:${node.serverName}`)}`);
    expect(((await alias.json()) as { room_id: string }).room_id).toBe(newRoom);
    expect((await state(alice, newRoom, 'm.room.canonical_alias')).body.alias).toBe(`#lobby:${node.serverName}`);
    const listed = (await clientCall(url, 'GET', '/publicRooms', alice.access_token)).body.chunk.map((c: { room_id: string }) => c.room_id);
    expect(listed).toContain(newRoom);
    expect(listed).not.toContain(oldRoom);

    expect((await state(bob, oldRoom, 'm.room.tombstone')).body).toEqual({ body: 'This room has been replaced', replacement_room: newRoom });
    const oldPl = (await state(bob, oldRoom, 'm.room.power_levels')).body;
    expect([oldPl.events_default, oldPl.invite]).toEqual([50, 50]);
    // Bob, a moderator, can still speak in the old room; mallory could not rejoin anyway.
    expect((await clientCall(url, 'PUT', `/rooms/${enc(oldRoom)}/send/m.room.message/t1`, bob.access_token, { msgtype: 'm.text', body: 'moving' })).status).toBe(200);
    expect((await clientCall(url, 'POST', `/join/${enc(newRoom)}`, bob.access_token, {})).status).toBe(200);
    expect((await clientCall(url, 'POST', `/join/${enc(newRoom)}`, mallory.access_token, {})).status).toBe(403);
  });

  it('a regular member of an upgraded room cannot speak in the old one any more', async () => {
    const oldRoom = (await clientCall(url, 'POST', '/createRoom', alice.access_token, { room_version: '10', preset: 'public_chat' })).body.room_id as string;
    await clientCall(url, 'POST', `/join/${enc(oldRoom)}`, eve.access_token, {});
    const r = await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, alice.access_token, { new_version: '11' });
    expect(r.status).toBe(200);
    expect((await state(alice, r.body.replacement_room, 'm.room.create')).body.predecessor).toMatchObject({ room_id: oldRoom, event_id: expect.stringMatching(/^\$/) });
    expect((await clientCall(url, 'PUT', `/rooms/${enc(oldRoom)}/send/m.room.message/t2`, eve.access_token, { msgtype: 'm.text', body: 'hello?' })).status).toBe(403);
    expect((await state(alice, r.body.replacement_room, 'm.room.power_levels')).body.users).toEqual({ [alice.user_id]: 100 });
  });

  it('a user joining the replacement room keeps their tags and their notification settings for the old one', async () => {
    const oldRoom = (await clientCall(url, 'POST', '/createRoom', alice.access_token, { room_version: '11', preset: 'public_chat' })).body.room_id as string;
    await clientCall(url, 'POST', `/join/${enc(oldRoom)}`, bob.access_token, {});
    const t = bob.access_token;
    expect((await clientCall(url, 'PUT', `/user/${enc(bob.user_id)}/rooms/${enc(oldRoom)}/tags/m.favourite`, t, { order: 0.25 })).status).toBe(200);
    // Element's "mute": an override rule named after the room; "mentions only": a room rule.
    const mute = { actions: [], conditions: [{ kind: 'event_match', key: 'room_id', pattern: oldRoom }] };
    expect((await clientCall(url, 'PUT', `/pushrules/global/override/${enc(oldRoom)}`, t, mute)).status).toBe(200);
    expect((await clientCall(url, 'PUT', `/pushrules/global/room/${enc(oldRoom)}`, t, { actions: [] })).status).toBe(200);
    expect((await clientCall(url, 'PUT', `/pushrules/global/room/${enc(oldRoom)}/enabled`, t, { enabled: false })).status).toBe(200);

    const newRoom = (await clientCall(url, 'POST', `/rooms/${enc(oldRoom)}/upgrade`, alice.access_token, { new_version: '12' })).body.replacement_room as string;
    expect((await clientCall(url, 'POST', `/join/${enc(newRoom)}`, t, {})).status).toBe(200);

    expect((await clientCall(url, 'GET', `/user/${enc(bob.user_id)}/rooms/${enc(newRoom)}/tags`, t)).body).toEqual({ tags: { 'm.favourite': { order: 0.25 } } });
    const override = await clientCall(url, 'GET', `/pushrules/global/override/${enc(newRoom)}`, t);
    expect(override.body).toMatchObject({ rule_id: newRoom, actions: [], conditions: [{ kind: 'event_match', key: 'room_id', pattern: newRoom }], enabled: true });
    expect((await clientCall(url, 'GET', `/pushrules/global/room/${enc(newRoom)}`, t)).body).toMatchObject({ rule_id: newRoom, enabled: false });
    // The old room's rules stay as they were.
    expect((await clientCall(url, 'GET', `/pushrules/global/override/${enc(oldRoom)}`, t)).body.conditions[0].pattern).toBe(oldRoom);
  });
});
