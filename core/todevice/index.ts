import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../db/index.js';
import { parseUserId } from '../events/ids.js';
import type { JsonObject } from '../events/types.js';
import { endpoint, invalidParam, tooLarge, type AnyEndpoint, type Requester } from '../http/index.js';
import type { Log, LogMessage, Topic } from '../log/index.js';
import { TO_DEVICE_TOPIC, type FederationToDeviceAPI, type SyncToDeviceAPI, type ToDeviceMessage, type ToDeviceOutput } from './api.js';
import { TODEVICE_MIGRATIONS, ToDeviceStorage, type MessageRow } from './storage.js';

export { TO_DEVICE_TOPIC, type FederationToDeviceAPI, type SyncToDeviceAPI, type ToDeviceMessage, type ToDeviceOutput } from './api.js';

/** The spec's limit on one to-device message's content. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

export interface ToDeviceServerDeps {
  db: Db;
  log: Log;
  serverName: string;
  /** A local user's current devices (the user API's). */
  deviceIds(userId: string): string[];
}

type Messages = Record<string, Record<string, JsonObject>>;

function messageOf(r: MessageRow): LogMessage<ToDeviceOutput> {
  const value: ToDeviceOutput = { sender: r.sender, type: r.type, userId: r.user_id, deviceId: r.device_id, content: JSON.parse(r.content) as JsonObject, messageId: r.message_id };
  if (r.remote) value.remote = true;
  return { topic: TO_DEVICE_TOPIC, offset: r.id, key: r.user_id, value };
}

/**
 * Send-to-device messages: one inbox per (user, device) in `td_messages`, positions from one
 * sequence; each stored message is then published on the durable `to-device` topic (sync
 * wakes the recipient; federation sends remote ones on).
 */
export class ToDeviceServer implements SyncToDeviceAPI, FederationToDeviceAPI {
  readonly store: ToDeviceStorage;
  private readonly topic: Topic<ToDeviceOutput>;
  private published: number;

  constructor(private readonly deps: ToDeviceServerDeps) {
    deps.db.migrate('todevice', TODEVICE_MIGRATIONS);
    this.store = new ToDeviceStorage(deps.db.raw);
    // Ids past their retention since the last run (pruning otherwise runs as ids are claimed).
    this.store.prune();
    this.published = this.store.maxPos();
    this.topic = deps.log.topic<ToDeviceOutput>(TO_DEVICE_TOPIC, {
      durable: true,
      replay: { read: (after, limit) => this.store.after(after, limit).map(messageOf), head: () => this.store.maxPos() },
    });
  }

  /** Publishes what committed since the last publish, in position order. */
  private flush(): void {
    for (;;) {
      const rows = this.store.after(this.published, 500);
      for (const r of rows) {
        const m = messageOf(r);
        this.topic.publish(m.key, m.value, m.offset);
        this.published = r.id;
      }
      if (rows.length < 500) return;
    }
  }

  /** Stores messages for local devices (`*` is every current device) and remote users. */
  private store_(sender: string, type: string, messageId: string, messages: Messages, localOnly: boolean): void {
    for (const [userId, devices] of Object.entries(messages)) {
      const local = parseUserId(userId)?.serverName === this.deps.serverName;
      if (!local) {
        if (localOnly) continue;
        for (const [deviceId, content] of Object.entries(devices)) {
          this.store.insert({ user_id: userId, device_id: deviceId, sender, type, content: JSON.stringify(content), message_id: messageId, remote: 1 });
        }
        continue;
      }
      const known = this.deps.deviceIds(userId);
      for (const [deviceId, content] of Object.entries(devices)) {
        // Unknown devices are dropped, as the spec lets servers do.
        const targets = deviceId === '*' ? known : known.includes(deviceId) ? [deviceId] : [];
        const json = JSON.stringify(content);
        for (const d of targets) this.store.insert({ user_id: userId, device_id: d, sender, type, content: json, message_id: messageId, remote: 0 });
      }
    }
  }

  /** PUT /sendToDevice: idempotent per (device, txn id). */
  send(r: Requester, type: string, txnId: string, messages: Messages): void {
    for (const [userId, devices] of Object.entries(messages)) {
      if (!parseUserId(userId)) throw invalidParam(`Not a user id: ${userId}`);
      for (const content of Object.values(devices)) {
        if (Buffer.byteLength(JSON.stringify(content)) > MAX_MESSAGE_BYTES) throw tooLarge(`A to-device message is limited to ${MAX_MESSAGE_BYTES} bytes`);
      }
    }
    this.deps.db.transaction(() => {
      if (!this.store.claimTxn(r.userId, r.deviceId, txnId)) return;
      this.store_(r.userId, type, randomBytes(12).toString('base64url'), messages, false);
    });
    this.flush();
  }

  // ---- FederationToDeviceAPI ----

  receive(origin: string, edu: { sender: string; type: string; message_id: string; messages: Messages }): boolean {
    if (parseUserId(edu.sender)?.serverName !== origin) return false;
    const fresh = this.deps.db.transaction(() => {
      if (!this.store.claimReceived(origin, edu.message_id)) return false;
      this.store_(edu.sender, edu.type, edu.message_id, edu.messages, true);
      return true;
    });
    this.flush();
    return fresh;
  }

  forgetRemote(upTo: number): void {
    this.store.forgetRemote(upTo);
  }

  // ---- SyncToDeviceAPI ----

  maxPos(): number {
    return this.store.maxPos();
  }

  pending(userId: string, deviceId: string, upTo: number, limit: number): Array<{ pos: number; event: ToDeviceMessage }> {
    return this.store.inbox(userId, deviceId, upTo, limit).map((r) => ({ pos: r.id, event: { sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject } }));
  }

  ack(userId: string, deviceId: string, upTo: number): void {
    this.store.ack(userId, deviceId, upTo);
  }

  /** The device was deleted: its inbox goes with it. */
  deleteInbox(userId: string, deviceId: string): void {
    this.store.deleteInbox(userId, deviceId);
  }
}

/** PUT /sendToDevice/{eventType}/{txnId}. */
export function toDeviceEndpoints(server: ToDeviceServer): AnyEndpoint[] {
  return [
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/sendToDevice/:eventType/:txnId',
      // Not rate limited: sharing a room key is a burst of these.
      auth: 'user',
      params: z.object({ eventType: z.string().min(1).max(255), txnId: z.string().min(1).max(255) }),
      body: z.object({ messages: z.record(z.string(), z.record(z.string().min(1), z.record(z.string(), z.unknown()))) }),
      handler: ({ params, body, requester }) => {
        server.send(requester!, params.eventType, params.txnId, body.messages as Messages);
        return {};
      },
    }),
  ];
}
