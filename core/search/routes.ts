import { z } from 'zod';
import { endpoint, type Endpoint, type Requester } from '../http/endpoint.js';
import type { SearchApi } from './index.js';
import { parseSearchToken, searchBodySchema } from './query.js';

function me(r: Requester | undefined): Requester {
  // auth 'user' endpoints always have one; the HTTP layer answers 401 otherwise.
  return r!;
}

/** The search API's client endpoints. */
export function searchEndpoints(api: SearchApi): Endpoint[] {
  return [
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/search',
      auth: 'user',
      query: z.object({ next_batch: z.string().max(4096).optional() }),
      body: searchBodySchema,
      handler: ({ body, query, requester }) => {
        const token = query.next_batch !== undefined ? parseSearchToken(query.next_batch) : undefined;
        const criteria = body.search_categories.room_events;
        if (!criteria) return { search_categories: {} };
        return { search_categories: { room_events: api.searchRoomEvents(me(requester).userId, criteria, token) } };
      },
    }),
  ];
}
