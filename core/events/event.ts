import type { RoomVersion } from './roomversions.js';
import type { EventRef, JsonObject, PDUJson, RoomEvent } from './types.js';

function refId(ref: EventRef): string {
  return typeof ref === 'string' ? ref : ref[0];
}

/**
 * Reads the version-independent fields of a PDU. The caller supplies the event id (computed
 * from the reference hash for v3+, or taken from `event_id` for v1/v2) and, for a v12 create
 * event, the room id derived from it. Structural validation happens before this (validate.ts).
 */
export function toRoomEvent(json: PDUJson, eventId: string, version: RoomVersion, roomId?: string): RoomEvent {
  const content = (json.content ?? {}) as JsonObject;
  const redacts = version.redactsInContent
    ? typeof content.redacts === 'string'
      ? content.redacts
      : undefined
    : typeof json.redacts === 'string'
      ? json.redacts
      : undefined;
  return {
    eventId,
    roomId: roomId ?? json.room_id ?? '',
    type: json.type,
    stateKey: typeof json.state_key === 'string' ? json.state_key : undefined,
    sender: json.sender,
    content,
    prevEventIds: (json.prev_events ?? []).map(refId),
    authEventIds: (json.auth_events ?? []).map(refId),
    depth: json.depth,
    originServerTs: json.origin_server_ts,
    redacts,
    version,
    json,
  };
}
