import { forbidden, notFound } from '../http/errors.js';
import type { RoomserverAPI } from '../roomserver/api.js';
import type { RoomEvent } from '../events/types.js';
import { domainOf } from '../events/index.js';
import type { ClientApiDeps } from './deps.js';
import { MatrixError } from '../http/errors.js';

/** The room must exist here; 404 M_NOT_FOUND otherwise (federation joins come later). */
export function requireRoom(rs: RoomserverAPI, roomId: string): void {
  if (!rs.roomInfo(roomId)) throw notFound(`Unknown room ${roomId}`);
}

/**
 * The state a user may read: the current state while joined; the state when they left
 * otherwise (as Synapse answers); none if they were never in the room.
 */
export function readableState(rs: RoomserverAPI, roomId: string, userId: string): RoomEvent[] {
  requireRoom(rs, roomId);
  const m = rs.membership(roomId, userId);
  if (m?.membership === 'join') return rs.currentState(roomId);
  const worldReadable = rs.currentStateEvent(roomId, 'm.room.history_visibility', '')?.content.history_visibility === 'world_readable';
  if (worldReadable) return rs.currentState(roomId);
  if (m && (m.membership === 'leave' || m.membership === 'ban')) {
    const state = rs.stateAfterEvent(m.eventId);
    if (state) return state;
  }
  throw forbidden(`${userId} is not in room ${roomId}`);
}

/** Resolves `#alias:server` or `!room` to a room id known here. */
export function resolveRoom(deps: ClientApiDeps, roomIdOrAlias: string): string {
  if (roomIdOrAlias.startsWith('!')) return roomIdOrAlias;
  const roomId = deps.roomserver.resolveAlias(roomIdOrAlias);
  if (roomId) return roomId;
  if (domainOf(roomIdOrAlias) !== deps.serverName) {
    throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${roomIdOrAlias} is on another server; federated joins are not available yet`);
  }
  throw notFound(`Room alias ${roomIdOrAlias} not found`);
}

/** The client format of a room event (client-server spec, "ClientEvent"). */
export function clientEvent(ev: RoomEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    event_id: ev.eventId,
    room_id: ev.roomId,
    sender: ev.sender,
    type: ev.type,
    content: ev.content,
    origin_server_ts: ev.originServerTs,
    unsigned: { age: Math.max(0, Date.now() - ev.originServerTs) },
  };
  if (ev.stateKey !== undefined) out.state_key = ev.stateKey;
  if (ev.redacts !== undefined && !ev.version.redactsInContent) out.redacts = ev.redacts;
  return out;
}
