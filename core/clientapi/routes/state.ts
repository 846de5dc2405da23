import { z } from 'zod';
import { redactEvent } from '../../events/index.js';
import { toRoomEvent } from '../../events/event.js';
import type { RoomEvent } from '../../events/types.js';
import { endpoint, forbidden, notFound, type AnyEndpoint } from '../../http/index.js';
import { clientEvent, readableState, requireRoom } from '../access.js';
import type { ClientApiDeps } from '../deps.js';
import { eventIdSchema, roomIdSchema } from '../schemas.js';

/** Reading rooms: joined rooms, joined members, state, single events. (/members, with its
 * `at` token, is the sync API's.) */
export function stateEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  const rs = deps.roomserver;
  // A redacted event is served with redacted content and, per the spec, the redaction event
  // itself (not its id) as unsigned.redacted_because.
  const visible = (ev: RoomEvent): Record<string, unknown> => {
    const by = rs.redactedBy(ev.eventId);
    if (!by) return clientEvent(ev);
    const out = clientEvent(toRoomEvent(redactEvent(ev.json, ev.version), ev.eventId, ev.version, ev.roomId));
    const because = rs.eventsByIds([by])[0];
    if (because) out.unsigned = { ...(out.unsigned as Record<string, unknown>), redacted_because: clientEvent(because) };
    return out;
  };
  return [
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/joined_rooms',
      auth: 'user',
      handler: ({ requester }) => ({ joined_rooms: rs.roomsForUser(requester!.userId, 'join') }),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/:roomId/state',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      handler: ({ params, requester }) => readableState(rs, params.roomId, requester!.userId).map(visible),
    }),
    ...[
      '/_matrix/client/v3/rooms/:roomId/state/:eventType',
      // An empty state key leaves a trailing slash (clients build the path that way); the router is strict.
      '/_matrix/client/v3/rooms/:roomId/state/:eventType/',
      '/_matrix/client/v3/rooms/:roomId/state/:eventType/:stateKey',
    ].map((path) =>
      endpoint({
        method: 'GET',
        path,
        auth: 'user',
        params: z.object({ roomId: roomIdSchema, eventType: z.string().min(1), stateKey: z.string().optional() }),
        query: z.object({ format: z.enum(['content', 'event']).optional() }),
        handler: ({ params, query, requester }) => {
          const key = params.stateKey ?? '';
          const ev = readableState(rs, params.roomId, requester!.userId).find((e) => e.type === params.eventType && e.stateKey === key);
          if (!ev) throw notFound(`No ${params.eventType} state with key "${key}"`);
          const shown = visible(ev);
          return query.format === 'event' ? shown : shown.content;
        },
      }),
    ),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/:roomId/joined_members',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      handler: ({ params, requester }) => {
        requireRoom(rs, params.roomId);
        if (rs.membership(params.roomId, requester!.userId)?.membership !== 'join') throw forbidden('You are not in this room');
        const joined: Record<string, { display_name?: string; avatar_url?: string }> = {};
        for (const u of rs.joinedMembers(params.roomId)) {
          const c = rs.currentStateEvent(params.roomId, 'm.room.member', u)?.content ?? {};
          joined[u] = {
            ...(typeof c.displayname === 'string' ? { display_name: c.displayname } : {}),
            ...(typeof c.avatar_url === 'string' ? { avatar_url: c.avatar_url } : {}),
          };
        }
        return { joined };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/:roomId/event/:eventId',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema, eventId: eventIdSchema }),
      handler: ({ params, requester }) => {
        requireRoom(rs, params.roomId);
        const ev = rs.eventsByIds([params.eventId])[0];
        if (!ev || ev.roomId !== params.roomId || !rs.userMaySeeEvent(requester!.userId, ev.eventId)) {
          throw notFound('Event not found');
        }
        return visible(ev);
      },
    }),
  ];
}
