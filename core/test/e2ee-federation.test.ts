import type { MatrixClient } from 'matrix-js-sdk';
import { decrypted, loginWithCrypto, quietSdk, sdkPassword, waitFor } from './sdk.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { TEST_P2P, loopbackAddr, registerUser, startTestNode } from './node.js';

/**
 * End-to-end encryption between users on two nodes that federate over libp2p: keys are
 * queried and claimed across servers, room keys travel as to-device EDUs, and a device added
 * later reaches the other server as a device list update.
 */
let A: AxonNode, B: AxonNode;
let aUrl: string, bUrl: string;
const clients: MatrixClient[] = [];


beforeAll(async () => {
  quietSdk();
  const a = await startTestNode();
  A = a.node;
  aUrl = a.url;
  const b = await startTestNode({ p2p: { ...TEST_P2P, peers: [loopbackAddr(A)] } });
  B = b.node;
  bUrl = b.url;
});
afterAll(async () => {
  for (const c of clients) c.stopClient();
  await Promise.all([A?.stop(), B?.stop()]);
});

describe('end-to-end encryption across two nodes', () => {
  it('users on two servers exchange encrypted messages, and a later device of one decrypts new ones', async () => {
    await registerUser(aUrl, 'alice', sdkPassword('alice'));
    await registerUser(bUrl, 'bob', sdkPassword('bob'));
    const alice = await loginWithCrypto(aUrl, 'alice', clients);
    const bob = await loginWithCrypto(bUrl, 'bob', clients);

    const { room_id: roomId } = await alice.createRoom({
      preset: 'private_chat' as never,
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await alice.invite(roomId, bob.getUserId()!);
    await waitFor(() => bob.getRoom(roomId)?.getMyMembership() === 'invite', 'bob sees the invite');
    await bob.joinRoom(roomId);
    await waitFor(() => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'join', 'alice sees bob join');

    await alice.sendTextMessage(roomId, 'hello bob, across servers');
    await waitFor(() => decrypted(bob, roomId).includes('hello bob, across servers'), 'bob decrypts alice');
    await bob.sendTextMessage(roomId, 'hello alice, from B');
    await waitFor(() => decrypted(alice, roomId).includes('hello alice, from B'), 'alice decrypts bob');

    const bob2 = await loginWithCrypto(bUrl, 'bob', clients);
    await waitFor(() => bob2.getRoom(roomId)?.getMyMembership() === 'join', 'bob2 sees the room');
    const devices = async () => (await alice.getCrypto()!.getUserDeviceInfo([bob.getUserId()!], true)).get(bob.getUserId()!)?.size ?? 0;
    const start = Date.now();
    while ((await devices()) < 2 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 100));
    expect(await devices()).toBe(2);
    await alice.sendTextMessage(roomId, 'for both devices');
    await waitFor(() => decrypted(bob2, roomId).includes('for both devices'), 'bob2 decrypts alice');
    await waitFor(() => decrypted(bob, roomId).includes('for both devices'), 'bob decrypts it too');

    // Cross-signing on A: bob's server learns alice's new master key (m.signing_key_update,
    // then /user/keys/query) and bob's client sees it.
    await alice.getCrypto()!.bootstrapCrossSigning({
      authUploadDeviceSigningKeys: async (makeRequest) => {
        await makeRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: sdkPassword('alice') });
      },
    });
    expect(await alice.getCrypto()!.isCrossSigningReady()).toBe(true);
    const aliceMaster = async () => {
      const r = (await bob.http.authedRequest('POST' as never, '/keys/query', undefined, { device_keys: { [alice.getUserId()!]: [] } })) as { master_keys?: Record<string, unknown> };
      return r.master_keys?.[alice.getUserId()!];
    };
    const t0 = Date.now();
    while (!(await aliceMaster()) && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 100));
    expect(await aliceMaster()).toMatchObject({ usage: ['master'], user_id: alice.getUserId() });
  }, 120_000);
});
