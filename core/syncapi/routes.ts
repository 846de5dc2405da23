import { z } from 'zod';
import { parseEventId, parseRoomId } from '../events/index.js';
import { endpoint, type Endpoint, type Requester } from '../http/endpoint.js';
import { resolveFilter, parseRoomEventFilter } from './filter.js';
import type { SyncApi } from './index.js';
import { roomMembers } from './members.js';
import { parseToken } from './token.js';

/** Longest a /sync may wait, whatever the client asks. */
const MAX_TIMEOUT_MS = 5 * 60_000;

const roomId = z.string().refine((s) => parseRoomId(s) !== undefined, 'not a room id');
const eventId = z.string().refine((s) => parseEventId(s) !== undefined, 'not an event id');
const bool = z.enum(['true', 'false']);
const limitOf = (max: number) => z.coerce.number().int().min(0).transform((n) => Math.min(n, max));

function me(r: Requester | undefined): Requester {
  // auth 'user' endpoints always have one; the HTTP layer answers 401 otherwise.
  return r!;
}

/** The sync API's client endpoints. */
export function syncEndpoints(api: SyncApi): Endpoint[] {
  const list = [
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/sync',
      auth: 'user',
      query: z.object({
        since: z.string().optional(),
        timeout: z.coerce.number().int().min(0).optional(),
        filter: z.string().optional(),
        full_state: bool.optional(),
        set_presence: z.enum(['offline', 'online', 'unavailable']).optional(),
        use_state_after: bool.optional(),
      }),
      handler: async ({ query, requester, c }) => {
        const r = me(requester);
        const since = query.since !== undefined ? parseToken(query.since, 'since') : undefined;
        const filter = resolveFilter(api.users, r.userId, query.filter);
        // A syncing client keeps its user online (set_presence, online by default).
        const end = api.syncStarted(r.userId, query.set_presence);
        try {
          return await api.sync(r, { since, timeoutMs: Math.min(query.timeout ?? 0, MAX_TIMEOUT_MS), filter, fullState: query.full_state === 'true' }, c.req.raw.signal);
        } finally {
          end();
        }
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/keys/changes',
      auth: 'user',
      query: z.object({ from: z.string(), to: z.string() }),
      handler: ({ query, requester }) => api.keyChanges(me(requester).userId, parseToken(query.from, 'from'), parseToken(query.to, 'to')),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/:roomId/members',
      auth: 'user',
      params: z.object({ roomId }),
      query: z.object({
        at: z.string().optional(),
        membership: z.enum(['join', 'invite', 'leave', 'ban', 'knock']).optional(),
        not_membership: z.enum(['join', 'invite', 'leave', 'ban', 'knock']).optional(),
      }),
      handler: ({ params, query, requester }) =>
        roomMembers(api, me(requester), params.roomId, {
          at: query.at !== undefined ? parseToken(query.at, 'at').pdu : undefined,
          membership: query.membership,
          notMembership: query.not_membership,
        }),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/:roomId/messages',
      auth: 'user',
      params: z.object({ roomId }),
      query: z.object({
        dir: z.enum(['b', 'f']),
        from: z.string().optional(),
        to: z.string().optional(),
        limit: limitOf(1000).optional(),
        filter: z.string().optional(),
      }),
      handler: ({ params, query, requester }) =>
        api.messagesWithBackfill(me(requester), params.roomId, {
          dir: query.dir,
          from: query.from !== undefined ? parseToken(query.from, 'from').pdu : undefined,
          to: query.to !== undefined ? parseToken(query.to, 'to').pdu : undefined,
          limit: query.limit ?? 10,
          filter: parseRoomEventFilter(query.filter),
        }),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/rooms/:roomId/context/:eventId',
      auth: 'user',
      params: z.object({ roomId, eventId }),
      query: z.object({ limit: limitOf(100).optional(), filter: z.string().optional() }),
      handler: async ({ params, query, requester }) => {
        await api.roomEventsCaughtUp();
        return api.context(me(requester), params.roomId, params.eventId, query.limit ?? 10, parseRoomEventFilter(query.filter));
      },
    }),
  ];
  list.push(
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/:roomId/threads',
      auth: 'user',
      params: z.object({ roomId }),
      query: z.object({ include: z.enum(['all', 'participated']).optional(), from: z.string().optional(), limit: limitOf(100).optional() }),
      handler: async ({ params, query, requester }) => {
        const from = query.from !== undefined ? parseToken(query.from, 'from').pdu : undefined;
        await api.roomEventsCaughtUp();
        return api.threads(me(requester), params.roomId, { include: query.include ?? 'all', from, limit: query.limit ?? 20 });
      },
    }) as (typeof list)[number],
  );
  list.push(
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/:roomId/timestamp_to_event',
      auth: 'user',
      params: z.object({ roomId }),
      query: z.object({ ts: z.coerce.number().int().min(0), dir: z.enum(['f', 'b']) }),
      handler: async ({ params, query, requester }) => {
        await api.roomEventsCaughtUp();
        return api.eventAtTime(me(requester), params.roomId, query.ts, query.dir);
      },
    }) as (typeof list)[number],
  );
  const relationsQuery = z.object({
    from: z.string().optional(),
    to: z.string().optional(),
    limit: limitOf(1000).optional(),
    dir: z.enum(['b', 'f']).optional(),
    recurse: bool.optional(),
  });
  const relParams = z.object({ roomId, eventId, relType: z.string().min(1).optional(), eventType: z.string().min(1).optional() });
  for (const suffix of ['', '/:relType', '/:relType/:eventType']) {
    list.push(
      endpoint({
        method: 'GET',
        path: `/_matrix/client/v1/rooms/:roomId/relations/:eventId${suffix}`,
        auth: 'user',
        params: relParams,
        query: relationsQuery,
        handler: async ({ params, query, requester }) => {
          const from = query.from !== undefined ? parseToken(query.from, 'from').pdu : undefined;
          const to = query.to !== undefined ? parseToken(query.to, 'to').pdu : undefined;
          await api.roomEventsCaughtUp();
          return api.relations(me(requester), params.roomId, params.eventId, {
            relType: params.relType,
            eventType: params.eventType,
            dir: query.dir ?? 'b',
            from,
            to,
            limit: query.limit ?? 20,
          });
        },
      }) as (typeof list)[number],
    );
  }
  return list as Endpoint[];
}
