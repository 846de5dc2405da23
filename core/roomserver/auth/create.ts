import { getRoomVersion } from '../../events/roomversions.js';
import type { RoomEvent } from '../../events/types.js';
import { domainOf, isValidUserId } from './ids.js';
import { allow, reject, type AuthResult } from './types.js';

/** Rule 1: an `m.room.create` event. */
export function checkCreate(event: RoomEvent): AuthResult {
  const v = event.version;
  if (event.prevEventIds.length > 0) return reject('create.prev_events', 'the create event must have no prev_events');
  if (v.roomIdFromCreate) {
    // v12: the room id is derived from the create event, so it must not carry one.
    if (event.json.room_id !== undefined) return reject('create.room_id_present', 'a v12 create event must not have a room_id');
  } else {
    const roomDomain = domainOf(event.roomId);
    if (roomDomain === undefined || roomDomain !== domainOf(event.sender)) {
      return reject('create.room_id_domain', `room id ${event.roomId} is not on the sender's server`);
    }
  }
  const roomVersion = event.content.room_version;
  if (roomVersion !== undefined && (typeof roomVersion !== 'string' || getRoomVersion(roomVersion) === undefined)) {
    return reject('create.room_version', `unknown room_version ${JSON.stringify(roomVersion)}`);
  }
  if (!v.implicitCreator && !Object.hasOwn(event.content, 'creator')) {
    return reject('create.creator', 'the create event content has no creator');
  }
  if (v.privilegedCreators && Object.hasOwn(event.content, 'additional_creators')) {
    const extra = event.content.additional_creators;
    if (!Array.isArray(extra) || !extra.every((id) => typeof id === 'string' && isValidUserId(id))) {
      return reject('create.additional_creators', 'additional_creators must be an array of valid user IDs');
    }
  }
  return allow('create.allow');
}
