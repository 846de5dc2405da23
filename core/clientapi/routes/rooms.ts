import { z } from 'zod';
import { DEFAULT_ROOM_VERSION, domainOf, getRoomVersion, isValidServerName } from '../../events/index.js';
import type { JsonObject } from '../../events/types.js';
import { MatrixError, endpoint, forbidden, invalidParam, type AnyEndpoint } from '../../http/index.js';
import { userPowerLevel, actionPowerLevel } from '../../roomserver/auth/index.js';
import type { AuthState } from '../../roomserver/auth/index.js';
import { requireRoom, resolveRoom } from '../access.js';
import type { ClientApiDeps } from '../deps.js';
import { jsonObject, roomIdOrAliasSchema, roomIdSchema, userIdSchema } from '../schemas.js';

const createRoomBody = z.object({
  visibility: z.enum(['public', 'private']).optional(),
  room_alias_name: z.string().min(1).max(200).optional(),
  name: z.string().optional(),
  topic: z.string().optional(),
  invite: z.array(userIdSchema).max(100).optional(),
  invite_3pid: z.array(jsonObject).max(0, 'third-party invites are not supported').optional(),
  room_version: z.string().optional(),
  creation_content: jsonObject.optional(),
  initial_state: z.array(z.object({ type: z.string().min(1), state_key: z.string().optional(), content: jsonObject })).max(100).optional(),
  preset: z.enum(['private_chat', 'public_chat', 'trusted_private_chat']).optional(),
  is_direct: z.boolean().optional(),
  power_level_content_override: jsonObject.optional(),
});

const reasonBody = z.object({ reason: z.string().optional() });
const targetBody = z.object({ user_id: userIdSchema, reason: z.string().optional() });

function stateOf(deps: ClientApiDeps, roomId: string): AuthState {
  return { get: (t, k) => deps.roomserver.currentStateEvent(roomId, t, k) };
}

/** The join/leave/... member event content: reason, and the user's profile on joins. */
function memberContent(deps: ClientApiDeps, userId: string, membership: string, reason?: string): JsonObject {
  const content: JsonObject = { membership };
  if (reason) content.reason = reason;
  if (membership === 'join' || membership === 'knock') {
    const p = deps.users.profile(userId);
    if (p?.displayname !== undefined) content.displayname = p.displayname;
    if (p?.avatar_url !== undefined) content.avatar_url = p.avatar_url;
  }
  return content;
}

/** The room id and the servers that may let us in, for a room id or alias (remote aliases
 * are asked of their server). */
async function locateRoom(deps: ClientApiDeps, roomIdOrAlias: string, via: string[]): Promise<{ roomId: string; servers: string[] }> {
  if (roomIdOrAlias.startsWith('#') && domainOf(roomIdOrAlias) !== deps.serverName) {
    if (!deps.federation) return { roomId: resolveRoom(deps, roomIdOrAlias), servers: via };
    const r = await deps.federation.resolveAlias(roomIdOrAlias);
    return { roomId: r.roomId, servers: [...via, ...r.servers] };
  }
  const roomId = resolveRoom(deps, roomIdOrAlias);
  const servers = [...via];
  // Before v12 a room id names the server that created it.
  if (roomId.includes(':')) servers.push(domainOf(roomId));
  return { roomId, servers };
}

/** Whether this server takes part in the room now (a local user is joined): then joins,
 * leaves and knocks are local events; otherwise they go through a resident server. */
function resident(deps: ClientApiDeps, roomId: string): boolean {
  return deps.roomserver.roomInfo(roomId) !== undefined && deps.roomserver.joinedServers(roomId).includes(deps.serverName);
}

async function join(deps: ClientApiDeps, userId: string, roomIdOrAlias: string, reason: string | undefined, via: string[] = []): Promise<{ room_id: string }> {
  const rs = deps.roomserver;
  const { roomId, servers } = await locateRoom(deps, roomIdOrAlias, via);
  if (rs.membership(roomId, userId)?.membership === 'join' && resident(deps, roomId)) return { room_id: roomId };
  const content = memberContent(deps, userId, 'join', reason);
  if (!resident(deps, roomId)) {
    const invite = rs.pendingInvite(roomId, userId);
    const candidates = [...(invite ? [domainOf(invite.sender)] : []), ...servers].filter((s) => s !== deps.serverName);
    if (deps.federation && candidates.length > 0) {
      await deps.federation.joinRemote(userId, roomId, candidates, content);
      carryOverFromPredecessor(deps, userId, roomId);
      return { room_id: roomId };
    }
    if (!rs.roomInfo(roomId)) throw new MatrixError(404, 'M_NOT_FOUND', `Room ${roomId} is not known here, and no server to join it through was given`);
  }
  // Restricted rooms (v8+): a local member who may invite vouches for the join.
  const joinRule = rs.currentStateEvent(roomId, 'm.room.join_rules', '')?.content.join_rule;
  if ((joinRule === 'restricted' || joinRule === 'knock_restricted') && rs.membership(roomId, userId)?.membership !== 'invite') {
    const state = stateOf(deps, roomId);
    const inviteLevel = actionPowerLevel('invite', state);
    const via = rs.joinedMembers(roomId).find((u) => u.endsWith(`:${deps.serverName}`) && userPowerLevel(u, state) >= inviteLevel);
    if (via) content.join_authorised_via_users_server = via;
  }
  await rs.sendEvent({ roomId, sender: userId, type: 'm.room.member', stateKey: userId, content });
  carryOverFromPredecessor(deps, userId, roomId);
  return { room_id: roomId };
}

/** Joining the replacement of an upgraded room, a user keeps what they had set for the old
 * one (spec "Room Upgrades": tags, notification settings), unless already set here. */
function carryOverFromPredecessor(deps: ClientApiDeps, userId: string, roomId: string): void {
  const predecessor = deps.roomserver.currentStateEvent(roomId, 'm.room.create', '')?.content.predecessor;
  const oldRoom = typeof predecessor === 'object' && predecessor !== null && !Array.isArray(predecessor) ? predecessor.room_id : undefined;
  if (typeof oldRoom !== 'string' || oldRoom === roomId) return;
  try {
    const tags = deps.users.accountData(userId, oldRoom, 'm.tag');
    if (tags && !deps.users.accountData(userId, roomId, 'm.tag')) deps.users.putAccountData(userId, roomId, 'm.tag', tags);
    deps.pushRules?.copyRoomRules(userId, oldRoom, roomId);
  } catch (e) {
    // The join stands; the settings are a courtesy.
    deps.logger.warn({ room_id: roomId, err: (e as Error).message }, 'carrying settings over from the predecessor room failed');
  }
}

/** `server_name` (deprecated) and `via` query parameters: servers to join through. */
function viaOf(c: { req: { queries(k: string): string[] | undefined } }): string[] {
  return [...(c.req.queries('via') ?? []), ...(c.req.queries('server_name') ?? [])].filter((s) => isValidServerName(s)).slice(0, 20);
}

async function setMembership(deps: ClientApiDeps, sender: string, roomId: string, target: string, membership: string, reason?: string) {
  requireRoom(deps.roomserver, roomId);
  const req = { roomId, sender, type: 'm.room.member', stateKey: target, content: memberContent(deps, target, membership, reason) };
  // A remote invitee's server signs the invite before it enters the room.
  if (membership === 'invite' && deps.federation && domainOf(target) !== deps.serverName) await deps.federation.inviteRemote(req);
  else await deps.roomserver.sendEvent(req);
  return {};
}

export function roomEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  const rs = deps.roomserver;
  return [
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/createRoom',
      auth: 'user',
      rateLimited: true,
      body: createRoomBody,
      handler: async ({ body, requester }) => {
        const creator = requester!.userId;
        const version = body.room_version ?? DEFAULT_ROOM_VERSION;
        if (!getRoomVersion(version)) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Unsupported room version ${version}`);
        let alias: string | undefined;
        if (body.room_alias_name !== undefined) {
          if (/[:\s#]/.test(body.room_alias_name)) throw invalidParam('room_alias_name may not contain ":", "#" or white space');
          alias = `#${body.room_alias_name}:${deps.serverName}`;
          if (rs.resolveAlias(alias)) throw new MatrixError(400, 'M_ROOM_IN_USE', `Room alias ${alias} already exists`);
        }
        const profile = deps.users.profile(creator);
        const { roomId } = await rs.createRoom({
          creator,
          roomVersion: version,
          preset: body.preset ?? (body.visibility === 'public' ? 'public_chat' : 'private_chat'),
          name: body.name,
          topic: body.topic,
          canonicalAlias: alias,
          invite: deps.federation ? body.invite?.filter((u) => domainOf(u) === deps.serverName) : body.invite,
          isDirect: body.is_direct,
          initialState: body.initial_state as Array<{ type: string; state_key?: string; content: JsonObject }> | undefined,
          powerLevelContentOverride: body.power_level_content_override as JsonObject | undefined,
          creationContent: body.creation_content as JsonObject | undefined,
          creatorProfile: profile,
        });
        if (alias && !rs.setAlias(alias, roomId, creator)) throw new MatrixError(400, 'M_ROOM_IN_USE', `Room alias ${alias} already exists`);
        if (body.visibility === 'public') rs.setPublished(roomId, true);
        for (const u of body.invite ?? []) {
          if (!deps.federation || domainOf(u) === deps.serverName) continue;
          const content: JsonObject = { membership: 'invite' };
          if (body.is_direct) content.is_direct = true;
          try {
            await deps.federation.inviteRemote({ roomId, sender: creator, type: 'm.room.member', stateKey: u, content });
          } catch (e) {
            // The room exists either way; an unreachable invitee can be invited again later.
            deps.logger.warn({ room_id: roomId, err: (e as Error).message }, 'remote invite at room creation failed');
          }
        }
        return { room_id: roomId };
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/join/:roomIdOrAlias',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomIdOrAlias: roomIdOrAliasSchema }),
      body: reasonBody,
      optionalBody: true,
      handler: ({ params, body, requester, c }) => join(deps, requester!.userId, params.roomIdOrAlias, body.reason, viaOf(c)),
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/join',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema }),
      body: reasonBody,
      optionalBody: true,
      handler: ({ params, body, requester }) => join(deps, requester!.userId, params.roomId, body.reason),
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/knock/:roomIdOrAlias',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomIdOrAlias: roomIdOrAliasSchema }),
      body: reasonBody,
      optionalBody: true,
      handler: async ({ params, body, requester, c }) => {
        const { roomId, servers } = await locateRoom(deps, params.roomIdOrAlias, viaOf(c));
        if (!resident(deps, roomId) && deps.federation && servers.some((s) => s !== deps.serverName)) {
          await deps.federation.knockRemote(requester!.userId, roomId, servers, memberContent(deps, requester!.userId, 'knock', body.reason));
          return { room_id: roomId };
        }
        await setMembership(deps, requester!.userId, roomId, requester!.userId, 'knock', body.reason);
        return { room_id: roomId };
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/invite',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema }),
      body: targetBody,
      handler: async ({ params, body, requester }) => {
        requireRoom(rs, params.roomId);
        const current = rs.membership(params.roomId, body.user_id)?.membership;
        if (current === 'join') throw forbidden(`${body.user_id} is already in the room`);
        if (current === 'ban') throw forbidden(`${body.user_id} is banned from the room`);
        if (current === 'invite') return {};
        return setMembership(deps, requester!.userId, params.roomId, body.user_id, 'invite', body.reason);
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/leave',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      body: reasonBody,
      optionalBody: true,
      handler: async ({ params, body, requester }) => {
        const current = rs.membership(params.roomId, requester!.userId)?.membership;
        // Rejecting an invite (or withdrawing a knock) to a room we are not in.
        if ((current === 'invite' || current === 'knock') && !resident(deps, params.roomId) && deps.federation) {
          await deps.federation.leaveRemote(requester!.userId, params.roomId, body.reason);
          return {};
        }
        requireRoom(rs, params.roomId);
        if (current === undefined) throw forbidden(`${requester!.userId} is not in room ${params.roomId}`);
        if (current === 'leave' || current === 'ban') return {};
        return setMembership(deps, requester!.userId, params.roomId, requester!.userId, 'leave', body.reason);
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/upgrade',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema }),
      body: z.object({ new_version: z.string().min(1).max(32), additional_creators: z.array(userIdSchema).max(100).optional() }),
      handler: async ({ params, body, requester }) => {
        const { replacementRoom } = await rs.upgradeRoom({
          roomId: params.roomId,
          userId: requester!.userId,
          newVersion: body.new_version,
          additionalCreators: body.additional_creators,
          creatorProfile: deps.users.profile(requester!.userId),
        });
        return { replacement_room: replacementRoom };
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/forget',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      handler: ({ params, requester }) => {
        const m = rs.membership(params.roomId, requester!.userId)?.membership;
        if (m === 'join' || m === 'invite' || m === 'knock') throw new MatrixError(400, 'M_UNKNOWN', 'Leave the room before forgetting it');
        if (m === undefined) throw notFoundRoom(params.roomId);
        rs.forgetRoom(params.roomId, requester!.userId);
        return {};
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/kick',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      body: targetBody,
      handler: async ({ params, body, requester }) => {
        requireRoom(rs, params.roomId);
        const current = rs.membership(params.roomId, body.user_id)?.membership;
        if (current !== 'join' && current !== 'invite' && current !== 'knock') throw forbidden(`${body.user_id} is not in the room`);
        return setMembership(deps, requester!.userId, params.roomId, body.user_id, 'leave', body.reason);
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/ban',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      body: targetBody,
      handler: ({ params, body, requester }) => setMembership(deps, requester!.userId, params.roomId, body.user_id, 'ban', body.reason),
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/unban',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      body: targetBody,
      handler: async ({ params, body, requester }) => {
        requireRoom(rs, params.roomId);
        if (rs.membership(params.roomId, body.user_id)?.membership !== 'ban') throw new MatrixError(400, 'M_BAD_STATE', `${body.user_id} is not banned`);
        return setMembership(deps, requester!.userId, params.roomId, body.user_id, 'leave', body.reason);
      },
    }),
  ];
}

function notFoundRoom(roomId: string): MatrixError {
  return new MatrixError(404, 'M_NOT_FOUND', `Unknown room ${roomId}`);
}
