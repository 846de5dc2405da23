import type { JsonObject } from '../events/types.js';
import type { SyncToDeviceAPI } from '../todevice/api.js';
import type { SyncKeysAPI } from '../userapi/api.js';
import type { SyncStorage } from './storage.js';
import type { StreamToken } from './token.js';

/** Most to-device messages per /sync response; the rest follow on the next one. */
export const TO_DEVICE_LIMIT = 100;

/** Rooms `userId` is joined to at `pos`. */
function joinedRooms(store: SyncStorage, userId: string, pos: number): string[] {
  const latest = new Map<string, string>();
  for (const m of store.membershipsOf(userId, pos)) latest.set(m.room_id, m.membership);
  return [...latest].filter(([, m]) => m === 'join').map(([r]) => r);
}

/** Users who share a room with `userId` now (joined or invited), for device-list changes. */
export function usersSharingRooms(store: SyncStorage, userId: string, pos: number): Set<string> {
  const out = new Set<string>();
  for (const room of joinedRooms(store, userId, pos)) {
    for (const u of store.membersWith(room, 'join')) out.add(u);
    for (const u of store.membersWith(room, 'invite')) out.add(u);
  }
  return out;
}

/** `to_device`: the messages `since` covers are acknowledged (deleted), then the device's
 * next ones are returned. `pos` is the to-device position for next_batch: below `now` when
 * more remain, so that they come next time. */
export function toDeviceSection(api: SyncToDeviceAPI | undefined, userId: string, deviceId: string, since: StreamToken | undefined, now: number): { events: JsonObject[]; pos: number } {
  if (!api) return { events: [], pos: now };
  if (since && since.toDevice > 0) api.ack(userId, deviceId, since.toDevice);
  const rows = api.pending(userId, deviceId, now, TO_DEVICE_LIMIT);
  const pos = rows.length === TO_DEVICE_LIMIT ? rows[rows.length - 1]!.pos : now;
  return { events: rows.map((r) => r.event as unknown as JsonObject), pos };
}

/** `device_lists`: users sharing a room whose keys changed, users who started to share a
 * room (changed) and users who no longer share any (left), since `since`. */
export function deviceListsSection(keys: SyncKeysAPI | undefined, store: SyncStorage, userId: string, since: StreamToken | undefined, now: StreamToken): { changed: string[]; left: string[] } {
  if (!keys || !since) return { changed: [], left: [] };
  const keyChanges = now.deviceList > since.deviceList ? keys.changedUsers(since.deviceList, now.deviceList) : [];
  if (keyChanges.length === 0 && now.pdu <= since.pdu) return { changed: [], left: [] };
  const shared = usersSharingRooms(store, userId, now.pdu);
  const changed = new Set(keyChanges.filter((u) => u === userId || shared.has(u)));
  const left = new Set<string>();
  if (now.pdu > since.pdu) {
    const rooms = new Set(store.membershipsOf(userId, now.pdu).map((m) => m.room_id));
    const moves = store.raw.prepare<[string, number, number], { user_id: string }>('SELECT DISTINCT user_id FROM sy_memberships WHERE room_id = ? AND pos > ? AND pos <= ?');
    const candidates = new Set<string>();
    for (const room of rooms) {
      for (const { user_id } of moves.all(room, since.pdu, now.pdu)) {
        if (user_id !== userId) candidates.add(user_id);
        // Our own join or leave changes whom we share the room with.
        else for (const u of store.membersWith(room, 'join')) candidates.add(u);
      }
    }
    candidates.delete(userId);
    for (const u of candidates) (shared.has(u) ? changed : left).add(u);
  }
  return { changed: [...changed], left: [...left] };
}
