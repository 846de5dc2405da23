import type { Db } from '../db/index.js';
import { parseUserId } from '../events/ids.js';
import type { JsonObject, JsonValue, PDUJson } from '../events/types.js';
import { createOffsetStore, type Consumer, type Log, type LogMessage, type OffsetStore, type Topic } from '../log/index.js';
import type { Logger } from '../logger.js';
import { LruCache } from '../lru.js';
import { RECEIPT_TOPIC, type ReceiptOutput } from '../receipts/api.js';
import { ROOM_OUTPUT_TOPIC, type RoomOutput, type RoomserverQueryAPI } from '../roomserver/api.js';
import { NOTIFICATION_DATA_TOPIC, type NotificationDataOutput, type SyncNotificationsAPI, type UnreadCounts } from './api.js';
import { evaluatePushRules, type EventMemo, type PushAction, type PushContext, type PushEvent, type PushResult } from './pusheval.js';
import { PushDelivery } from './pushgateway.js';
import type { PushRuleSet } from './pushrules.js';
import { MAIN_THREAD, NotificationStorage, type NewNotification, type NotificationRow } from './notifstore.js';
import { pushPayload } from './pushpayload.js';

export interface NotificationsDeps {
  db: Db;
  log: Log;
  logger: Logger;
  serverName: string;
  roomserver: Pick<RoomserverQueryAPI, 'joinedMembers' | 'currentStateEvent' | 'eventsByIds'>;
  /** A user's effective push rules (the push rule store). */
  rules: (userId: string) => PushRuleSet;
}

/** An event that notified a user, to hand to their pushers once committed. */
interface Notified {
  userId: string;
  roomId: string;
  eventId: string;
  event: PDUJson;
  actions: PushAction[];
}

/** What the push rules know of a recipient and the room; the display name is read only when a
 * rule asks for it. */
class MemberContext implements PushContext {
  userId = '';
  readonly roomMemberCount: number;
  readonly senderPowerLevel: number;
  readonly notificationPowerLevels: Record<string, number>;

  constructor(
    facts: Pick<PushContext, 'roomMemberCount' | 'senderPowerLevel' | 'notificationPowerLevels'>,
    private readonly nameOf: (userId: string) => string | undefined,
  ) {
    this.roomMemberCount = facts.roomMemberCount;
    this.senderPowerLevel = facts.senderPowerLevel;
    this.notificationPowerLevels = facts.notificationPowerLevels;
  }

  get displayName(): string | undefined {
    return this.nameOf(this.userId);
  }
}

/** The (user, room) pairs whose counts changed in a batch, each once. */
export class ChangedCounts {
  private readonly byRoom = new Map<string, Set<string>>();

  add(userId: string, roomId: string): void {
    let users = this.byRoom.get(roomId);
    if (!users) this.byRoom.set(roomId, (users = new Set()));
    users.add(userId);
  }

  *entries(): Iterable<NotificationDataOutput> {
    for (const [roomId, users] of this.byRoom) for (const userId of users) yield { userId, roomId };
  }
}

const ROOM_CONSUMER = 'userapi.notifications.room';
const RECEIPT_CONSUMER = 'userapi.notifications.receipt';

/** The thread an event belongs to for counts and receipts: its thread root, or main. */
export function threadOf(content: JsonObject): string {
  const rel = content['m.relates_to'];
  if (rel !== null && typeof rel === 'object' && !Array.isArray(rel) && rel.rel_type === 'm.thread' && typeof rel.event_id === 'string') return rel.event_id;
  return MAIN_THREAD;
}

/** `notifications` of power levels content: the numeric entries. */
function notificationLevels(pl: JsonObject | undefined): Record<string, number> {
  const n = pl?.notifications;
  if (n === null || typeof n !== 'object' || Array.isArray(n)) return {};
  return Object.fromEntries(Object.entries(n).filter((e): e is [string, number] => typeof e[1] === 'number'));
}

/** Per event: the room facts the push rules look at, read once from the room server. */
function roomFacts(rs: NotificationsDeps['roomserver'], roomId: string, sender: string, members: number): Omit<PushContext, 'userId' | 'displayName'> {
  const create = rs.currentStateEvent(roomId, 'm.room.create', '');
  const pl = rs.currentStateEvent(roomId, 'm.room.power_levels', '')?.content;
  // v12: creators have infinite power and are not listed in the power levels.
  if (create?.version.privilegedCreators) {
    const extra = create.content.additional_creators;
    if (create.sender === sender || (Array.isArray(extra) && extra.includes(sender))) {
      return { roomMemberCount: members, senderPowerLevel: Number.MAX_SAFE_INTEGER, notificationPowerLevels: notificationLevels(pl) };
    }
  }
  let senderPowerLevel = 0;
  let notificationPowerLevels: Record<string, number> = {};
  if (pl) {
    const users = pl.users !== null && typeof pl.users === 'object' && !Array.isArray(pl.users) ? pl.users : {};
    const own = users[sender];
    senderPowerLevel = typeof own === 'number' ? own : typeof pl.users_default === 'number' ? pl.users_default : 0;
    notificationPowerLevels = notificationLevels(pl);
  } else {
    // Without power levels the creator has 100 (auth rules).
    senderPowerLevel = create?.sender === sender ? 100 : 0;
  }
  return { roomMemberCount: members, senderPowerLevel, notificationPowerLevels };
}

/**
 * Notification counts and push (the user API's side of room events): for every new timeline
 * event, each local joined member but the sender gets their push rules evaluated; a notify
 * result is stored (with highlight and thread) and handed to their pushers. A user's own
 * receipts mark their notifications read. Every change of counts is published on
 * `notification-data` so /sync wakes the user.
 */
export class Notifications implements SyncNotificationsAPI {
  readonly store: NotificationStorage;
  readonly delivery: PushDelivery;
  private readonly offsets: OffsetStore;
  private readonly topic: Topic<NotificationDataOutput>;
  private readonly consumers: Consumer[] = [];
  private readonly roomConsumer: Consumer;
  private readonly ruleCache = new LruCache<string, PushRuleSet>(10_000);
  private readonly encoded = new WeakMap<PushResult, string>();
  /** `:` and the server name: what a local user id ends with. */
  private readonly localSuffix: string;

  constructor(private readonly deps: NotificationsDeps) {
    this.localSuffix = `:${deps.serverName}`;
    this.store = new NotificationStorage(deps.db);
    this.offsets = createOffsetStore(deps.db.raw, 'ua_notification_offsets');
    this.topic = deps.log.topic<NotificationDataOutput>(NOTIFICATION_DATA_TOPIC, { durable: false });
    this.delivery = new PushDelivery({
      logger: deps.logger,
      onRejected: (k) => {
        this.store.deletePusher(k.userId, k.appId, k.pushkey);
        deps.logger.info({ user_id: k.userId, app_id: k.appId }, 'push gateway rejected a pushkey; pusher removed');
      },
    });
    this.roomConsumer = deps.log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, {
      name: 'userapi.notifications',
      fromOffset: this.offsets.get(ROOM_CONSUMER),
      // Counts that trail their event make each member's client sync twice, so no linger for
      // a trickle of events; when several wait at once, the server is busy and clients sync
      // again anyway, and one commit for many events is what keeps up.
      lingerMs: 10,
      lingerMinBacklog: 4,
      handle: (msgs) => this.handleRoom(msgs),
    });
    this.consumers.push(
      this.roomConsumer,
      deps.log.consume<ReceiptOutput>(RECEIPT_TOPIC, {
        name: 'userapi.notifications',
        fromOffset: this.offsets.get(RECEIPT_CONSUMER),
        handle: (msgs) => this.handleReceipts(msgs),
      }),
    );
  }

  /** The push rule store calls this when a user's rules change. */
  rulesChanged(userId: string): void {
    this.ruleCache.delete(userId);
  }

  async caughtUp(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.drained()));
  }

  async close(): Promise<void> {
    this.delivery.close();
    await Promise.all(this.consumers.splice(0).map((c) => c.close()));
  }

  // ---- SyncNotificationsAPI ----

  head(): number {
    return this.store.head();
  }

  changedRooms(userId: string, from: number, to: number): string[] {
    return this.store.changedRooms(userId, from, to);
  }

  counts(userId: string, roomId: string): { main: UnreadCounts; threads: Record<string, UnreadCounts> } {
    const all = this.store.counts(userId, roomId);
    const main = all.get(MAIN_THREAD) ?? { notification_count: 0, highlight_count: 0 };
    all.delete(MAIN_THREAD);
    return { main, threads: Object.fromEntries(all) };
  }

  /** GET /notifications: newest first, below the id `from`. */
  page(userId: string, from: number | undefined, limit: number, onlyHighlight: boolean): { rows: NotificationRow[]; next?: number } {
    const rows = this.store.page(userId, from ?? Number.MAX_SAFE_INTEGER, limit + 1, onlyHighlight);
    if (rows.length <= limit) return { rows };
    rows.length = limit;
    return { rows, next: rows[rows.length - 1]!.id };
  }

  // ---- consumers ----

  private isLocal(userId: string): boolean {
    // Member ids come from the room server, already valid: the part after the first colon.
    const colon = userId.indexOf(':');
    if (colon <= 0) return parseUserId(userId)?.serverName === this.deps.serverName;
    // The part after it is the server name: compared in place, without a substring per member.
    const suffix = this.localSuffix;
    return userId.length - colon === suffix.length && userId.endsWith(suffix);
  }

  /** The actions as stored: results are shared per rule, so each is encoded once. */
  private actionsJson(r: PushResult): string {
    let j = this.encoded.get(r);
    if (j === undefined) this.encoded.set(r, (j = JSON.stringify(r.actions)));
    return j;
  }

  private rulesOf(userId: string): PushRuleSet {
    let r = this.ruleCache.get(userId);
    if (!r) this.ruleCache.set(userId, (r = this.deps.rules(userId)));
    return r;
  }

  private handleRoom(msgs: LogMessage<RoomOutput>[]): void {
    const notified: Notified[] = [];
    const changed = new ChangedCounts();
    this.offsets.commit(ROOM_CONSUMER, msgs, (fresh) => {
      const rows: NewNotification[] = [];
      for (const m of fresh) if (m.value.type === 'new_room_event') this.evaluate(m.value, rows, notified, changed);
      this.store.insert(rows);
    });
    this.publish(changed);
    for (const n of notified) this.push(n);
  }

  /** Evaluates one event for every local joined member but its sender; adds what notifies to `rows`. */
  evaluate(o: Extract<RoomOutput, { type: 'new_room_event' }>, rows: NewNotification[], notified: Notified[], changed: ChangedCounts): void {
    const ev = o.event;
    const rs = this.deps.roomserver;
    const members = rs.joinedMembers(o.roomId);
    const targets = members.filter((u) => u !== ev.sender && this.isLocal(u));
    // An invitee is not joined yet, but the invite is for them (.m.rule.invite_for_me).
    const invitee = ev.type === 'm.room.member' && ev.content.membership === 'invite' ? ev.state_key : undefined;
    if (invitee !== undefined && invitee !== ev.sender && this.isLocal(invitee) && !targets.includes(invitee)) targets.push(invitee);
    if (targets.length === 0) return;
    const facts = roomFacts(rs, o.roomId, ev.sender, members.length);
    const pushEvent = { ...(ev as unknown as JsonObject), event_id: o.eventId, room_id: o.roomId } as unknown as PushEvent;
    const threadId = threadOf(ev.content);
    const now = Date.now();
    const memo: EventMemo = new Map();
    // One context for all the event's recipients, its user set in turn (the evaluator keeps
    // nothing): a fresh object with a getter per member cost more than their rules.
    const ctx = new MemberContext(facts, (userId) => {
      const n = rs.currentStateEvent(o.roomId, 'm.room.member', userId)?.content.displayname;
      return typeof n === 'string' ? n : undefined;
    });
    for (const userId of targets) {
      ctx.userId = userId;
      const r = evaluatePushRules(this.rulesOf(userId), pushEvent, ctx, memo);
      if (!r?.notify) continue;
      rows.push({ userId, roomId: o.roomId, eventId: o.eventId, threadId, depth: ev.depth, highlight: r.highlight, actions: this.actionsJson(r), ts: now });
      changed.add(userId, o.roomId);
      if (this.store.hasPushers(userId)) notified.push({ userId, roomId: o.roomId, eventId: o.eventId, event: ev, actions: r.actions });
    }
  }

  private async handleReceipts(msgs: LogMessage<ReceiptOutput>[]): Promise<void> {
    // A receipt is for an event already output by the room server: first let the room
    // consumer store what that event notified, or it would count as unread after the receipt.
    await this.roomConsumer.waitFor(this.deps.log.head(ROOM_OUTPUT_TOPIC)).catch(() => undefined);
    const changed = new ChangedCounts();
    this.offsets.commit(RECEIPT_CONSUMER, msgs, (fresh) => {
      for (const { value: r } of fresh) {
        if (!this.isLocal(r.userId)) continue;
        const ev = this.deps.roomserver.eventsByIds([r.eventId])[0];
        if (!ev || ev.roomId !== r.roomId) continue;
        // An unthreaded receipt reads every thread; a threaded one only its own.
        if (this.store.markRead(r.userId, r.roomId, ev.depth, r.threadId) === 0) continue;
        changed.add(r.userId, r.roomId);
      }
    });
    this.publish(changed);
  }

  private publish(changed: ChangedCounts): void {
    for (const v of changed.entries()) this.topic.publish(v.userId, v);
  }

  /** Hands a committed notification to the user's HTTP pushers (queued, never awaited). */
  private push(n: Notified): void {
    const pushers = this.store.pushers(n.userId).filter((p) => p.kind === 'http');
    if (pushers.length === 0) return;
    const unread = this.store.unreadTotal(n.userId);
    const rs = this.deps.roomserver;
    const str = (v: JsonValue | undefined) => (typeof v === 'string' ? v : undefined);
    const room = {
      name: str(rs.currentStateEvent(n.roomId, 'm.room.name', '')?.content.name),
      alias: str(rs.currentStateEvent(n.roomId, 'm.room.canonical_alias', '')?.content.alias),
      senderName: str(rs.currentStateEvent(n.roomId, 'm.room.member', n.event.sender)?.content.displayname),
    };
    for (const p of pushers) {
      const data = JSON.parse(p.data) as JsonObject;
      const url = data.url;
      if (typeof url !== 'string') continue;
      const body = pushPayload(n.eventId, n.roomId, n.event, n.userId, n.actions, unread, room, p, data);
      this.delivery.enqueue({ userId: p.user_id, appId: p.app_id, pushkey: p.pushkey }, url, body);
    }
  }
}
