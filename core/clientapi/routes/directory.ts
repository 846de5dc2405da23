import { z } from 'zod';
import { domainOf } from '../../events/index.js';
import { MatrixError, endpoint, forbidden, invalidParam, notFound, type AnyEndpoint } from '../../http/index.js';
import { actionPowerLevel, requiredPowerForEvent, userPowerLevel, type AuthState } from '../../roomserver/auth/index.js';
import { readableState, requireRoom } from '../access.js';
import type { ClientApiDeps } from '../deps.js';
import { roomAliasSchema, roomIdOrAliasSchema, roomIdSchema, userIdSchema } from '../schemas.js';

/** Room aliases, room visibility in the directory, and the public room list. */
export function directoryEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  const rs = deps.roomserver;
  const stateOf = (roomId: string): AuthState => ({ get: (t, k) => rs.currentStateEvent(roomId, t, k) });
  const mayManage = (roomId: string, userId: string, type: string) =>
    rs.membership(roomId, userId)?.membership === 'join' && userPowerLevel(userId, stateOf(roomId)) >= requiredPowerForEvent(type, true, stateOf(roomId));

  const publicRooms = (limit: number | undefined, since: string | undefined, term: string | undefined) => rs.publicRooms(limit, since, term);
  const remotePublicRooms = (server: string, limit: number | undefined, since: string | undefined) => {
    if (!deps.federation) throw notFound('This node has no federation');
    return deps.federation.publicRooms(server, limit, since);
  };

  const bool = z.enum(['true', 'false']).transform((v) => v === 'true');
  return [
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/:roomId/hierarchy',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      query: z.object({
        suggested_only: bool.optional(),
        limit: z.coerce.number().int().min(1).optional(),
        max_depth: z.coerce.number().int().min(0).optional(),
        from: z.string().optional(),
      }),
      handler: ({ params, query, requester }) =>
        rs.spaceHierarchy(requester!.userId, params.roomId, { suggestedOnly: query.suggested_only ?? false, maxDepth: query.max_depth, limit: query.limit, from: query.from }),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v1/room_summary/:roomIdOrAlias',
      auth: 'optional',
      params: z.object({ roomIdOrAlias: roomIdOrAliasSchema }),
      // Summaries of rooms this node is not in would come over federation: not yet.
      query: z.object({ via: z.union([z.string(), z.array(z.string())]).optional() }),
      handler: ({ params, requester }) => {
        const roomId = params.roomIdOrAlias.startsWith('!') ? params.roomIdOrAlias : rs.resolveAlias(params.roomIdOrAlias);
        if (!roomId) throw notFound('Room not found');
        return rs.roomSummary(roomId, requester?.userId);
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v1/mutual_rooms',
      auth: 'user',
      query: z.object({ user_id: userIdSchema, from: z.string().optional() }),
      handler: ({ query, requester }) => {
        if (query.user_id === requester!.userId) throw invalidParam('user_id is your own user ID');
        // All in one batch, so no token was ever handed out.
        if (query.from !== undefined) throw invalidParam('Unknown from token');
        const theirs = new Set(rs.roomsForUser(query.user_id, 'join'));
        const joined = rs.roomsForUser(requester!.userId, 'join').filter((r) => theirs.has(r)).sort();
        return { joined, count: joined.length };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/directory/room/:roomAlias',
      auth: 'optional',
      params: z.object({ roomAlias: roomAliasSchema }),
      handler: ({ params }) => {
        const roomId = rs.resolveAlias(params.roomAlias);
        if (!roomId) throw notFound(`Room alias ${params.roomAlias} not found`);
        return { room_id: roomId, servers: rs.joinedServers(roomId).length > 0 ? rs.joinedServers(roomId) : [deps.serverName] };
      },
    }),
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/directory/room/:roomAlias',
      auth: 'user',
      params: z.object({ roomAlias: roomAliasSchema }),
      body: z.object({ room_id: roomIdSchema }),
      handler: ({ params, body, requester }) => {
        if (domainOf(params.roomAlias) !== deps.serverName) throw invalidParam('Room aliases must be on this server');
        requireRoom(rs, body.room_id);
        if (!rs.setAlias(params.roomAlias, body.room_id, requester!.userId)) {
          throw new MatrixError(409, 'M_UNKNOWN', `Room alias ${params.roomAlias} already exists`);
        }
        return {};
      },
    }),
    endpoint({
      method: 'DELETE',
      path: '/_matrix/client/v3/directory/room/:roomAlias',
      auth: 'user',
      params: z.object({ roomAlias: roomAliasSchema }),
      handler: ({ params, requester }) => {
        const roomId = rs.resolveAlias(params.roomAlias);
        if (!roomId) throw notFound(`Room alias ${params.roomAlias} not found`);
        const isCreator = rs.aliasCreator(params.roomAlias) === requester!.userId;
        if (!isCreator && !requester!.isAdmin && !mayManage(roomId, requester!.userId, 'm.room.canonical_alias')) {
          throw forbidden('You may not remove this alias');
        }
        rs.removeAlias(params.roomAlias);
        return {};
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/:roomId/aliases',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      handler: ({ params, requester }) => {
        readableState(rs, params.roomId, requester!.userId);
        return { aliases: rs.aliasesForRoom(params.roomId) };
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/directory/list/room/:roomId',
      auth: 'none',
      params: z.object({ roomId: roomIdSchema }),
      handler: ({ params }) => {
        requireRoom(rs, params.roomId);
        return { visibility: rs.isPublished(params.roomId) ? 'public' : 'private' };
      },
    }),
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/directory/list/room/:roomId',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      body: z.object({ visibility: z.enum(['public', 'private']) }),
      handler: ({ params, body, requester }) => {
        requireRoom(rs, params.roomId);
        const state = stateOf(params.roomId);
        const allowed =
          requester!.isAdmin ||
          (rs.membership(params.roomId, requester!.userId)?.membership === 'join' &&
            userPowerLevel(requester!.userId, state) >= Math.max(actionPowerLevel('invite', state), requiredPowerForEvent('m.room.canonical_alias', true, state)));
        if (!allowed) throw forbidden('You may not change the visibility of this room');
        rs.setPublished(params.roomId, body.visibility === 'public');
        return {};
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/publicRooms',
      auth: 'optional',
      query: z.object({ limit: z.coerce.number().int().min(0).optional(), since: z.string().optional(), server: z.string().optional() }),
      handler: ({ query }) => {
        if (query.server !== undefined && query.server !== deps.serverName) return remotePublicRooms(query.server, query.limit, query.since);
        return publicRooms(query.limit, query.since, undefined);
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/publicRooms',
      auth: 'user',
      query: z.object({ server: z.string().optional() }),
      body: z.object({
        limit: z.number().int().min(0).optional(),
        since: z.string().optional(),
        filter: z.object({ generic_search_term: z.string().optional(), room_types: z.array(z.string().nullable()).optional() }).optional(),
        include_all_networks: z.boolean().optional(),
        third_party_instance_id: z.string().optional(),
      }),
      handler: ({ query, body }) => {
        if (query.server !== undefined && query.server !== deps.serverName) return remotePublicRooms(query.server, body.limit, body.since);
        return publicRooms(body.limit, body.since, body.filter?.generic_search_term);
      },
    }),
  ];
}
