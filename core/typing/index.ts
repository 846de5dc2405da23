import { z } from 'zod';
import { endpoint, forbidden, notFound, type AnyEndpoint } from '../http/index.js';
import { parseRoomId, parseUserId } from '../events/index.js';
import type { Log, Topic } from '../log/index.js';
import type { RoomserverQueryAPI } from '../roomserver/api.js';
import { TYPING_TOPIC, type TypingAPI, type TypingOutput } from './api.js';

export { TYPING_TOPIC, type TypingAPI, type TypingOutput } from './api.js';

/** Longest a client may claim to type for, and the default when it names no timeout. */
export const MAX_TYPING_TIMEOUT_MS = 30_000;

export interface TypingServerDeps {
  log: Log;
  roomserver: Pick<RoomserverQueryAPI, 'roomInfo' | 'membership'>;
  now?: () => number;
}

interface RoomTyping {
  /** user id → expiry (ms since epoch) */
  users: Map<string, number>;
  timer: NodeJS.Timeout | undefined;
  timerAt: number;
}

/**
 * The typing EDU server: per room, who is typing until when. One timer per room fires at the
 * earliest expiry; every change of a room's list (set, stop, expiry) is published on `typing`.
 */
export class TypingServer implements TypingAPI {
  private readonly rooms = new Map<string, RoomTyping>();
  private readonly topic: Topic<TypingOutput>;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly deps: TypingServerDeps) {
    this.topic = deps.log.topic<TypingOutput>(TYPING_TOPIC, { durable: false });
    this.now = deps.now ?? Date.now;
  }

  setTyping(roomId: string, userId: string, typing: boolean, timeoutMs = MAX_TYPING_TIMEOUT_MS): void {
    if (this.closed) return;
    let room = this.rooms.get(roomId);
    if (typing) {
      if (!room) this.rooms.set(roomId, (room = { users: new Map(), timer: undefined, timerAt: 0 }));
      const was = room.users.has(userId);
      room.users.set(userId, this.now() + Math.max(0, Math.min(timeoutMs, MAX_TYPING_TIMEOUT_MS)));
      this.schedule(roomId, room);
      // Extending a running timeout changes nothing a reader sees.
      if (!was) this.publish(roomId, room);
    } else if (room?.users.delete(userId)) {
      this.schedule(roomId, room);
      this.publish(roomId, room);
    }
  }

  typingUsers(roomId: string): string[] {
    return [...(this.rooms.get(roomId)?.users.keys() ?? [])].sort();
  }

  /** Clears the timers (node stop). */
  close(): void {
    this.closed = true;
    for (const r of this.rooms.values()) clearTimeout(r.timer);
    this.rooms.clear();
  }

  private publish(roomId: string, room: RoomTyping): void {
    this.topic.publish(roomId, { roomId, userIds: [...room.users.keys()].sort() });
  }

  /** Re-arms the room's single timer at its earliest expiry; forgets an empty room. */
  private schedule(roomId: string, room: RoomTyping): void {
    if (room.users.size === 0) {
      clearTimeout(room.timer);
      this.rooms.delete(roomId);
      return;
    }
    const next = Math.min(...room.users.values());
    if (room.timer !== undefined && room.timerAt === next) return;
    clearTimeout(room.timer);
    room.timerAt = next;
    room.timer = setTimeout(() => this.expire(roomId, room), Math.max(0, next - this.now()));
    room.timer.unref();
  }

  private expire(roomId: string, room: RoomTyping): void {
    room.timer = undefined;
    if (this.rooms.get(roomId) !== room) return;
    const now = this.now();
    let changed = false;
    for (const [u, at] of room.users) if (at <= now) changed = room.users.delete(u) || changed;
    this.schedule(roomId, room);
    if (changed) this.publish(roomId, room);
  }
}

const roomIdSchema = z.string().refine((s) => parseRoomId(s) !== undefined, 'not a room id');
const userIdSchema = z.string().refine((s) => parseUserId(s, { historical: true }) !== undefined, 'not a user id');

/** PUT /rooms/{roomId}/typing/{userId}. */
export function typingEndpoints(server: TypingServer, roomserver: Pick<RoomserverQueryAPI, 'roomInfo' | 'membership'>): AnyEndpoint[] {
  return [
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/rooms/:roomId/typing/:userId',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema, userId: userIdSchema }),
      body: z.object({ typing: z.boolean(), timeout: z.number().int().min(0).optional() }),
      handler: ({ params, body, requester }) => {
        const me = requester!.userId;
        if (params.userId !== me) throw forbidden('Cannot set the typing state of another user');
        if (!roomserver.roomInfo(params.roomId)) throw notFound(`Unknown room ${params.roomId}`);
        if (roomserver.membership(params.roomId, me)?.membership !== 'join') throw forbidden('You are not in this room');
        server.setTyping(params.roomId, me, body.typing, body.timeout ?? MAX_TYPING_TIMEOUT_MS);
        return {};
      },
    }),
  ];
}
