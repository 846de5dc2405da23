import { ClientEvent, Direction, createClient, type MatrixClient } from 'matrix-js-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { registerUser, startTestNode } from './node.js';

let node: AxonNode;
let url: string;
const clients: MatrixClient[] = [];

beforeAll(async () => {
  ({ node, url } = await startTestNode());
});
afterAll(async () => {
  for (const c of clients) c.stopClient();
  await node.stop();
});

async function loggedIn(username: string): Promise<MatrixClient> {
  await registerUser(url, username, `pw-${username}`);
  const anon = createClient({ baseUrl: url });
  const login = await anon.loginRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password: `pw-${username}` });
  const client = createClient({ baseUrl: url, userId: login.user_id, accessToken: login.access_token, deviceId: login.device_id });
  clients.push(client);
  return client;
}

async function synced(client: MatrixClient): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    client.on(ClientEvent.Sync, (state) => {
      if (state === 'PREPARED') resolve();
      if (state === 'ERROR') reject(new Error('sync error'));
    });
    void client.startClient({ initialSyncLimit: 20 });
  });
}

function waitFor(predicate: () => boolean, what: string, ms = 15_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

describe('matrix-js-sdk against a real Axon node', () => {
  it('two users chat: register, log in, create, invite, join, 100 messages, paginate, leave; a third is kicked and banned', async () => {
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    const eve = await loggedIn('eve');
    expect(await alice.whoami()).toMatchObject({ user_id: alice.getUserId() });

    const { room_id: roomId } = await alice.createRoom({ name: 'Chat', preset: 'private_chat' as never });
    await alice.invite(roomId, bob.getUserId()!);
    await synced(bob);
    await waitFor(() => bob.getRoom(roomId)?.getMyMembership() === 'invite', 'bob sees the invite');
    await bob.joinRoom(roomId);
    await waitFor(() => bob.getRoom(roomId)?.getMyMembership() === 'join', 'bob joined');

    const sent: string[] = [];
    for (let i = 0; i < 100; i++) {
      const sender = i % 2 === 0 ? alice : bob;
      const body = `message ${i}`;
      await sender.sendTextMessage(roomId, body);
      sent.push(body);
    }
    const bobRoom = bob.getRoom(roomId)!;
    const bodies = () =>
      bobRoom
        .getLiveTimeline()
        .getEvents()
        .filter((e) => e.getType() === 'm.room.message')
        .map((e) => e.getContent().body as string);
    await waitFor(() => bodies().length >= 100, 'bob receives 100 messages');
    expect(bodies()).toEqual(sent);
    // No typing noise arrived in any sync (typing comes with the EDU issue).
    expect(bobRoom.getMembers().every((m) => !m.typing)).toBe(true);

    // Paginate the whole history backwards, then forwards, in pages of 7.
    const back: string[] = [];
    let from: string | undefined;
    for (;;) {
      const page = await alice.createMessagesRequest(roomId, from ?? null, 7, Direction.Backward);
      back.push(...page.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body as string));
      if (!page.end) break;
      from = page.end;
    }
    expect(back).toEqual([...sent].reverse());
    const fwd: string[] = [];
    let token: string | undefined; // no token: from the start of the room
    for (;;) {
      const page = await alice.createMessagesRequest(roomId, token ?? null, 7, Direction.Forward);
      fwd.push(...page.chunk.filter((e) => e.type === 'm.room.message').map((e) => e.content.body as string));
      if (!page.end || page.chunk.length === 0) break;
      token = page.end;
    }
    expect(fwd).toEqual(sent);

    // Eve joins a public room, is kicked, rejoins, is banned and cannot rejoin.
    const { room_id: pub } = await alice.createRoom({ preset: 'public_chat' as never, name: 'Public' });
    await eve.joinRoom(pub);
    await alice.kick(pub, eve.getUserId()!, 'out');
    expect((await alice.getStateEvent(pub, 'm.room.member', eve.getUserId()!)).membership).toBe('leave');
    await eve.joinRoom(pub);
    await alice.ban(pub, eve.getUserId()!, 'gone');
    await expect(eve.joinRoom(pub)).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });

    await bob.leave(roomId);
    await waitFor(() => bob.getRoom(roomId)?.getMyMembership() === 'leave', 'bob left');
    expect((await alice.getJoinedRoomMembers(roomId)).joined).not.toHaveProperty(bob.getUserId()!);
  });
});
