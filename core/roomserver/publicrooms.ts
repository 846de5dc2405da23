import { invalidParam } from '../http/errors.js';
import type { RoomserverAliasAPI, RoomserverQueryAPI } from './api.js';

const MAX_PUBLIC_ROOMS_LIMIT = 500;

/** A room's public summary (the directory's and the space hierarchy's chunk). */
export function roomSummary(rs: Pick<RoomserverQueryAPI, 'currentStateEvent' | 'joinedMembers'>, roomId: string): Record<string, unknown> {
  const get = (t: string) => rs.currentStateEvent(roomId, t, '')?.content;
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const joinRule = str(get('m.room.join_rules')?.join_rule) ?? 'invite';
  const out: Record<string, unknown> = {
    room_id: roomId,
    num_joined_members: rs.joinedMembers(roomId).length,
    world_readable: get('m.room.history_visibility')?.history_visibility === 'world_readable',
    guest_can_join: get('m.room.guest_access')?.guest_access === 'can_join',
    join_rule: joinRule,
  };
  const name = str(get('m.room.name')?.name);
  const topic = str(get('m.room.topic')?.topic);
  const alias = str(get('m.room.canonical_alias')?.alias);
  const avatar = str(get('m.room.avatar')?.url);
  const type = str(get('m.room.create')?.type);
  if (name !== undefined) out.name = name;
  if (topic !== undefined) out.topic = topic;
  if (alias !== undefined) out.canonical_alias = alias;
  if (avatar !== undefined) out.avatar_url = avatar;
  if (type !== undefined) out.room_type = type;
  return out;
}

/** The public room directory: published rooms with their summaries, largest first, paged
 * with `o<offset>` tokens. Shared by the client API and federation. */
export function publicRoomsPage(rs: RoomserverQueryAPI & Pick<RoomserverAliasAPI, 'publishedRooms'>, limit: number | undefined, since: string | undefined, term: string | undefined): Record<string, unknown> {
  const summary = (roomId: string) => roomSummary(rs, roomId);

  let rooms = rs
    .publishedRooms()
    .filter((id) => rs.roomInfo(id))
    .map(summary)
    .sort((a, b) => (b.num_joined_members as number) - (a.num_joined_members as number) || String(a.room_id).localeCompare(String(b.room_id)));
  if (term) {
    const t = term.toLowerCase();
    rooms = rooms.filter((r) => ['name', 'topic', 'canonical_alias', 'room_id'].some((k) => typeof r[k] === 'string' && (r[k] as string).toLowerCase().includes(t)));
  }
  let start = 0;
  if (since !== undefined) {
    const m = /^o(\d+)$/.exec(since);
    if (!m) throw invalidParam('Bad since token');
    start = Number(m[1]);
  }
  const n = Math.min(limit ?? MAX_PUBLIC_ROOMS_LIMIT, MAX_PUBLIC_ROOMS_LIMIT);
  const chunk = rooms.slice(start, start + n);
  const out: Record<string, unknown> = { chunk, total_room_count_estimate: rooms.length };
  if (start + n < rooms.length) out.next_batch = `o${start + n}`;
  if (start > 0) out.prev_batch = `o${Math.max(0, start - n)}`;
  return out;
}
