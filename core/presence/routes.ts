import { z } from 'zod';
import { parseUserId } from '../events/index.js';
import { endpoint, forbidden, type AnyEndpoint } from '../http/index.js';
import { PRESENCE_STATES, presenceContent, type PresenceState } from './api.js';
import type { PresenceServer } from './index.js';

const userIdSchema = z.string().refine((s) => parseUserId(s, { historical: true }) !== undefined, 'not a user id');

/** Longest status message kept (the spec sets none; this bounds memory per user). */
const MAX_STATUS_MSG = 1024;

/** PUT and GET /presence/{userId}/status. */
export function presenceEndpoints(server: PresenceServer): AnyEndpoint[] {
  return [
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/presence/:userId/status',
      auth: 'user',
      rateLimited: true,
      params: z.object({ userId: userIdSchema }),
      body: z.object({
        presence: z.enum(PRESENCE_STATES as [PresenceState, ...PresenceState[]]),
        status_msg: z.string().max(MAX_STATUS_MSG).nullable().optional(),
      }),
      handler: ({ params, body, requester }) => {
        if (params.userId !== requester!.userId) throw forbidden('Cannot set the presence of another user');
        server.setPresence(params.userId, body.presence, body.status_msg ?? undefined);
        return {};
      },
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/presence/:userId/status',
      auth: 'user',
      params: z.object({ userId: userIdSchema }),
      handler: ({ params, requester }) => {
        if (!server.mayView(requester!.userId, params.userId)) throw forbidden('You are not allowed to see their presence');
        return presenceContent(server.presence(params.userId), Date.now());
      },
    }),
  ];
}
