import { forbidden, invalidParam, notFound } from '../http/errors.js';
import type { RoomEvent } from '../events/types.js';
import type { RoomserverQueryAPI } from './api.js';
import { roomSummary } from './publicrooms.js';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

export interface HierarchyOptions {
  suggestedOnly: boolean;
  maxDepth?: number;
  limit?: number;
  from?: string;
}

type Rs = Pick<RoomserverQueryAPI, 'roomInfo' | 'currentState' | 'currentStateEvent' | 'joinedMembers' | 'membership'>;

/** Whether the user may see a room's summary (client-server "Spaces"; Synapse's rules for
 * local rooms): a member, invitee or knocker, a room anyone may join, knock on or read, or
 * a restricted room the user may join through one of its allowed rooms. Without a user,
 * only the rooms anyone may join, knock on or read. */
function accessible(rs: Rs, roomId: string, userId: string | undefined): boolean {
  const m = userId === undefined ? undefined : rs.membership(roomId, userId)?.membership;
  if (m === 'join' || m === 'invite' || m === 'knock') return true;
  const joinRules = rs.currentStateEvent(roomId, 'm.room.join_rules', '')?.content;
  const rule = joinRules?.join_rule;
  if (rule === 'public' || rule === 'knock' || rule === 'knock_restricted') return true;
  if (rs.currentStateEvent(roomId, 'm.room.history_visibility', '')?.content.history_visibility === 'world_readable') return true;
  if (userId !== undefined && rule === 'restricted' && Array.isArray(joinRules?.allow)) {
    return joinRules.allow.some(
      (a) => a !== null && typeof a === 'object' && !Array.isArray(a) && a.type === 'm.room_membership' && typeof a.room_id === 'string' && rs.membership(a.room_id, userId)?.membership === 'join',
    );
  }
  return false;
}

/** GET /room_summary: a room's summary with its version, encryption and the caller's
 * membership, for a caller who may see it; 404 otherwise, as for a room not known here (the
 * spec allows not telling them apart). */
export function roomSummaryFor(rs: Rs, roomId: string, userId: string | undefined): Record<string, unknown> {
  const info = rs.roomInfo(roomId);
  if (!info || !accessible(rs, roomId, userId)) throw notFound('Room not found');
  const out: Record<string, unknown> = { ...roomSummary(rs, roomId), room_version: info.version };
  const encryption = rs.currentStateEvent(roomId, 'm.room.encryption', '')?.content.algorithm;
  if (typeof encryption === 'string') out.encryption = encryption;
  const membership = userId === undefined ? undefined : rs.membership(roomId, userId)?.membership;
  if (membership !== undefined) out.membership = membership;
  return out;
}

/** A valid `order` of m.space.child: at most 50 printable ASCII characters. */
function orderOf(e: RoomEvent): string | undefined {
  const o = e.content.order;
  return typeof o === 'string' && o.length <= 50 && /^[\x20-\x7E]*$/.test(o) ? o : undefined;
}

/** The room's children in the spec's order: by `order` (those with one first), then by when
 * they were added, then by room id. Children without `via` are not children. */
function children(rs: Rs, roomId: string): RoomEvent[] {
  return rs
    .currentState(roomId)
    .filter((e) => e.type === 'm.space.child' && e.stateKey !== undefined && Array.isArray(e.content.via) && e.content.via.length > 0)
    .sort((a, b) => {
      const oa = orderOf(a);
      const ob = orderOf(b);
      if (oa !== ob) {
        if (oa === undefined) return 1;
        if (ob === undefined) return -1;
        return oa < ob ? -1 : 1;
      }
      return a.originServerTs - b.originServerTs || (a.stateKey! < b.stateKey! ? -1 : a.stateKey! > b.stateKey! ? 1 : 0);
    });
}

/**
 * GET /hierarchy over the rooms this server knows: breadth first from the root, each room the
 * user may see with its summary and its m.space.child events; rooms of other servers that
 * this one is not in are left out. Pages are `h<offset>` into that walk.
 */
export function spaceHierarchy(rs: Rs, userId: string, rootId: string, opts: HierarchyOptions): Record<string, unknown> {
  if (!rs.roomInfo(rootId) || !accessible(rs, rootId, userId)) throw forbidden('You may not see this space');
  let start = 0;
  if (opts.from !== undefined) {
    const m = /^h(\d+)$/.exec(opts.from);
    if (!m) throw invalidParam('Bad from token');
    start = Number(m[1]);
  }
  const limit = Math.min(opts.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
  const rooms: Record<string, unknown>[] = [];
  const seen = new Set<string>([rootId]);
  const queue: Array<{ roomId: string; depth: number }> = [{ roomId: rootId, depth: 0 }];
  let index = 0;
  let more = false;
  while (queue.length > 0) {
    const { roomId, depth } = queue.shift()!;
    if (roomId !== rootId && (!rs.roomInfo(roomId) || !accessible(rs, roomId, userId))) continue;
    const kids = children(rs, roomId);
    if (index >= start) {
      if (rooms.length === limit) {
        more = true;
        break;
      }
      rooms.push({
        ...roomSummary(rs, roomId),
        children_state: kids.map((e) => ({ type: e.type, state_key: e.stateKey!, content: e.content, sender: e.sender, origin_server_ts: e.originServerTs })),
      });
    }
    index++;
    if (opts.maxDepth !== undefined && depth >= opts.maxDepth) continue;
    for (const k of kids) {
      if (opts.suggestedOnly && k.content.suggested !== true) continue;
      if (seen.has(k.stateKey!)) continue;
      seen.add(k.stateKey!);
      queue.push({ roomId: k.stateKey!, depth: depth + 1 });
    }
  }
  const out: Record<string, unknown> = { rooms };
  if (more) out.next_batch = `h${start + rooms.length}`;
  return out;
}
