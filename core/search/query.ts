import { z } from 'zod';
import { invalidParam } from '../http/errors.js';
import { SEARCH_KEYS, type SearchKey } from './storage.js';

/** Splits a search term into words as the unicode61 tokenizer does (letters and digits). */
export function searchTokens(term: string): string[] {
  const out: string[] = [];
  for (const t of term.toLowerCase().split(/[^\p{L}\p{N}]+/u)) if (t && !out.includes(t)) out.push(t);
  return out;
}

/** An FTS5 expression matching all the words, each as a quoted prefix: user input never
 * reaches FTS5's syntax, so quotes, stars or parentheses cannot make a query fail. */
export function buildMatch(tokens: readonly string[]): string {
  return tokens.map((t) => `"${t.replace(/"/g, '""')}"*`).join(' AND ');
}

const stringList = z.array(z.string().max(1024)).max(1000);

export const roomEventFilterSchema = z.object({
  limit: z.number().int().min(1).max(1000).optional(),
  rooms: stringList.optional(),
  not_rooms: stringList.optional(),
  senders: stringList.optional(),
  not_senders: stringList.optional(),
  types: stringList.optional(),
  not_types: stringList.optional(),
  contains_url: z.boolean().optional(),
  lazy_load_members: z.boolean().optional(),
  include_redundant_members: z.boolean().optional(),
  unread_thread_notifications: z.boolean().optional(),
});
export type RoomEventFilter = z.infer<typeof roomEventFilterSchema>;

export const searchBodySchema = z.object({
  search_categories: z.object({
    room_events: z
      .object({
        search_term: z.string().max(4096),
        keys: z.array(z.enum(Object.keys(SEARCH_KEYS) as [SearchKey, ...SearchKey[]])).optional(),
        filter: roomEventFilterSchema.optional(),
        order_by: z.enum(['recent', 'rank']).optional(),
        event_context: z
          .object({
            before_limit: z.number().int().min(0).max(100).optional(),
            after_limit: z.number().int().min(0).max(100).optional(),
            include_profile: z.boolean().optional(),
          })
          .optional(),
        include_state: z.boolean().optional(),
        groupings: z.object({ group_by: z.array(z.object({ key: z.enum(['room_id', 'sender']) })).max(2).optional() }).optional(),
      })
      .optional(),
  }),
});
export type SearchBody = z.infer<typeof searchBodySchema>;
export type RoomEventsCriteria = NonNullable<SearchBody['search_categories']['room_events']>;

/** What a next_batch token carries: where the previous page ended, and the group it was
 * restricted to when it came from a group's own next_batch. */
const tokenSchema = z.object({
  o: z.enum(['rank', 'recent']),
  s: z.number(),
  p: z.number().int().min(0),
  room: z.string().optional(),
  sender: z.string().optional(),
});
export type SearchToken = z.infer<typeof tokenSchema>;

export function formatSearchToken(t: SearchToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function parseSearchToken(s: string): SearchToken {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw invalidParam('Invalid next_batch token');
  }
  const r = tokenSchema.safeParse(v);
  if (!r.success) throw invalidParam('Invalid next_batch token');
  return r.data;
}

/** Event type patterns in filters may end in or contain `*`. */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(type);
}
