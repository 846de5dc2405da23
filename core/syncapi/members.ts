import type { Requester } from '../http/endpoint.js';
import { forbidden, notFound } from '../http/errors.js';
import type { JsonObject } from '../events/types.js';
import type { SyncApi } from './index.js';
import { keyOf } from './storage.js';

export interface MembersQuery {
  /** Stream position of an `at` sync token: the members as they were then. */
  at?: number;
  membership?: string;
  notMembership?: string;
}

/**
 * GET /rooms/{roomId}/members: the member events of the room at `at` (default now). A user
 * who left sees the members as of their leave; one who never joined is refused.
 */
export function roomMembers(api: SyncApi, requester: Requester, roomId: string, q: MembersQuery): { chunk: JsonObject[] } {
  const history = api.store.membershipHistory(roomId, requester.userId);
  if (history.length === 0) {
    if (api.store.membersWith(roomId, 'join').length === 0) throw notFound(`Unknown room ${roomId}`);
    throw forbidden(`${requester.userId} is not in room ${roomId}`);
  }
  let pos = q.at ?? api.store.maxPos();
  const last = history[history.length - 1]!;
  if (last.membership !== 'join' && last.pos < pos) pos = last.pos;
  const chunk: JsonObject[] = [];
  for (const [key, eventId] of api.store.stateAt(roomId, pos)) {
    if (!key.startsWith(keyOf('m.room.member', ''))) continue;
    const row = api.store.event(eventId);
    if (!row) continue;
    const rendered = api.render(row, requester);
    const membership = (rendered.content as JsonObject | undefined)?.membership;
    if (q.membership !== undefined && membership !== q.membership) continue;
    if (q.notMembership !== undefined && membership === q.notMembership) continue;
    chunk.push(rendered);
  }
  return { chunk };
}
