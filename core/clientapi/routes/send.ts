import { z } from 'zod';
import { getRoomVersion } from '../../events/index.js';
import type { JsonObject } from '../../events/types.js';
import { endpoint, type AnyEndpoint } from '../../http/index.js';
import { requireRoom } from '../access.js';
import type { ClientApiDeps } from '../deps.js';
import { eventIdSchema, roomIdSchema } from '../schemas.js';

const eventType = z.string().min(1).max(255);
const txnId = z.string().min(1).max(255);
const anyContent = z.record(z.string(), z.unknown());

/** Sending events: messages (idempotent per device and txnId), state, redactions. */
export function sendEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  const rs = deps.roomserver;
  return [
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/:roomId/send/:eventType/:txnId',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema, eventType, txnId }),
      body: anyContent,
      handler: ({ params, body, requester, c }) =>
        deps.txns.once<{ event_id: string }>(requester!.userId, requester!.deviceId, params.txnId, c.req.path, async (record) => {
          requireRoom(rs, params.roomId);
          const { eventId } = await rs.sendEvent({
            roomId: params.roomId,
            sender: requester!.userId,
            type: params.eventType,
            content: body as JsonObject,
            transaction: { deviceId: requester!.deviceId, txnId: params.txnId },
            onStored: (event_id) => record({ event_id }),
          });
          return { event_id: eventId };
        }),
    }),
    ...[
      '/_matrix/client/v3/rooms/:roomId/state/:eventType',
      // An empty state key leaves a trailing slash (clients build the path that way); the router is strict.
      '/_matrix/client/v3/rooms/:roomId/state/:eventType/',
      '/_matrix/client/v3/rooms/:roomId/state/:eventType/:stateKey',
    ].map((path) =>
      endpoint({
        method: 'PUT',
        path,
        auth: 'user',
        rateLimited: true,
        params: z.object({ roomId: roomIdSchema, eventType, stateKey: z.string().max(255).optional() }),
        body: anyContent,
        handler: async ({ params, body, requester }) => {
          requireRoom(rs, params.roomId);
          const stateKey = params.stateKey ?? '';
          // Re-sending identical state changes nothing (as Synapse does): answer with the current event.
          const current = rs.currentStateEvent(params.roomId, params.eventType, stateKey);
          if (current && current.sender === requester!.userId && JSON.stringify(current.content) === JSON.stringify(body)) {
            return { event_id: current.eventId };
          }
          const { eventId } = await rs.sendEvent({
            roomId: params.roomId,
            sender: requester!.userId,
            type: params.eventType,
            stateKey,
            content: body as JsonObject,
          });
          return { event_id: eventId };
        },
      }),
    ),
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/:roomId/redact/:eventId/:txnId',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema, eventId: eventIdSchema, txnId }),
      body: z.object({ reason: z.string().optional() }),
      handler: ({ params, body, requester, c }) =>
        deps.txns.once<{ event_id: string }>(requester!.userId, requester!.deviceId, params.txnId, c.req.path, async (record) => {
          requireRoom(rs, params.roomId);
          const info = rs.roomInfo(params.roomId)!;
          const inContent = getRoomVersion(info.version)!.redactsInContent;
          const content: JsonObject = body.reason ? { reason: body.reason } : {};
          if (inContent) content.redacts = params.eventId;
          const { eventId } = await rs.sendEvent({
            roomId: params.roomId,
            sender: requester!.userId,
            type: 'm.room.redaction',
            content,
            redacts: params.eventId,
            transaction: { deviceId: requester!.deviceId, txnId: params.txnId },
            onStored: (event_id) => record({ event_id }),
          });
          return { event_id: eventId };
        }),
    }),
  ];
}
