import type { RoomserverQueryAPI } from '../roomserver/api.js';
import type { StatusRoom } from './model.js';

export { StatusModel, type StatusSnapshot, type StatusRoom, type StatusReader } from './model.js';
export { STATUS_STREAM_PATH, statusEvent, statusStreamEndpoint } from './stream.js';
export { defaultUiDir, uiHandler } from './ui.js';

/** The rooms a user has joined, with their names and sizes, for the status page. */
export function joinedRooms(roomserver: RoomserverQueryAPI, userId: string): StatusRoom[] {
  return roomserver.roomsForUser(userId, 'join').map((roomId) => {
    const name = roomserver.currentStateEvent(roomId, 'm.room.name', '')?.content['name'];
    return { roomId, name: typeof name === 'string' ? name : null, joinedMembers: roomserver.joinedMembers(roomId).length };
  });
}
