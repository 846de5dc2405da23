import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../../node.js';
import { clientCall, type RegisteredUser as User, startWithUsers } from '../../test/node.js';
import { expectMatchesSpec, specMissing } from '../../test/openapi.js';

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let eve: User;
let publicRoom: string;
let privateRoom: string;

beforeAll(async () => {
  let users: User[];
  ({ node, url, users } = await startWithUsers(['alice', 'bob', 'eve']));
  [alice, bob, eve] = users as [User, User, User];
  publicRoom = (await clientCall(url, 'POST', '/createRoom', alice.access_token, { preset: 'public_chat', name: 'Town square', topic: 'All welcome', room_alias_name: 'square' })).body.room_id;
  privateRoom = (
    await clientCall(url, 'POST', '/createRoom', alice.access_token, {
      preset: 'private_chat',
      name: 'Secret',
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    })
  ).body.room_id;
  for (const r of [publicRoom, privateRoom]) await clientCall(url, 'POST', `/rooms/${encodeURIComponent(r)}/invite`, alice.access_token, { user_id: bob.user_id });
  for (const r of [publicRoom, privateRoom]) await clientCall(url, 'POST', `/join/${encodeURIComponent(r)}`, bob.access_token, {});
});
afterAll(async () => {
  await node.stop();
});

const summary = (roomIdOrAlias: string, token?: string) =>
  fetch(`${url}/_matrix/client/v1/room_summary/${encodeURIComponent(roomIdOrAlias)}`, token ? { headers: { Authorization: `Bearer ${token}` } } : {}).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
  }));

describe('GET /room_summary', () => {
  it('summarises a public room for anyone, by id or alias, with the caller’s membership when known', async () => {
    const anon = await summary(publicRoom);
    expect(anon.status).toBe(200);
    if (!specMissing) expectMatchesSpec('get', '/room_summary/{roomIdOrAlias}', 200, anon.body);
    expect(anon.body).toMatchObject({ room_id: publicRoom, name: 'Town square', topic: 'All welcome', join_rule: 'public', num_joined_members: 2, room_version: '12' });
    expect(anon.body.membership).toBeUndefined();
    const byAlias = await summary(`#square:${node.serverName}`, eve.access_token);
    expect(byAlias.body).toMatchObject({ room_id: publicRoom, canonical_alias: `#square:${node.serverName}` });
    expect(byAlias.body.membership).toBeUndefined();
    expect((await summary(publicRoom, bob.access_token)).body.membership).toBe('join');
  });

  it('shows a private room only to its members and invitees; 404 for the rest and for unknown rooms', async () => {
    const member = await summary(privateRoom, bob.access_token);
    expect(member.body).toMatchObject({ name: 'Secret', join_rule: 'invite', encryption: 'm.megolm.v1.aes-sha2', membership: 'join' });
    for (const r of [await summary(privateRoom, eve.access_token), await summary(privateRoom), await summary(`!nope:${node.serverName}`, bob.access_token), await summary(`#nope:${node.serverName}`)]) {
      expect(r.status).toBe(404);
      expect(r.body.errcode).toBe('M_NOT_FOUND');
    }
    if (!specMissing) expectMatchesSpec('get', '/room_summary/{roomIdOrAlias}', 404, (await summary(privateRoom)).body);
    await clientCall(url, 'POST', `/rooms/${encodeURIComponent(privateRoom)}/invite`, alice.access_token, { user_id: eve.user_id });
    expect((await summary(privateRoom, eve.access_token)).body.membership).toBe('invite');
    expect((await summary('not-a-room', eve.access_token)).body.errcode).toBe('M_INVALID_PARAM');
  });
});

describe('GET /mutual_rooms', () => {
  it('lists the rooms both users are joined to', async () => {
    const r = await clientCall(url, 'GET', `/../v1/mutual_rooms?user_id=${encodeURIComponent(bob.user_id)}`, alice.access_token);
    expect(r.status).toBe(200);
    if (!specMissing) expectMatchesSpec('get', '/mutual_rooms', 200, r.body);
    expect(r.body).toEqual({ joined: [publicRoom, privateRoom].sort(), count: 2 });
    // Eve is invited to one room, not joined: nothing shared.
    expect((await clientCall(url, 'GET', `/../v1/mutual_rooms?user_id=${encodeURIComponent(eve.user_id)}`, alice.access_token)).body).toEqual({ joined: [], count: 0 });
    expect((await clientCall(url, 'GET', `/../v1/mutual_rooms?user_id=${encodeURIComponent('@ghost:elsewhere.example')}`, alice.access_token)).body).toEqual({ joined: [], count: 0 });
  });

  it('refuses the caller’s own id, a bad id, a missing one and an unknown token', async () => {
    const self = await clientCall(url, 'GET', `/../v1/mutual_rooms?user_id=${encodeURIComponent(alice.user_id)}`, alice.access_token);
    expect(self.status).toBe(400);
    expect(self.body.errcode).toBe('M_INVALID_PARAM');
    if (!specMissing) expectMatchesSpec('get', '/mutual_rooms', 400, self.body);
    expect((await clientCall(url, 'GET', '/../v1/mutual_rooms?user_id=nobody', alice.access_token)).body.errcode).toBe('M_INVALID_PARAM');
    expect((await clientCall(url, 'GET', '/../v1/mutual_rooms', alice.access_token)).body.errcode).toBe('M_MISSING_PARAM');
    expect((await clientCall(url, 'GET', `/../v1/mutual_rooms?user_id=${encodeURIComponent(bob.user_id)}&from=x`, alice.access_token)).body.errcode).toBe('M_INVALID_PARAM');
  });
});
