import { z } from 'zod';
import { notFound, type Endpoint } from '../../http/index.js';
import type { JsonObject } from '../../events/types.js';
import type { UserApi } from '../index.js';
import { CS, requireSelf, route, userIdParam } from './common.js';

const eventFilter = z
  .object({
    limit: z.number().int().min(0).optional(),
    not_senders: z.array(z.string()).optional(),
    not_types: z.array(z.string()).optional(),
    senders: z.array(z.string()).optional(),
    types: z.array(z.string()).optional(),
  })
  .passthrough();

const roomFilter = z
  .object({
    account_data: eventFilter.optional(),
    ephemeral: eventFilter.optional(),
    include_leave: z.boolean().optional(),
    not_rooms: z.array(z.string()).optional(),
    rooms: z.array(z.string()).optional(),
    state: eventFilter.optional(),
    timeline: eventFilter.optional(),
  })
  .passthrough();

/** The spec's Filter shape, checked where it matters and otherwise kept as sent. */
const filterSchema = z
  .object({
    account_data: eventFilter.optional(),
    event_fields: z.array(z.string()).optional(),
    event_format: z.enum(['client', 'federation']).optional(),
    presence: eventFilter.optional(),
    room: roomFilter.optional(),
  })
  .passthrough();

export function filterEndpoints(api: UserApi): Endpoint[] {
  return [
    route({
      method: 'POST',
      path: `${CS}/user/:userId/filter`,
      auth: 'user',
      params: z.object({ userId: userIdParam }),
      body: filterSchema,
      handler: ({ params, requester, body }) => {
        requireSelf(requester, params.userId, 'create filters');
        return { filter_id: api.addFilter(params.userId, body as JsonObject) };
      },
    }),
    route({
      method: 'GET',
      path: `${CS}/user/:userId/filter/:filterId`,
      auth: 'user',
      params: z.object({ userId: userIdParam, filterId: z.string() }),
      handler: ({ params, requester }) => {
        requireSelf(requester, params.userId, 'get filters');
        const f = api.filter(params.userId, params.filterId);
        if (!f) throw notFound('No such filter');
        return f;
      },
    }),
  ];
}
