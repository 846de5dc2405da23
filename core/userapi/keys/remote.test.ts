import { describe, expect, it } from 'vitest';
import { encodeBase64, generateKeyPair, signJson } from '../../crypto/index.js';
import type { JsonObject } from '../../events/types.js';
import { testStorage } from '../../test/fixtures.js';
import { KeyServer } from './index.js';

const FAR = '@far:elsewhere.example';

function farDevice(deviceId: string): JsonObject {
  const key = generateKeyPair(`ed25519:${deviceId}`);
  return signJson({ user_id: FAR, device_id: deviceId, algorithms: ['m.olm.v1.curve25519-aes-sha2'], keys: { [`ed25519:${deviceId}`]: encodeBase64(key.publicKey) } }, FAR, key) as JsonObject;
}

/** A key server on a real database, with federation's query seam counting its calls. */
function setup(tracked: boolean) {
  const { db, log, logger } = testStorage();
  const keys = new KeyServer({ db, log, logger, serverName: 'here.example', devices: { device: () => undefined }, tracked: () => tracked });
  const remoteDevices: Record<string, JsonObject> = { DEV1: farDevice('DEV1') };
  let calls = 0;
  keys.remote = {
    queryKeys: async () => {
      calls++;
      return { device_keys: { [FAR]: { ...remoteDevices } } };
    },
  };
  const me = { userId: '@me:here.example', deviceId: 'ME', isAdmin: false };
  const devicesSeen = async () => Object.keys(((await keys.query(me, { [FAR]: [] }, 1000)) as { device_keys: Record<string, object> }).device_keys[FAR] ?? {}).sort();
  return { keys, remoteDevices, calls: () => calls, devicesSeen };
}

describe('remote device lists', () => {
  it('are cached while tracked, updated in order, and resynced after a gap', async () => {
    const { keys, remoteDevices, calls, devicesSeen } = setup(true);
    expect(await devicesSeen()).toEqual(['DEV1']);
    expect(await devicesSeen()).toEqual(['DEV1']);
    expect(calls()).toBe(1);

    // After a full query the stream position is unknown: an update marks the list stale.
    remoteDevices.DEV2 = farDevice('DEV2');
    const head = keys.changeHead();
    expect(keys.receiveDeviceListUpdate('elsewhere.example', { user_id: FAR, device_id: 'DEV2', stream_id: 5, prev_id: [4], keys: remoteDevices.DEV2 })).toBe(true);
    expect(keys.changedUsers(head, keys.changeHead())).toEqual([FAR]);
    expect(await devicesSeen()).toEqual(['DEV1', 'DEV2']);
    expect(calls()).toBe(2);

    // With a known position, updates that follow it apply without asking again.
    keys.remoteLists.put(FAR, { device_keys: { DEV1: remoteDevices.DEV1!, DEV2: remoteDevices.DEV2! } }, 5);
    keys.receiveDeviceListUpdate('elsewhere.example', { user_id: FAR, device_id: 'DEV3', stream_id: 6, prev_id: [5], keys: farDevice('DEV3') });
    keys.receiveDeviceListUpdate('elsewhere.example', { user_id: FAR, device_id: 'DEV1', stream_id: 7, prev_id: [6], deleted: true });
    expect(await devicesSeen()).toEqual(['DEV2', 'DEV3']);
    expect(calls()).toBe(2);

    // A gap (an update we never saw): stale, so the next query asks the server again.
    keys.receiveDeviceListUpdate('elsewhere.example', { user_id: FAR, device_id: 'DEV4', stream_id: 10, prev_id: [9], keys: farDevice('DEV4') });
    expect(await devicesSeen()).toEqual(['DEV1', 'DEV2']);
    expect(calls()).toBe(3);

    // Only the user's own server may speak for them.
    expect(keys.receiveDeviceListUpdate('liar.example', { user_id: FAR, device_id: 'X', stream_id: 11 })).toBe(false);
    expect(keys.receiveSigningKeyUpdate('liar.example', { user_id: FAR })).toBe(false);
  });

  it('are not cached for users who share no room with us (no updates would come)', async () => {
    const { calls, devicesSeen } = setup(false);
    await devicesSeen();
    await devicesSeen();
    expect(calls()).toBe(2);
  });
});
