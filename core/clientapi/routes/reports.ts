import { z } from 'zod';
import { domainOf } from '../../events/index.js';
import { endpoint, type AnyEndpoint } from '../../http/index.js';
import { forbidden, notFound } from '../../http/errors.js';
import type { ClientApiDeps } from '../deps.js';
import type { ReportRow } from '../reports.js';
import { eventIdSchema, roomIdSchema, userIdSchema } from '../schemas.js';

/** Long enough for any honest report; a body is capped anyway. */
const reason = z.string().max(10_000);

/**
 * Reporting content (spec "Reporting content"): events in a room the reporter is joined to,
 * rooms, and users. Reports are stored and logged for the node's admins, who list them at
 * Synapse's admin path, since that is where moderation tools look.
 */
export function reportEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  const rs = deps.roomserver;
  const reports = deps.reports;
  const stored = (kind: string, id: number, fields: Record<string, string | undefined>) => {
    deps.logger.info({ report_id: id, kind, ...fields }, 'content reported');
    return {};
  };
  return [
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/report/:eventId',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema, eventId: eventIdSchema }),
      // `score` was removed in v1.18; older clients still send it, and it is ignored.
      body: z.object({ reason: reason.optional(), score: z.number().optional() }),
      handler: ({ params, body, requester }) => {
        const reporter = requester!.userId;
        const event = rs.membership(params.roomId, reporter)?.membership === 'join' ? rs.eventsByIds([params.eventId])[0] : undefined;
        if (!event || event.roomId !== params.roomId) throw notFound('The event was not found or you are not joined to the room.');
        const id = reports.add({ kind: 'event', reporter, roomId: params.roomId, eventId: params.eventId, userId: event.sender, reason: body.reason ?? '' });
        return stored('event', id, { room_id: params.roomId, event_id: params.eventId, user_id: reporter });
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/report',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema }),
      body: z.object({ reason }),
      handler: ({ params, body, requester }) => {
        if (!rs.roomInfo(params.roomId)) throw notFound('The room was not found.');
        const id = reports.add({ kind: 'room', reporter: requester!.userId, roomId: params.roomId, reason: body.reason });
        return stored('room', id, { room_id: params.roomId, user_id: requester!.userId });
      },
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/users/:userId/report',
      auth: 'user',
      rateLimited: true,
      params: z.object({ userId: userIdSchema }),
      body: z.object({ reason }),
      handler: ({ params, body, requester }) => {
        // Other servers' users cannot be checked from here; a local one must exist.
        if (domainOf(params.userId) === deps.serverName && !deps.users.accountExists(params.userId)) throw notFound('The user was not found.');
        const id = reports.add({ kind: 'user', reporter: requester!.userId, userId: params.userId, reason: body.reason });
        return stored('user', id, { reported_user_id: params.userId, user_id: requester!.userId });
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/event_reports',
      auth: 'user',
      query: z.object({
        from: z.coerce.number().int().min(0).optional(),
        limit: z.coerce.number().int().min(0).max(1000).optional(),
        dir: z.enum(['b', 'f']).optional(),
      }),
      handler: ({ query, requester }) => {
        if (!requester!.isAdmin) throw forbidden('You are not a server admin');
        const from = query.from ?? 0;
        const { rows, total } = reports.page('event', from, query.limit ?? 100, query.dir ?? 'b');
        return {
          event_reports: rows.map((r) => eventReport(deps, r)),
          total,
          ...(from + rows.length < total ? { next_token: from + rows.length } : {}),
        };
      },
    }),
  ];
}

/** One event report in the shape of Synapse's admin API. */
function eventReport(deps: ClientApiDeps, r: ReportRow): Record<string, unknown> {
  const roomId = r.room_id!;
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    id: r.id,
    received_ts: r.received_ts,
    room_id: roomId,
    name: str(deps.roomserver.currentStateEvent(roomId, 'm.room.name', '')?.content.name),
    canonical_alias: str(deps.roomserver.currentStateEvent(roomId, 'm.room.canonical_alias', '')?.content.alias),
    event_id: r.event_id,
    user_id: r.reporter,
    sender: r.user_id,
    reason: r.reason,
  };
}
