import type { JsonObject, PDUJson } from '../events/types.js';
import type { PushAction } from './pusheval.js';
import type { PusherRow } from './notifstore.js';

/** The tweaks of a rule's actions ({set_tweak, value}; highlight without a value is true). */
export function tweaksOf(actions: PushAction[]): JsonObject {
  const out: JsonObject = {};
  for (const a of actions) {
    if (typeof a !== 'object' || typeof a.set_tweak !== 'string') continue;
    out[a.set_tweak] = a.value === undefined ? (a.set_tweak === 'highlight' ? true : null) : a.value;
  }
  return out;
}

/**
 * The body of POST /_matrix/push/v1/notify (push gateway API) for one event and one pusher.
 * With `format: event_id_only` only the ids, counts and devices go out (the gateway's app
 * fetches the rest), so no content leaves the server.
 */
export function pushPayload(
  eventId: string,
  roomId: string,
  event: PDUJson,
  userId: string,
  actions: PushAction[],
  unread: number,
  room: { name?: string; alias?: string; senderName?: string },
  pusher: PusherRow,
  data: JsonObject,
): JsonObject {
  const tweaks = tweaksOf(actions);
  // The url is the server's business; the rest of data goes to the gateway as given.
  const { url: _url, ...deviceData } = data;
  const device: JsonObject = { app_id: pusher.app_id, pushkey: pusher.pushkey, pushkey_ts: pusher.pushkey_ts, data: deviceData, tweaks };
  const prio = tweaks.highlight === true || typeof tweaks.sound === 'string' ? 'high' : 'low';
  const notification: JsonObject = { event_id: eventId, room_id: roomId, counts: { unread }, devices: [device], prio };
  if (data.format === 'event_id_only') return { notification };
  notification.type = event.type;
  notification.sender = event.sender;
  notification.content = event.content;
  if (room.senderName !== undefined) notification.sender_display_name = room.senderName;
  if (room.name !== undefined) notification.room_name = room.name;
  if (room.alias !== undefined) notification.room_alias = room.alias;
  if (event.type === 'm.room.member') notification.user_is_target = event.state_key === userId;
  return { notification };
}
