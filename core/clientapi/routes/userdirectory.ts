import { z } from 'zod';
import { endpoint, type AnyEndpoint } from '../../http/index.js';
import type { ClientApiDeps } from '../deps.js';

const MAX_LIMIT = 50;

interface Found {
  user_id: string;
  display_name?: string;
  avatar_url?: string;
}

/** Lower rank first: a name or id starting with the term, then one with a word starting with
 * it, then any other match; users with a display name before those without. */
function rank(u: Found, term: string): number {
  const id = u.user_id.slice(1).toLowerCase();
  const name = u.display_name?.toLowerCase() ?? '';
  const starts = id.startsWith(term) || name.startsWith(term) ? 0 : name.split(/\s+/).some((w) => w.startsWith(term)) ? 1 : 2;
  return starts * 2 + (u.display_name ? 0 : 1);
}

/** POST /user_directory/search: local accounts, and everyone the requester can see through
 * rooms (shared rooms, public rooms, world-readable rooms), matched on user id or display
 * name in any case. */
export function userDirectoryEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  return [
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/user_directory/search',
      auth: 'user',
      body: z.object({ search_term: z.string().max(1000), limit: z.number().int().min(0).optional() }),
      handler: ({ body, requester }) => {
        const term = body.search_term.trim().toLowerCase();
        const limit = Math.min(body.limit ?? 10, MAX_LIMIT);
        const found = new Map<string, Found>();
        const add = (userId: string, p: { displayname?: string; avatar_url?: string }) => {
          const name = p.displayname;
          if (!userId.toLowerCase().includes(term) && !(name && name.toLowerCase().includes(term))) return;
          const prev = found.get(userId);
          found.set(userId, {
            user_id: userId,
            ...(name !== undefined ? { display_name: name } : prev?.display_name !== undefined ? { display_name: prev.display_name } : {}),
            ...(p.avatar_url !== undefined ? { avatar_url: p.avatar_url } : prev?.avatar_url !== undefined ? { avatar_url: prev.avatar_url } : {}),
          });
        };
        for (const [userId, p] of deps.roomserver.visibleUsers(requester!.userId)) add(userId, p);
        // Local profiles win over a room's member event (their global name and avatar).
        for (const p of deps.users.searchProfiles(term, MAX_LIMIT * 4)) add(p.userId, p);
        const results = [...found.values()].sort((a, b) => rank(a, term) - rank(b, term) || a.user_id.localeCompare(b.user_id));
        return { results: results.slice(0, limit), limited: results.length > limit };
      },
    }),
  ];
}
