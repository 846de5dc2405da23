import { z } from 'zod';
import type { Db } from '../db/index.js';
import { parseEventId, parseRoomId } from '../events/index.js';
import { endpoint, forbidden, invalidParam, notFound, type AnyEndpoint } from '../http/index.js';
import type { LogMessage, Log, Topic } from '../log/index.js';
import type { RoomserverQueryAPI } from '../roomserver/api.js';
import type { UserAPI } from '../userapi/api.js';
import { RECEIPT_TOPIC, RECEIPT_TYPES, type ReceiptOutput, type ReceiptType, type ReceiptsAPI } from './api.js';
import { RECEIPTS_MIGRATIONS, ReceiptsStorage, type ReceiptRow } from './storage.js';

export { RECEIPT_TOPIC, RECEIPT_TYPES, type ReceiptOutput, type ReceiptType, type ReceiptsAPI } from './api.js';

export interface ReceiptServerDeps {
  db: Db;
  log: Log;
  roomserver: Pick<RoomserverQueryAPI, 'roomInfo' | 'membership' | 'eventsByIds' | 'userMaySeeEvent'>;
  now?: () => number;
}

function messageOf(r: ReceiptRow): LogMessage<ReceiptOutput> {
  const value: ReceiptOutput = { roomId: r.room_id, userId: r.user_id, type: r.type, eventId: r.event_id, ts: r.ts };
  if (r.thread_id !== '') value.threadId = r.thread_id;
  return { topic: RECEIPT_TOPIC, offset: r.id, key: r.room_id, value };
}

/** Checks a receipt's thread id: `main` or an event id; anything else is 400 M_INVALID_PARAM. */
export function checkThreadId(threadId: unknown): string | undefined {
  if (threadId === undefined) return undefined;
  if (typeof threadId !== 'string' || threadId === '') throw invalidParam('thread_id field must be a non-empty string');
  if (threadId !== 'main' && parseEventId(threadId) === undefined) throw invalidParam('thread_id must be "main" or an event id');
  return threadId;
}

/**
 * The receipt EDU server: stores each forward move of a receipt in `rc_receipts` and then
 * publishes it on the durable `receipt` topic (replayed from that table).
 */
export class ReceiptServer implements ReceiptsAPI {
  readonly store: ReceiptsStorage;
  private readonly topic: Topic<ReceiptOutput>;
  private readonly now: () => number;

  constructor(private readonly deps: ReceiptServerDeps) {
    deps.db.migrate('receipts', RECEIPTS_MIGRATIONS);
    this.store = new ReceiptsStorage(deps.db.raw);
    this.now = deps.now ?? Date.now;
    this.topic = deps.log.topic<ReceiptOutput>(RECEIPT_TOPIC, {
      durable: true,
      replay: { read: (after, limit) => this.store.after(after, limit).map(messageOf), head: () => this.store.head() },
    });
  }

  putReceipt(roomId: string, userId: string, type: ReceiptType, eventId: string, threadId?: string): boolean {
    if (!RECEIPT_TYPES.includes(type)) throw invalidParam(`Unknown receipt type ${type}`);
    const thread = checkThreadId(threadId) ?? '';
    const rs = this.deps.roomserver;
    if (!rs.roomInfo(roomId)) throw notFound(`Unknown room ${roomId}`);
    if (rs.membership(roomId, userId)?.membership !== 'join') throw forbidden('You are not in this room');
    const ev = rs.eventsByIds([eventId])[0];
    if (!ev || ev.roomId !== roomId || !rs.userMaySeeEvent(userId, eventId)) throw notFound(`Unknown event ${eventId}`);
    const row = this.deps.db.raw.transaction(() => {
      const cur = this.store.current(roomId, userId, type, thread);
      // Receipts only move forward: an event no later in the room than the current one is ignored.
      if (cur && (cur.event_id === eventId || ev.depth < cur.depth)) return undefined;
      const r: Omit<ReceiptRow, 'id'> = { room_id: roomId, user_id: userId, type, thread_id: thread, event_id: eventId, depth: ev.depth, ts: this.now() };
      return { ...r, id: this.store.insert(r) };
    })();
    if (!row) return false;
    const m = messageOf(row);
    this.topic.publish(m.key, m.value, m.offset);
    return true;
  }

  receipt(roomId: string, userId: string, type: ReceiptType, threadId?: string): { eventId: string; ts: number } | undefined {
    const r = this.store.current(roomId, userId, type, threadId ?? '');
    return r ? { eventId: r.event_id, ts: r.ts } : undefined;
  }
}

const roomIdSchema = z.string().refine((s) => parseRoomId(s) !== undefined, 'not a room id');
const eventIdSchema = z.string().refine((s) => parseEventId(s) !== undefined, 'not an event id');

/** POST /rooms/{roomId}/receipt/{receiptType}/{eventId}; m.fully_read sets room account data
 * as /read_markers does. */
export function receiptEndpoints(server: ReceiptsAPI, users: Pick<UserAPI, 'putAccountData'>, roomserver: Pick<RoomserverQueryAPI, 'roomInfo' | 'membership' | 'eventsByIds'>): AnyEndpoint[] {
  return [
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/receipt/:receiptType/:eventId',
      auth: 'user',
      rateLimited: true,
      params: z.object({ roomId: roomIdSchema, receiptType: z.string(), eventId: eventIdSchema }),
      // thread_id errors are M_INVALID_PARAM per the spec, so it is checked by hand.
      body: z.object({ thread_id: z.unknown().optional() }),
      handler: ({ params, body, requester }) => {
        const me = requester!.userId;
        const { roomId, receiptType, eventId } = params;
        if (receiptType === 'm.fully_read') {
          if (body.thread_id !== undefined) throw invalidParam('thread_id is not allowed for m.fully_read');
          if (!roomserver.roomInfo(roomId)) throw notFound(`Unknown room ${roomId}`);
          if (roomserver.membership(roomId, me)?.membership !== 'join') throw forbidden('You are not in this room');
          const ev = roomserver.eventsByIds([eventId])[0];
          if (!ev || ev.roomId !== roomId) throw notFound(`Unknown event ${eventId}`);
          users.putAccountData(me, roomId, 'm.fully_read', { event_id: eventId });
          return {};
        }
        if (!(RECEIPT_TYPES as readonly string[]).includes(receiptType)) throw invalidParam(`Unknown receipt type ${receiptType}`);
        server.putReceipt(roomId, me, receiptType as ReceiptType, eventId, checkThreadId(body.thread_id));
        return {};
      },
    }),
  ];
}
