/** The to-device server's interface: per-device inboxes of send-to-device messages. */
import type { JsonObject } from '../events/types.js';

export const TO_DEVICE_TOPIC = 'to-device';

/** An entry on the durable `to-device` topic (replayed from `td_messages`), keyed by the
 * recipient. Local recipients (`remote` absent) have a concrete device; a remote one is for
 * federation to send as an `m.direct_to_device` EDU, with `deviceId` possibly `*`. */
export interface ToDeviceOutput {
  sender: string;
  type: string;
  userId: string;
  deviceId: string;
  content: JsonObject;
  /** Groups the messages of one send, as the EDU's `message_id`. */
  messageId: string;
  remote?: boolean;
}

export interface ToDeviceMessage {
  sender: string;
  type: string;
  content: JsonObject;
}

/** What /sync reads. Positions are one sequence over all inboxes. */
export interface SyncToDeviceAPI {
  /** The highest position ever stored (the sync token's to-device slot). */
  maxPos(): number;
  /** The device's messages at positions <= upTo, oldest first, at most `limit`. */
  pending(userId: string, deviceId: string, upTo: number, limit: number): Array<{ pos: number; event: ToDeviceMessage }>;
  /** The client has seen everything up to `upTo`: those messages are deleted. */
  ack(userId: string, deviceId: string, upTo: number): void;
}

/** What federation uses. */
export interface FederationToDeviceAPI {
  /** An incoming `m.direct_to_device` EDU: delivered to local devices once per
   * (origin, message id). Returns false for a repeat. */
  receive(origin: string, edu: { sender: string; type: string; message_id: string; messages: Record<string, Record<string, JsonObject>> }): boolean;
  /** Federation has queued the remote messages up to `upTo` durably: they can go. */
  forgetRemote(upTo: number): void;
}
