import { z } from 'zod';
import { domainOf } from '../../events/index.js';
import { MatrixError, endpoint, forbidden, invalidParam, notFound, type AnyEndpoint } from '../../http/index.js';
import { actionPowerLevel, requiredPowerForEvent, userPowerLevel, type AuthState } from '../../roomserver/auth/index.js';
import { readableState, requireRoom } from '../access.js';
import type { ClientApiDeps } from '../deps.js';
import { roomAliasSchema, roomIdSchema } from '../schemas.js';

const MAX_PUBLIC_ROOMS_LIMIT = 500;

/** Room aliases, room visibility in the directory, and the public room list. */
export function directoryEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  const rs = deps.roomserver;
  const stateOf = (roomId: string): AuthState => ({ get: (t, k) => rs.currentStateEvent(roomId, t, k) });
  const mayManage = (roomId: string, userId: string, type: string) =>
    rs.membership(roomId, userId)?.membership === 'join' && userPowerLevel(userId, stateOf(roomId)) >= requiredPowerForEvent(type, true, stateOf(roomId));

  const summary = (roomId: string) => {
    const get = (t: string) => rs.currentStateEvent(roomId, t, '')?.content;
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const joinRule = str(get('m.room.join_rules')?.join_rule) ?? 'invite';
    const out: Record<string, unknown> = {
      room_id: roomId,
      num_joined_members: rs.joinedMembers(roomId).length,
      world_readable: get('m.room.history_visibility')?.history_visibility === 'world_readable',
      guest_can_join: get('m.room.guest_access')?.guest_access === 'can_join',
      join_rule: joinRule,
    };
    const name = str(get('m.room.name')?.name);
    const topic = str(get('m.room.topic')?.topic);
    const alias = str(get('m.room.canonical_alias')?.alias);
    const avatar = str(get('m.room.avatar')?.url);
    const type = str(get('m.room.create')?.type);
    if (name !== undefined) out.name = name;
    if (topic !== undefined) out.topic = topic;
    if (alias !== undefined) out.canonical_alias = alias;
    if (avatar !== undefined) out.avatar_url = avatar;
    if (type !== undefined) out.room_type = type;
    return out;
  };

  const publicRooms = (limit: number | undefined, since: string | undefined, term: string | undefined) => {
    let rooms = rs
      .publishedRooms()
      .filter((id) => rs.roomInfo(id))
      .map(summary)
      .sort((a, b) => (b.num_joined_members as number) - (a.num_joined_members as number) || String(a.room_id).localeCompare(String(b.room_id)));
    if (term) {
      const t = term.toLowerCase();
      rooms = rooms.filter((r) => ['name', 'topic', 'canonical_alias', 'room_id'].some((k) => typeof r[k] === 'string' && (r[k] as string).toLowerCase().includes(t)));
    }
    let start = 0;
    if (since !== undefined) {
      const m = /^o(\d+)$/.exec(since);
      if (!m) throw invalidParam('Bad since token');
      start = Number(m[1]);
    }
    const n = Math.min(limit ?? MAX_PUBLIC_ROOMS_LIMIT, MAX_PUBLIC_ROOMS_LIMIT);
    const chunk = rooms.slice(start, start + n);
    const out: Record<string, unknown> = { chunk, total_room_count_estimate: rooms.length };
    if (start + n < rooms.length) out.next_batch = `o${start + n}`;
    if (start > 0) out.prev_batch = `o${Math.max(0, start - n)}`;
    return out;
  };

  return [
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
        if (query.server !== undefined && query.server !== deps.serverName) throw notFound('Public rooms of other servers are not available yet');
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
        if (query.server !== undefined && query.server !== deps.serverName) throw notFound('Public rooms of other servers are not available yet');
        return publicRooms(body.limit, body.since, body.filter?.generic_search_term);
      },
    }),
  ];
}
