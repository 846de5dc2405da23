import { z } from 'zod';
import { endpoint, forbidden, type Endpoint } from '../../http/index.js';
import { requireRoom } from '../access.js';
import type { ClientApiDeps } from '../deps.js';
import { eventIdSchema, roomIdSchema } from '../schemas.js';

/**
 * POST /rooms/{roomId}/read_markers: the fully-read marker is room account data
 * (m.fully_read); the m.read / m.read.private receipts go to the receipt server. Both checks
 * (event in the room, receipts only move forward) are the receipt server's.
 */
export function readMarkerEndpoints(deps: ClientApiDeps): Endpoint[] {
  const rs = deps.roomserver;
  return [
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/read_markers',
      auth: 'user',
      params: z.object({ roomId: roomIdSchema }),
      body: z.object({ 'm.fully_read': eventIdSchema.optional(), 'm.read': eventIdSchema.optional(), 'm.read.private': eventIdSchema.optional() }),
      handler: ({ params, body, requester }) => {
        requireRoom(rs, params.roomId);
        const userId = requester!.userId;
        if (rs.membership(params.roomId, userId)?.membership !== 'join') throw forbidden('You are not in this room');
        const fullyRead = body['m.fully_read'];
        const read = body['m.read'];
        const readPrivate = body['m.read.private'];
        if (read !== undefined) deps.receipts.putReceipt(params.roomId, userId, 'm.read', read);
        if (readPrivate !== undefined) deps.receipts.putReceipt(params.roomId, userId, 'm.read.private', readPrivate);
        if (fullyRead !== undefined) deps.users.putAccountData(userId, params.roomId, 'm.fully_read', { event_id: fullyRead });
        return {};
      },
    }),
  ];
}
