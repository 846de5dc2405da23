import type { MatrixClient } from 'matrix-js-sdk';
import { decrypted, loginWithCrypto, quietSdk, sdkPassword, waitFor } from './sdk.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, registerUser, startTestNode } from './node.js';

/**
 * The acceptance test of the key server and to-device messages: matrix-js-sdk clients with
 * the Rust crypto (WASM) encrypt and decrypt each other's messages on one real node.
 */
let node: AxonNode;
let url: string;
const clients: MatrixClient[] = [];

beforeAll(async () => {
  // The SDK logs every request; loglevel underneath takes a level.
  quietSdk();
  ({ node, url } = await startTestNode());
});
afterAll(async () => {
  for (const c of clients) c.stopClient();
  await node.stop();
});

const password = sdkPassword;
const login = (username: string) => loginWithCrypto(url, username, clients);

describe('end-to-end encryption with matrix-js-sdk and Rust crypto', () => {
  it('two users exchange encrypted messages; a later device of the second decrypts new ones; cross-signing bootstraps', async () => {
    await registerUser(url, 'alice', password('alice'));
    await registerUser(url, 'bob', password('bob'));
    const alice = await login('alice');
    const bob = await login('bob');

    const { room_id: roomId } = await alice.createRoom({
      preset: 'private_chat' as never,
      initial_state: [{ type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } }],
    });
    await alice.invite(roomId, bob.getUserId()!);
    await waitFor(() => bob.getRoom(roomId)?.getMyMembership() === 'invite', 'bob sees the invite');
    await bob.joinRoom(roomId);
    await waitFor(() => alice.getRoom(roomId)?.getMember(bob.getUserId()!)?.membership === 'join', 'alice sees bob join');

    await alice.sendTextMessage(roomId, 'hello bob');
    await waitFor(() => decrypted(bob, roomId).includes('hello bob'), 'bob decrypts alice');
    await bob.sendTextMessage(roomId, 'hello alice');
    await waitFor(() => decrypted(alice, roomId).includes('hello alice'), 'alice decrypts bob');
    // The server only ever saw ciphertext.
    const raw = await clientCall(url, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=50`, alice.getAccessToken()!);
    const types = (raw.body.chunk as Array<{ type: string }>).map((e) => e.type);
    expect(types.filter((t) => t === 'm.room.encrypted').length).toBe(2);
    expect(types).not.toContain('m.room.message');

    // A third device (bob's second) logs in later and decrypts what is sent from then on.
    const bob2 = await login('bob');
    expect(bob2.getDeviceId()).not.toBe(bob.getDeviceId());
    await waitFor(() => bob2.getRoom(roomId)?.getMyMembership() === 'join', 'bob2 sees the room');
    // Alice learns of the new device from device_lists.changed and shares the session with it.
    const devices = async () => (await alice.getCrypto()!.getUserDeviceInfo([bob.getUserId()!], true)).get(bob.getUserId()!)?.size ?? 0;
    const start = Date.now();
    while ((await devices()) < 2 && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 50));
    expect(await devices()).toBe(2);
    await alice.sendTextMessage(roomId, 'for both of your devices');
    await waitFor(() => decrypted(bob2, roomId).includes('for both of your devices'), 'bob2 decrypts alice');
    await waitFor(() => decrypted(bob, roomId).includes('for both of your devices'), 'bob decrypts it too');
    await bob2.sendTextMessage(roomId, 'from my new device');
    await waitFor(() => decrypted(alice, roomId).includes('from my new device'), 'alice decrypts bob2');

    // Cross-signing: the first upload needs no UIA; a reset does, answered with the password.
    const crypto = alice.getCrypto()!;
    let uiaCalls = 0;
    const authUploadDeviceSigningKeys = async (makeRequest: (auth: Record<string, unknown> | null) => Promise<unknown>) => {
      uiaCalls++;
      await makeRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: password('alice') });
    };
    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys });
    expect(await crypto.isCrossSigningReady()).toBe(true);
    const q1 = await clientCall(url, 'POST', '/keys/query', alice.getAccessToken()!, { device_keys: { [alice.getUserId()!]: [] } });
    const master1 = q1.body.master_keys[alice.getUserId()!];
    expect(master1.usage).toEqual(['master']);
    expect(q1.body.self_signing_keys[alice.getUserId()!].usage).toEqual(['self_signing']);
    expect(q1.body.user_signing_keys[alice.getUserId()!].usage).toEqual(['user_signing']);
    // Alice's own device is signed by her self-signing key (uploaded through /keys/signatures/upload).
    const ssk = Object.values(q1.body.self_signing_keys[alice.getUserId()!].keys as Record<string, string>)[0]!;
    expect(q1.body.device_keys[alice.getUserId()!][alice.getDeviceId()!].signatures[alice.getUserId()!][`ed25519:${ssk}`]).toBeTypeOf('string');

    await crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys, setupNewCrossSigning: true });
    expect(uiaCalls).toBeGreaterThanOrEqual(1);
    const q2 = await clientCall(url, 'POST', '/keys/query', alice.getAccessToken()!, { device_keys: { [alice.getUserId()!]: [] } });
    expect(q2.body.master_keys[alice.getUserId()!].keys).not.toEqual(master1.keys);
    expect(await crypto.isCrossSigningReady()).toBe(true);

    // Server-side key backup: a new backup version, and the room keys alice holds reach it.
    await crypto.resetKeyBackup();
    const info = async () => (await clientCall(url, 'GET', '/room_keys/version', alice.getAccessToken()!)).body;
    const startedBackup = Date.now();
    while (((await info()).count ?? 0) < 1 && Date.now() - startedBackup < 30_000) await new Promise((r) => setTimeout(r, 100));
    const backup = await info();
    expect(backup.algorithm).toBe('m.megolm_backup.v1.curve25519-aes-sha2');
    expect(backup.count).toBeGreaterThanOrEqual(1);
    const stored = await clientCall(url, 'GET', `/room_keys/keys/${encodeURIComponent(roomId)}?version=${backup.version}`, alice.getAccessToken()!);
    expect(Object.keys(stored.body.sessions).length).toBeGreaterThanOrEqual(1);
    expect((await crypto.getActiveSessionBackupVersion()) ?? '').toBe(backup.version);
  }, 120_000);
});
