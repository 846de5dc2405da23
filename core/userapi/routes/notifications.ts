import { z } from 'zod';
import type { JsonObject } from '../../events/types.js';
import { endpoint, type AnyEndpoint } from '../../http/index.js';
import type { RoomserverQueryAPI } from '../../roomserver/api.js';
import type { Notifications } from '../notifications.js';

const MAX_LIMIT = 100;
const DEFAULT_LIMIT = 20;

/** GET /notifications: the user's notifications, newest first, paginated by `next_token`. */
export function notificationEndpoints(notifications: Notifications, roomserver: Pick<RoomserverQueryAPI, 'eventsByIds'>): AnyEndpoint[] {
  return [
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/notifications',
      auth: 'user',
      query: z.object({
        from: z.string().regex(/^[1-9][0-9]{0,15}$/, 'not a token from this server').optional(),
        limit: z.coerce.number().int().min(1).optional(),
        only: z.string().optional(),
      }),
      handler: ({ query, requester }) => {
        const limit = Math.min(query.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
        const { rows, next } = notifications.page(requester!.userId, query.from === undefined ? undefined : Number(query.from), limit, query.only === 'highlight');
        const events = new Map(roomserver.eventsByIds(rows.map((r) => r.event_id)).map((e) => [e.eventId, e]));
        const out: JsonObject[] = [];
        for (const r of rows) {
          const e = events.get(r.event_id);
          if (!e) continue;
          const event: JsonObject = { event_id: e.eventId, room_id: e.roomId, sender: e.sender, type: e.type, content: e.content, origin_server_ts: e.originServerTs, unsigned: {} };
          if (e.stateKey !== undefined) event.state_key = e.stateKey;
          out.push({ actions: JSON.parse(r.actions) as JsonObject[], event, read: r.read === 1, room_id: r.room_id, ts: r.ts });
        }
        return next === undefined ? { notifications: out } : { notifications: out, next_token: String(next) };
      },
    }),
  ];
}
