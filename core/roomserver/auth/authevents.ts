import type { RoomVersion } from '../../events/roomversions.js';
import { stateKey, type JsonObject, type RoomEvent } from '../../events/types.js';
import { reject, type AuthResult } from './types.js';

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The (type, state_key) pairs an event's auth_events are chosen from (server-server spec,
 * "auth events selection"). Empty for `m.room.create`; no create event in v12, where the room
 * id stands for it.
 */
export function authEventTypesNeeded(
  ev: { type: string; stateKey?: string; sender: string; content: JsonObject },
  version: RoomVersion,
): Array<[string, string]> {
  if (ev.type === 'm.room.create') return [];
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  const add = (type: string, key: string): void => {
    const k = stateKey(type, key);
    if (!seen.has(k)) {
      seen.add(k);
      out.push([type, key]);
    }
  };
  if (!version.roomIdFromCreate) add('m.room.create', '');
  add('m.room.power_levels', '');
  add('m.room.member', ev.sender);
  if (ev.type === 'm.room.member' && ev.stateKey !== undefined) {
    add('m.room.member', ev.stateKey);
    const membership = ev.content.membership;
    if (membership === 'join' || membership === 'invite' || membership === 'knock') add('m.room.join_rules', '');
    const tpi = ev.content.third_party_invite;
    if (membership === 'invite' && isObject(tpi) && isObject(tpi.signed) && typeof tpi.signed.token === 'string') {
      add('m.room.third_party_invite', tpi.signed.token);
    }
    const via = ev.content.join_authorised_via_users_server;
    if (membership === 'join' && version.restrictedJoins && typeof via === 'string') add('m.room.member', via);
  }
  return out;
}

/**
 * Rule 2 (v12: 3) on an event's auth_events: no two for one (type, state_key), none outside the
 * selection, none rejected, a create event among them (v1–11), all in the event's room.
 * `authEvents` are the events `event.auth_events` names; `isRejected` says which were rejected.
 */
export function checkAuthEventsSelection(
  event: RoomEvent,
  authEvents: RoomEvent[],
  isRejected: (eventId: string) => boolean = () => false,
): AuthResult {
  // Rule 1 decides create events before auth_events are considered.
  if (event.type === 'm.room.create') return { allowed: true };
  const listed = new Set(event.authEventIds);
  if (listed.size !== event.authEventIds.length) return reject('auth_events.duplicate', 'auth_events lists an event twice');
  const given = new Set(authEvents.map((e) => e.eventId));
  for (const id of listed) {
    if (!given.has(id)) return reject('auth_events.unexpected', `auth event ${id} was not supplied`);
  }
  const allowed = new Set(authEventTypesNeeded(event, event.version).map(([t, k]) => stateKey(t, k)));
  const seen = new Set<string>();
  for (const ae of authEvents) {
    if (ae.stateKey === undefined) continue;
    const k = stateKey(ae.type, ae.stateKey);
    if (seen.has(k)) return reject('auth_events.duplicate', `two auth events for (${ae.type}, ${ae.stateKey})`);
    seen.add(k);
  }
  for (const ae of authEvents) {
    if (!listed.has(ae.eventId)) return reject('auth_events.unexpected', `${ae.eventId} is not in the event's auth_events`);
    if (ae.stateKey === undefined || !allowed.has(stateKey(ae.type, ae.stateKey))) {
      return reject('auth_events.unexpected', `auth event ${ae.eventId} (${ae.type}, ${ae.stateKey ?? 'no state_key'}) is not one the event may cite`);
    }
  }
  for (const ae of authEvents) {
    if (isRejected(ae.eventId)) return reject('auth_events.rejected', `auth event ${ae.eventId} was rejected`);
  }
  if (!event.version.roomIdFromCreate && !authEvents.some((ae) => ae.type === 'm.room.create' && ae.stateKey === '')) {
    return reject('auth_events.no_create', 'auth_events has no m.room.create event');
  }
  for (const ae of authEvents) {
    if (ae.roomId !== event.roomId) return reject('auth_events.room_id', `auth event ${ae.eventId} is in room ${ae.roomId}`);
  }
  return { allowed: true };
}
