import { z } from 'zod';
import { openIdUserInfoEndpoint } from './openid.js';
import { encodeBase64, signJson, type SigningKey } from '../crypto/index.js';
import { addEventSignature, computeEventId, domainOf, getRoomVersion, parseUserId, ROOM_VERSIONS, withOwnSignature } from '../events/index.js';
import type { JsonObject, PDUJson, RoomEvent } from '../events/types.js';
import { MatrixError, endpoint, forbidden, notFound, type AnyEndpoint } from '../http/index.js';
import type { Logger } from '../logger.js';
import type { RoomserverAPI } from '../roomserver/api.js';
import type { UserAPI } from '../userapi/api.js';
import type { EduHandler } from './api.js';
import type { FederationStorage } from './storage.js';

export interface FederationRouteDeps {
  serverName: string;
  key: SigningKey;
  roomserver: RoomserverAPI;
  users: Pick<UserAPI, 'accountExists' | 'profile' | 'openIdUser'>;
  store: FederationStorage;
  edus: Map<string, EduHandler>;
  /** Sends an event that a remote user made through us (send_join/leave/knock) to the
   * other servers in the room. */
  relay: (roomId: string, pdu: PDUJson, except: string[]) => void;
  /** Resolves once a join of ours into the room in progress has finished (events for the
   * room may arrive before our own join has stored its state). */
  joined: (roomId: string) => Promise<void>;
  logger: Logger;
}

const MAX_PDUS = 50;
const MAX_EDUS = 100;

const jsonObject = z.record(z.string(), z.unknown());
const pduSchema = jsonObject;
const F = '/_matrix/federation';

function eventIdOf(pdu: PDUJson, versionId: string): string | undefined {
  const v = getRoomVersion(versionId);
  if (!v) return undefined;
  try {
    return v.eventIdFormat === 'v1' ? pdu.event_id : computeEventId(pdu, v);
  } catch {
    return undefined;
  }
}

/** The server-server API: every route takes an X-Matrix-signed request (but the key route). */
export function federationEndpoints(deps: FederationRouteDeps): AnyEndpoint[] {
  /** Every event served goes out through here: ours get the signature they were stored
   * without, once per stored event object (a room's state is served again and again). */
  const signedPdus = new WeakMap<PDUJson, PDUJson>();
  const pduOf = (ev: RoomEvent): PDUJson => {
    let pdu = signedPdus.get(ev.json);
    if (pdu === undefined) signedPdus.set(ev.json, (pdu = withOwnSignature(ev.json, deps.serverName, deps.key, ev.version)));
    return pdu;
  };
  const rs = deps.roomserver;
  const now = () => Date.now();

  const requireRoom = (roomId: string) => {
    const info = rs.roomInfo(roomId);
    if (!info || !rs.joinedServers(roomId).includes(deps.serverName)) throw notFound(`Room ${roomId} is not known here`);
    return info;
  };
  const requireInRoom = (roomId: string, origin: string) => {
    const info = requireRoom(roomId);
    const members = rs.currentState(roomId).filter((e) => e.type === 'm.room.member' && e.stateKey !== undefined && domainOf(e.stateKey) === origin);
    if (members.length === 0 && !rs.joinedServers(roomId).includes(origin)) throw forbidden(`${origin} is not in room ${roomId}`);
    return info;
  };
  const visible = (origin: string, evs: RoomEvent[]) => evs.filter((e) => rs.serverMaySeeEvent(origin, e.eventId));
  /** An event of the room that the calling server is in and may see, or 404. */
  const visibleEvent = (roomId: string, eventId: string, origin: string): RoomEvent => {
    requireInRoom(roomId, origin);
    const ev = rs.eventsByIds([eventId])[0];
    if (!ev || ev.roomId !== roomId || !rs.serverMaySeeEvent(origin, ev.eventId)) throw notFound('Event not found');
    return ev;
  };
  const stateBefore = (roomId: string, eventId: string, origin: string): RoomEvent[] => {
    visibleEvent(roomId, eventId, origin);
    const state = rs.stateBeforeEvent(eventId);
    if (!state) throw notFound('No state for that event');
    return state;
  };

  /** Shared checks of a membership event a remote server sends us (send_join/leave/knock). */
  const checkMembershipEvent = (origin: string, roomId: string, eventId: string, pdu: PDUJson, membership: string): string => {
    const info = requireRoom(roomId);
    if (pdu.room_id !== roomId) throw new MatrixError(400, 'M_BAD_JSON', 'room_id does not match the path');
    if (pdu.type !== 'm.room.member' || pdu.state_key !== pdu.sender) throw new MatrixError(400, 'M_BAD_JSON', 'Not a member event of its sender');
    if ((pdu.content as JsonObject | undefined)?.membership !== membership) throw new MatrixError(400, 'M_BAD_JSON', `membership must be ${membership}`);
    if (typeof pdu.sender !== 'string' || domainOf(pdu.sender) !== origin) throw forbidden('The sender is not from the calling server');
    if (eventIdOf(pdu, info.version) !== eventId) throw new MatrixError(400, 'M_BAD_JSON', 'event id does not match the path');
    return info.version;
  };

  const makeTemplate = (origin: string, roomId: string, userId: string, membership: string, versions: string[] | undefined) => {
    const info = requireRoom(roomId);
    if (domainOf(userId) !== origin) throw forbidden('The user is not from the calling server');
    if (versions && !versions.includes(info.version)) {
      throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${info.version} is not supported by ${origin}`, { room_version: info.version });
    }
    const t = rs.eventTemplate({ roomId, sender: userId, type: 'm.room.member', stateKey: userId, content: { membership } });
    return { event: t.pdu, room_version: t.roomVersion };
  };

  const verOf = (v: string | string[] | undefined) => (v === undefined ? ['1'] : Array.isArray(v) ? v : [v]);

  return [
    openIdUserInfoEndpoint(deps.users),
    endpoint({
      method: 'GET',
      path: '/_matrix/key/v2/server',
      auth: 'none',
      handler: () =>
        signJson(
          {
            server_name: deps.serverName,
            valid_until_ts: now() + 7 * 86_400_000,
            verify_keys: { [deps.key.keyId]: { key: encodeBase64(deps.key.publicKey) } },
            old_verify_keys: {},
          },
          deps.serverName,
          deps.key,
        ),
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/version`,
      auth: 'none',
      handler: () => ({ server: { name: 'Axon', version: '0.1.0' } }),
    }),
    endpoint({
      method: 'PUT',
      path: `${F}/v1/send/:txnId`,
      auth: 'server',
      params: z.object({ txnId: z.string().min(1).max(255) }),
      body: z.object({
        origin: z.string(),
        origin_server_ts: z.number().int(),
        pdus: z.array(z.unknown()).max(MAX_PDUS),
        edus: z.array(jsonObject).max(MAX_EDUS).optional(),
      }),
      maxBody: 16 * 1024 * 1024,
      handler: async ({ body, params, origin }) => {
        if (body.origin !== origin) throw forbidden('Transaction origin does not match the signature');
        const seen = deps.store.receivedTxn(origin!, params.txnId);
        if (seen) return JSON.parse(seen) as JsonObject;
        const results: Record<string, JsonObject> = {};
        // Per room in order, rooms in parallel.
        const byRoom = new Map<string, PDUJson[]>();
        for (const p of body.pdus) {
          if (typeof p !== 'object' || p === null || typeof (p as PDUJson).room_id !== 'string') continue;
          const pdu = p as PDUJson;
          const list = byRoom.get(pdu.room_id!) ?? [];
          list.push(pdu);
          byRoom.set(pdu.room_id!, list);
        }
        await Promise.all(
          [...byRoom].map(async ([roomId, pdus]) => {
            await deps.joined(roomId);
            const info = rs.roomInfo(roomId);
            for (const pdu of pdus) {
              const id = info ? eventIdOf(pdu, info.version) : undefined;
              if (!info || !id) {
                if (typeof pdu.event_id === 'string') results[pdu.event_id] = { error: 'unknown room' };
                continue;
              }
              if (typeof pdu.sender !== 'string' || domainOf(pdu.sender) !== origin) {
                results[id] = { error: 'sender is not from the origin server' };
                continue;
              }
              const out = await rs.inputEvent({ kind: 'new', pdu, origin });
              deps.logger.debug({ peer: origin, event_id: id, status: out.status, reason: 'reason' in out ? out.reason : undefined }, 'received PDU');
              results[id] = out.status === 'rejected' ? { error: out.reason } : {};
            }
          }),
        );
        for (const edu of body.edus ?? []) {
          const type = edu.edu_type;
          const handler = typeof type === 'string' ? deps.edus.get(type) : undefined;
          if (!handler || typeof edu.content !== 'object' || edu.content === null) continue;
          try {
            await handler(origin!, edu.content as JsonObject);
          } catch (e) {
            deps.logger.debug({ err: e, peer: origin, edu_type: type }, 'EDU ignored');
          }
        }
        const response = { pdus: results };
        deps.store.putReceivedTxn(origin!, params.txnId, JSON.stringify(response));
        return response;
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/make_join/:roomId/:userId`,
      auth: 'server',
      query: z.object({ ver: z.union([z.string(), z.array(z.string())]).optional() }),
      handler: ({ params, origin, c }) => makeTemplate(origin!, params.roomId, params.userId, 'join', verOf(c.req.queries('ver'))),
    }),
    endpoint({
      method: 'PUT',
      path: `${F}/v2/send_join/:roomId/:eventId`,
      auth: 'server',
      body: pduSchema,
      handler: async ({ params, body, origin }) => {
        const pdu = body as unknown as PDUJson;
        const version = checkMembershipEvent(origin!, params.roomId, params.eventId, pdu, 'join');
        let signed = pdu;
        const via = (pdu.content as JsonObject).join_authorised_via_users_server;
        if (typeof via === 'string' && domainOf(via) === deps.serverName) signed = addEventSignature(pdu, deps.serverName, deps.key, getRoomVersion(version)!);
        const out = await rs.inputEvent({ kind: 'new', pdu: signed, origin });
        if (out.status !== 'accepted' && out.status !== 'duplicate') throw forbidden(`Join refused: ${out.reason}`);
        if (out.status === 'accepted') deps.relay(params.roomId, signed, [origin!]);
        const state = rs.stateBeforeEvent(params.eventId) ?? [];
        const authChain = rs.authChain([...state.map((e) => e.eventId), params.eventId]);
        return {
          origin: deps.serverName,
          state: state.map(pduOf),
          auth_chain: authChain.map(pduOf),
          event: signed,
          members_omitted: false,
          servers_in_room: rs.joinedServers(params.roomId),
        };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/make_leave/:roomId/:userId`,
      auth: 'server',
      handler: ({ params, origin }) => makeTemplate(origin!, params.roomId, params.userId, 'leave', undefined),
    }),
    endpoint({
      method: 'PUT',
      path: `${F}/v2/send_leave/:roomId/:eventId`,
      auth: 'server',
      body: pduSchema,
      handler: async ({ params, body, origin }) => {
        const pdu = body as unknown as PDUJson;
        checkMembershipEvent(origin!, params.roomId, params.eventId, pdu, 'leave');
        const out = await rs.inputEvent({ kind: 'new', pdu, origin });
        if (out.status !== 'accepted' && out.status !== 'duplicate') throw forbidden(`Leave refused: ${out.reason}`);
        if (out.status === 'accepted') deps.relay(params.roomId, pdu, [origin!]);
        return {};
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/make_knock/:roomId/:userId`,
      auth: 'server',
      query: z.object({ ver: z.union([z.string(), z.array(z.string())]).optional() }),
      handler: ({ params, origin, c }) => makeTemplate(origin!, params.roomId, params.userId, 'knock', verOf(c.req.queries('ver'))),
    }),
    endpoint({
      method: 'PUT',
      path: `${F}/v1/send_knock/:roomId/:eventId`,
      auth: 'server',
      body: pduSchema,
      handler: async ({ params, body, origin }) => {
        const pdu = body as unknown as PDUJson;
        checkMembershipEvent(origin!, params.roomId, params.eventId, pdu, 'knock');
        const out = await rs.inputEvent({ kind: 'new', pdu, origin });
        if (out.status !== 'accepted' && out.status !== 'duplicate') throw forbidden(`Knock refused: ${out.reason}`);
        if (out.status === 'accepted') deps.relay(params.roomId, pdu, [origin!]);
        return { knock_room_state: rs.strippedState(params.roomId) };
      },
    }),
    endpoint({
      method: 'PUT',
      path: `${F}/v2/invite/:roomId/:eventId`,
      auth: 'server',
      body: z.object({ event: jsonObject, room_version: z.string(), invite_room_state: z.array(jsonObject).max(50).optional() }),
      handler: async ({ params, body, origin }) => {
        const version = getRoomVersion(body.room_version);
        if (!version) throw new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${body.room_version} is not supported`, { room_version: body.room_version });
        const pdu = body.event as unknown as PDUJson;
        if (pdu.room_id !== params.roomId) throw new MatrixError(400, 'M_BAD_JSON', 'room_id does not match the path');
        if (pdu.type !== 'm.room.member' || (pdu.content as JsonObject | undefined)?.membership !== 'invite') throw new MatrixError(400, 'M_BAD_JSON', 'Not an invite');
        if (typeof pdu.sender !== 'string' || domainOf(pdu.sender) !== origin) throw forbidden('The sender is not from the calling server');
        const target = typeof pdu.state_key === 'string' ? parseUserId(pdu.state_key) : undefined;
        if (!target || domainOf(pdu.state_key!) !== deps.serverName) throw new MatrixError(400, 'M_BAD_JSON', 'The invitee is not on this server');
        if (!deps.users.accountExists(pdu.state_key!)) throw notFound(`No user ${pdu.state_key}`);
        if (eventIdOf(pdu, body.room_version) !== params.eventId) throw new MatrixError(400, 'M_BAD_JSON', 'event id does not match the path');
        const signed = addEventSignature(pdu, deps.serverName, deps.key, version);
        const stored: PDUJson = { ...signed, unsigned: { ...((signed.unsigned as JsonObject | undefined) ?? {}), invite_room_state: (body.invite_room_state ?? []) as JsonObject[] } };
        const out = await rs.storeRemoteInvite(stored, body.room_version);
        if (out.status === 'rejected') throw forbidden(`Invite refused: ${out.reason}`);
        return { event: signed };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/backfill/:roomId`,
      auth: 'server',
      query: z.object({ limit: z.coerce.number().int().min(1).max(1000).optional() }),
      handler: ({ params, query, origin, c }) => {
        requireInRoom(params.roomId, origin!);
        const from = c.req.queries('v') ?? [];
        const limit = Math.min(query.limit ?? 10, 100);
        const start = rs.eventsByIds(from).filter((e) => e.roomId === params.roomId);
        const older = rs.missingEvents(params.roomId, [], from, limit, 0);
        const pdus = visible(origin!, [...start, ...older])
          .sort((a, b) => b.depth - a.depth)
          .slice(0, limit)
          .map(pduOf);
        return { origin: deps.serverName, origin_server_ts: now(), pdus };
      },
    }),
    endpoint({
      method: 'POST',
      path: `${F}/v1/get_missing_events/:roomId`,
      auth: 'server',
      body: z.object({
        earliest_events: z.array(z.string()).max(100),
        latest_events: z.array(z.string()).max(100),
        limit: z.number().int().min(0).optional(),
        min_depth: z.number().int().min(0).optional(),
      }),
      handler: ({ params, body, origin }) => {
        requireInRoom(params.roomId, origin!);
        const evs = rs.missingEvents(params.roomId, body.earliest_events, body.latest_events, Math.min(body.limit ?? 10, 100), body.min_depth ?? 0);
        return { events: visible(origin!, evs).map(pduOf) };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/event/:eventId`,
      auth: 'server',
      handler: ({ params, origin }) => {
        const ev = rs.eventsByIds([params.eventId])[0];
        if (!ev || !rs.serverMaySeeEvent(origin!, ev.eventId)) throw notFound('Event not found');
        return { origin: deps.serverName, origin_server_ts: now(), pdus: [pduOf(ev)] };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/state/:roomId`,
      auth: 'server',
      query: z.object({ event_id: z.string() }),
      handler: ({ params, query, origin }) => {
        const state = stateBefore(params.roomId, query.event_id, origin!);
        return { pdus: state.map(pduOf), auth_chain: rs.authChain(state.map((e) => e.eventId)).map(pduOf) };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/state_ids/:roomId`,
      auth: 'server',
      query: z.object({ event_id: z.string() }),
      handler: ({ params, query, origin }) => {
        const state = stateBefore(params.roomId, query.event_id, origin!);
        return { pdu_ids: state.map((e) => e.eventId), auth_chain_ids: rs.authChain(state.map((e) => e.eventId)).map((e) => e.eventId) };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/event_auth/:roomId/:eventId`,
      auth: 'server',
      handler: ({ params, origin }) => {
        visibleEvent(params.roomId, params.eventId, origin!);
        return { auth_chain: rs.authChain([params.eventId]).map(pduOf) };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/query/profile`,
      auth: 'server',
      query: z.object({ user_id: z.string(), field: z.enum(['displayname', 'avatar_url']).optional() }),
      handler: ({ query }) => {
        if (domainOf(query.user_id) !== deps.serverName || !deps.users.accountExists(query.user_id)) throw notFound('Profile not found');
        const p = deps.users.profile(query.user_id) ?? {};
        const out: JsonObject = {};
        if (p.displayname !== undefined && (!query.field || query.field === 'displayname')) out.displayname = p.displayname;
        if (p.avatar_url !== undefined && (!query.field || query.field === 'avatar_url')) out.avatar_url = p.avatar_url;
        return out;
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/query/directory`,
      auth: 'server',
      query: z.object({ room_alias: z.string() }),
      handler: ({ query }) => {
        const roomId = domainOf(query.room_alias) === deps.serverName ? rs.resolveAlias(query.room_alias) : undefined;
        if (!roomId) throw notFound('Room alias not found');
        return { room_id: roomId, servers: [deps.serverName, ...rs.joinedServers(roomId).filter((s) => s !== deps.serverName)] };
      },
    }),
    endpoint({
      method: 'GET',
      path: `${F}/v1/publicRooms`,
      auth: 'server',
      query: z.object({ limit: z.coerce.number().int().min(0).optional(), since: z.string().optional() }),
      handler: ({ query }) => rs.publicRooms(query.limit, query.since, undefined),
    }),
    endpoint({
      method: 'POST',
      path: `${F}/v1/publicRooms`,
      auth: 'server',
      body: z.object({
        limit: z.number().int().min(0).optional(),
        since: z.string().optional(),
        filter: z.object({ generic_search_term: z.string().optional() }).optional(),
      }),
      handler: ({ body }) => rs.publicRooms(body.limit, body.since, body.filter?.generic_search_term),
    }),
  ];
}

/** Room versions this server can join, for make_join's `ver`. */
export const SUPPORTED_VERSIONS = [...ROOM_VERSIONS.keys()];
