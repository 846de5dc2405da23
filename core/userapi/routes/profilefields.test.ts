import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../../node.js';
import { clientCall, type RegisteredUser as User, startWithUsers } from '../../test/node.js';
import { expectMatchesSpec, specMissing } from '../../test/openapi.js';

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;

beforeAll(async () => {
  let users: User[];
  ({ node, url, users } = await startWithUsers(['alice', 'bob']));
  [alice, bob] = users as [User, User];
});
afterAll(async () => {
  await node.stop();
});

const p = (userId: string, key = '') => `/profile/${encodeURIComponent(userId)}${key ? `/${encodeURIComponent(key)}` : ''}`;

describe('profile fields beyond name and avatar (v1.16)', () => {
  it('sets, reads, lists and deletes m.tz and custom fields; the capability says so', async () => {
    expect((await clientCall(url, 'GET', '/capabilities', alice.access_token)).body.capabilities['m.profile_fields']).toEqual({ enabled: true });
    const put = await clientCall(url, 'PUT', p(alice.user_id, 'm.tz'), alice.access_token, { 'm.tz': 'Europe/London' });
    expect(put).toEqual({ status: 200, body: {} });
    if (!specMissing) expectMatchesSpec('put', '/profile/{userId}/{keyName}', 200, put.body);
    expect((await clientCall(url, 'PUT', p(alice.user_id, 'com.example.pronouns'), alice.access_token, { 'com.example.pronouns': ['she', 'her'] })).status).toBe(200);
    expect((await clientCall(url, 'PUT', p(alice.user_id, 'displayname'), alice.access_token, { displayname: 'Alice' })).status).toBe(200);

    const one = await clientCall(url, 'GET', p(alice.user_id, 'm.tz'), bob.access_token);
    expect(one).toEqual({ status: 200, body: { 'm.tz': 'Europe/London' } });
    if (!specMissing) expectMatchesSpec('get', '/profile/{userId}/{keyName}', 200, one.body);
    const all = await clientCall(url, 'GET', p(alice.user_id), bob.access_token);
    expect(all.body).toEqual({ displayname: 'Alice', 'm.tz': 'Europe/London', 'com.example.pronouns': ['she', 'her'] });
    if (!specMissing) expectMatchesSpec('get', '/profile/{userId}', 200, all.body);

    expect((await clientCall(url, 'DELETE', p(alice.user_id, 'com.example.pronouns'), alice.access_token)).status).toBe(200);
    expect((await clientCall(url, 'GET', p(alice.user_id, 'com.example.pronouns'), alice.access_token)).status).toBe(404);
    // The display name goes with DELETE too, and leaves the member events of the user's rooms.
    const room = (await clientCall(url, 'POST', '/createRoom', alice.access_token, {})).body.room_id as string;
    expect((await clientCall(url, 'DELETE', p(alice.user_id, 'displayname'), alice.access_token)).status).toBe(200);
    expect((await clientCall(url, 'GET', p(alice.user_id), alice.access_token)).body).toEqual({ 'm.tz': 'Europe/London' });
    const member = await clientCall(url, 'GET', `/rooms/${encodeURIComponent(room)}/state/m.room.member/${encodeURIComponent(alice.user_id)}`, alice.access_token);
    expect(member.body).toEqual({ membership: 'join' });
  });

  it('refuses other users, bad keys, bodies without the key, a non-string m.tz and profiles over 64 KiB', async () => {
    const other = await clientCall(url, 'PUT', p(alice.user_id, 'm.tz'), bob.access_token, { 'm.tz': 'UTC' });
    expect([other.status, other.body.errcode]).toEqual([403, 'M_FORBIDDEN']);
    if (!specMissing) expectMatchesSpec('put', '/profile/{userId}/{keyName}', 403, other.body);
    for (const key of ['Bad.Key', 'nodots', 'com..x', '1com.x']) {
      expect((await clientCall(url, 'PUT', p(bob.user_id, key), bob.access_token, { [key]: 1 })).body.errcode).toBe('M_INVALID_PARAM');
    }
    const long = `com.${'a'.repeat(260)}`;
    expect((await clientCall(url, 'PUT', p(bob.user_id, long), bob.access_token, { [long]: 1 })).body.errcode).toBe('M_KEY_TOO_LARGE');
    expect((await clientCall(url, 'PUT', p(bob.user_id, 'com.example.x'), bob.access_token, { other: 1 })).body.errcode).toBe('M_MISSING_PARAM');
    expect((await clientCall(url, 'PUT', p(bob.user_id, 'm.tz'), bob.access_token, { 'm.tz': 5 })).body.errcode).toBe('M_BAD_JSON');
    expect((await clientCall(url, 'PUT', p(bob.user_id, 'com.example.a'), bob.access_token, { 'com.example.a': 'x'.repeat(40_000) })).status).toBe(200);
    const tooBig = await clientCall(url, 'PUT', p(bob.user_id, 'com.example.b'), bob.access_token, { 'com.example.b': 'y'.repeat(30_000) });
    expect([tooBig.status, tooBig.body.errcode]).toEqual([400, 'M_PROFILE_TOO_LARGE']);
    if (!specMissing) expectMatchesSpec('put', '/profile/{userId}/{keyName}', 400, tooBig.body);
    // Replacing a field counts its new size, not both.
    expect((await clientCall(url, 'PUT', p(bob.user_id, 'com.example.a'), bob.access_token, { 'com.example.a': 'z'.repeat(60_000) })).status).toBe(200);
    expect((await clientCall(url, 'GET', p(`@nobody:${node.serverName}`, 'm.tz'), bob.access_token)).status).toBe(404);
    expect((await clientCall(url, 'DELETE', p(alice.user_id, 'm.tz'), bob.access_token)).status).toBe(403);
  });
});
