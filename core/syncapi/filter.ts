import { z } from 'zod';
import { badJson, invalidParam, notFound } from '../http/errors.js';
import type { JsonObject } from '../events/types.js';
import type { UserAPI } from '../userapi/api.js';

const eventFilter = z.object({
  limit: z.number().int().min(0).optional(),
  types: z.array(z.string()).optional(),
  not_types: z.array(z.string()).optional(),
  senders: z.array(z.string()).optional(),
  not_senders: z.array(z.string()).optional(),
});

const roomEventFilter = eventFilter.extend({
  rooms: z.array(z.string()).optional(),
  not_rooms: z.array(z.string()).optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  contains_url: z.boolean().optional(),
  unread_thread_notifications: z.boolean().optional(),
});

/** The filter schema of the spec (unknown keys ignored, as the spec allows extension). */
export const filterSchema = z.object({
  event_fields: z.array(z.string()).optional(),
  event_format: z.enum(['client', 'federation']).optional(),
  presence: eventFilter.optional(),
  account_data: eventFilter.optional(),
  room: z
    .object({
      rooms: z.array(z.string()).optional(),
      not_rooms: z.array(z.string()).optional(),
      include_leave: z.boolean().optional(),
      timeline: roomEventFilter.optional(),
      state: roomEventFilter.optional(),
      ephemeral: roomEventFilter.optional(),
      account_data: roomEventFilter.optional(),
    })
    .optional(),
});

export type Filter = z.infer<typeof filterSchema>;
export type RoomEventFilter = z.infer<typeof roomEventFilter>;

/** `*` matches any run of characters, as the spec's filter types allow. */
function matchesPattern(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(value);
}

/** Whether an event passes an event filter's type/sender/room lists. */
export function eventAllowed(f: RoomEventFilter | undefined, ev: { type: string; sender: string; room_id?: string }): boolean {
  if (!f) return true;
  if (f.not_types?.some((p) => matchesPattern(p, ev.type))) return false;
  if (f.types && !f.types.some((p) => matchesPattern(p, ev.type))) return false;
  if (f.not_senders?.includes(ev.sender)) return false;
  if (f.senders && !f.senders.includes(ev.sender)) return false;
  if (ev.room_id !== undefined) {
    if (f.not_rooms?.includes(ev.room_id)) return false;
    if (f.rooms && !f.rooms.includes(ev.room_id)) return false;
  }
  return true;
}

export function roomAllowed(f: Filter, roomId: string): boolean {
  if (f.room?.not_rooms?.includes(roomId)) return false;
  if (f.room?.rooms && !f.room.rooms.includes(roomId)) return false;
  return true;
}

function parseFilterJson(value: unknown, what: string): Filter {
  const r = filterSchema.safeParse(value);
  if (!r.success) throw invalidParam(`Invalid ${what}: ${r.error.issues[0]?.message ?? 'bad filter'}`);
  return r.data;
}

/** The `filter` query parameter of /sync: a filter id or inline JSON (starting with `{`). */
export function resolveFilter(users: UserAPI, userId: string, param: string | undefined): Filter {
  if (param === undefined || param === '') return {};
  if (param.trimStart().startsWith('{')) {
    let value: unknown;
    try {
      value = JSON.parse(param);
    } catch {
      throw badJson('filter is not valid JSON');
    }
    return parseFilterJson(value, 'filter');
  }
  const stored: JsonObject | undefined = users.filter(userId, param);
  if (!stored) throw notFound(`Unknown filter ${param}`);
  return parseFilterJson(stored, 'stored filter');
}

/** The `filter` query parameter of /messages and /context: a RoomEventFilter as JSON. */
export function parseRoomEventFilter(param: string | undefined): RoomEventFilter {
  if (param === undefined || param === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(param);
  } catch {
    throw invalidParam('filter is not valid JSON');
  }
  const r = roomEventFilter.safeParse(value);
  if (!r.success) throw invalidParam(`Invalid filter: ${r.error.issues[0]?.message ?? 'bad filter'}`);
  return r.data;
}
