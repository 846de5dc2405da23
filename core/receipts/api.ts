/** The receipt server's interface: read receipts per (room, user, type, thread), moving only
 * forward. Other components import only this file. */

export type ReceiptType = 'm.read' | 'm.read.private';

export const RECEIPT_TYPES: readonly ReceiptType[] = ['m.read', 'm.read.private'];

/** An entry on the durable `receipt` topic (replayed from `rc_receipts`), keyed by room: the
 * user's receipt of `type` (in `threadId`, unthreaded when absent) now points at `eventId`. */
export interface ReceiptOutput {
  roomId: string;
  userId: string;
  type: ReceiptType;
  eventId: string;
  threadId?: string;
  ts: number;
}

export const RECEIPT_TOPIC = 'receipt';

export interface ReceiptsAPI {
  /**
   * Sets a local user's receipt: the room must exist (404), the user be joined (403), the
   * event be in the room and visible to them (404), the thread id be `main` or an event id
   * (400). An event older than the current receipt is ignored. Returns whether it moved.
   */
  putReceipt(roomId: string, userId: string, type: ReceiptType, eventId: string, threadId?: string): boolean;
  /** The current receipt of a user (tests, status). */
  receipt(roomId: string, userId: string, type: ReceiptType, threadId?: string): { eventId: string; ts: number } | undefined;
}
