import type { Db } from '../db/index.js';
import type { JsonObject, JsonValue } from '../events/types.js';
import type { Requester } from '../http/endpoint.js';
import { forbidden, notFound } from '../http/errors.js';
import { createOffsetStore, type Consumer, type Log, type LogMessage, type OffsetStore } from '../log/index.js';
import type { Logger } from '../logger.js';
import { ROOM_OUTPUT_TOPIC, type RoomOutput, type RoomserverQueryAPI } from '../roomserver/api.js';
import { ACCOUNT_DATA_TOPIC, type AccountDataOutput, type UserAPI } from '../userapi/api.js';
import { RECEIPT_TOPIC, type ReceiptOutput } from '../receipts/api.js';
import { TYPING_TOPIC, type TypingOutput } from '../typing/api.js';
import { TO_DEVICE_TOPIC, type SyncToDeviceAPI, type ToDeviceOutput } from '../todevice/api.js';
import { KEY_CHANGE_TOPIC, type KeyChangeOutput, type SyncKeysAPI } from '../userapi/api.js';
import { NOTIFICATION_DATA_TOPIC, type NotificationDataOutput, type SyncNotificationsAPI } from '../userapi/api.js';
import { PRESENCE_TOPIC, presenceContent, type PresenceAPI, type PresenceOutput, type PresenceState } from '../presence/api.js';
import { deviceListsSection, toDeviceSection, usersSharingRooms } from './e2ee.js';
import type { SyncAPI } from './api.js';
import { SyncIngest } from './consumers.js';
import { eventAllowed, roomAllowed, type Filter, type RoomEventFilter } from './filter.js';
import { Notifier } from './notifier.js';
import { keyOf, SYNCAPI_MIGRATIONS, SyncStorage, type EventRow, type MembershipRow, type StateMap } from './storage.js';
import { formatToken, type StreamToken } from './token.js';

export { syncEndpoints } from './routes.js';
export { formatToken, parseToken, type StreamToken } from './token.js';

export interface SyncApiDeps {
  db: Db;
  log: Log;
  logger: Logger;
  serverName: string;
  roomserver: RoomserverQueryAPI;
  users: UserAPI;
  /** Fetches older history over federation (the room server's backfill); resolves with the
   * number of events stored. */
  backfill?: (roomId: string, fromEventIds: string[], limit: number) => Promise<number>;
  /** Per-device to-device inboxes (read and acknowledged by /sync). */
  toDevice?: SyncToDeviceAPI;
  /** The key server: device-list changes, one-time and fallback key counts. */
  keys?: SyncKeysAPI;
  /** The presence server: /sync requests count as the user being online (set_presence). */
  presence?: Pick<PresenceAPI, 'syncStarted'>;
  /** Notification counts (the user API). */
  notifications?: SyncNotificationsAPI;
}

export interface SyncRequest {
  since?: StreamToken;
  timeoutMs: number;
  filter: Filter;
  fullState: boolean;
}

export interface Page {
  chunk: JsonObject[];
  /** Position to continue from; undefined when there is nothing more. */
  next: number | undefined;
}

const DEFAULT_TIMELINE_LIMIT = 10;

const isObj = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const SCAN_BATCH = 200;

/** What a user may see of one room, per "History visibility" (state at each event). */
class Visibility {
  private readonly hv: Array<{ pos: number; value: string }>;
  private readonly members: MembershipRow[];

  constructor(store: SyncStorage, roomId: string, private readonly userId: string) {
    this.hv = store.stateKeyHistory(roomId, 'm.room.history_visibility', '').map((h) => {
      let value = 'shared';
      const row = h.event_id !== null ? store.event(h.event_id) : undefined;
      if (row) {
        const c = (JSON.parse(row.json) as JsonObject).content as JsonObject | undefined;
        if (c && typeof c.history_visibility === 'string' && ['world_readable', 'shared', 'invited', 'joined'].includes(c.history_visibility)) value = c.history_visibility;
      }
      return { pos: h.pos, value };
    });
    this.members = store.membershipHistory(roomId, userId);
  }

  private hvAt(pos: number): string {
    let v = 'shared';
    for (const h of this.hv) if (h.pos <= pos) v = h.value;
    return v;
  }

  private membershipAt(pos: number): string {
    let v = 'leave';
    for (const m of this.members) if (m.pos <= pos) v = m.membership;
    return v;
  }

  private allowedWith(statePos: number, eventPos: number): boolean {
    const hv = this.hvAt(statePos);
    const m = this.membershipAt(statePos);
    if (hv === 'world_readable' || m === 'join') return true;
    if (hv === 'shared' && this.members.some((r) => r.membership === 'join' && r.pos >= eventPos)) return true;
    return hv === 'invited' && m === 'invite';
  }

  canSee(row: EventRow): boolean {
    if (this.allowedWith(row.pos - 1, row.pos)) return true;
    const own = row.type === 'm.room.member' && row.state_key === this.userId;
    return (own || row.type === 'm.room.history_visibility') && this.allowedWith(row.pos, row.pos);
  }

  everMember(): boolean {
    return this.members.some((m) => m.membership === 'join' || m.membership === 'invite' || m.membership === 'knock');
  }

  worldReadableNow(): boolean {
    return this.hvAt(Number.MAX_SAFE_INTEGER) === 'world_readable';
  }
}

/**
 * The sync API: denormalised tables fed from `room.output` and `account-data`, a notifier
 * waking long-polling requests, and the read side of /sync, /messages, /context, /relations.
 */
export class SyncApi implements SyncAPI {
  readonly store: SyncStorage;
  readonly notifier = new Notifier();
  private readonly offsets: OffsetStore;
  private readonly ingest: SyncIngest;
  private readonly consumers: Consumer[] = [];
  private readonly roomConsumer: Consumer;
  /** Consumers of topics other components declare, started once they exist. */
  private readonly lateConsumers = new Map<string, Consumer>();
  /** Current typing list per room, with the typing position it last changed at. */
  private readonly typing = new Map<string, { userIds: string[]; pos: number }>();
  /** The typing stream is memory-only: positions start at the process's start time, so a
   * token from an earlier process is (almost always) behind, and one ahead reads as stale. */
  private typingPos = Date.now();
  /** Latest presence per user, with the presence position it changed at (memory-only, as typing). */
  private readonly presence = new Map<string, { out: PresenceOutput; pos: number }>();
  private presencePos = Date.now();

  constructor(private readonly deps: SyncApiDeps) {
    deps.db.migrate('syncapi', SYNCAPI_MIGRATIONS);
    this.store = new SyncStorage(deps.db.raw);
    this.offsets = createOffsetStore(deps.db.raw, 'sy_offsets');
    this.ingest = new SyncIngest(this.store, deps.roomserver, deps.logger);
    this.roomConsumer = deps.log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, {
      name: 'syncapi',
      // A lone event wakes its readers at once; when several wait, the server is busy, and
      // a moment's wait for more makes one commit of many (each commit rewrites the tails of
      // the same tables).
      lingerMs: 2,
      lingerMinBacklog: 2,
      fromOffset: this.offsets.get('syncapi.room'),
      handle: (msgs) => this.commit('syncapi.room', msgs, (fresh, wake) => this.ingest.applyRoomOutputs(fresh, wake)),
    });
    this.consumers.push(this.roomConsumer);
    this.startLateConsumers();
  }

  /** The user API, typing and receipt servers declare their topics; until they have, this
   * retries on each use. */
  private startLateConsumers(): void {
    this.startLate(ACCOUNT_DATA_TOPIC, () =>
      this.deps.log.consume<AccountDataOutput>(ACCOUNT_DATA_TOPIC, {
        name: 'syncapi',
        fromOffset: this.offsets.get('syncapi.accountdata'),
        handle: (msgs) => this.commit('syncapi.accountdata', msgs, (fresh, wake) => this.ingest.applyAccountData(fresh, wake)),
      }),
    );
    this.startLate(RECEIPT_TOPIC, () =>
      this.deps.log.consume<ReceiptOutput>(RECEIPT_TOPIC, {
        name: 'syncapi',
        fromOffset: this.offsets.get('syncapi.receipt'),
        handle: (msgs) => this.commit('syncapi.receipt', msgs, (fresh, wake) => this.ingest.applyReceipts(fresh, wake)),
      }),
    );
    // To-device messages and key changes only wake: /sync reads their owners' APIs.
    this.startLate(TO_DEVICE_TOPIC, () =>
      this.deps.log.consume<ToDeviceOutput>(TO_DEVICE_TOPIC, {
        name: 'syncapi',
        fromOffset: this.offsets.get('syncapi.todevice'),
        handle: (msgs) => this.commit('syncapi.todevice', msgs, (fresh, wake) => fresh.forEach((m) => !m.value.remote && wake.add(m.value.userId))),
      }),
    );
    this.startLate(KEY_CHANGE_TOPIC, () =>
      this.deps.log.consume<KeyChangeOutput>(KEY_CHANGE_TOPIC, {
        name: 'syncapi',
        fromOffset: this.offsets.get('syncapi.keychange'),
        handle: (msgs) =>
          this.commit('syncapi.keychange', msgs, (fresh, wake) => {
            for (const m of fresh) for (const u of [m.value.userId, ...usersSharingRooms(this.store, m.value.userId, this.store.maxPos())]) wake.add(u);
          }),
      }),
    );
    // Memory-only: no stored offset, each process starts from the topic's start.
    this.startLate(TYPING_TOPIC, () =>
      this.deps.log.consume<TypingOutput>(TYPING_TOPIC, { name: 'syncapi', fromOffset: 0, handle: (msgs) => this.applyTyping(msgs) }),
    );
    this.startLate(PRESENCE_TOPIC, () =>
      this.deps.log.consume<PresenceOutput>(PRESENCE_TOPIC, { name: 'syncapi', fromOffset: 0, handle: (msgs) => this.applyPresence(msgs) }),
    );
    // Counts are read from the user API; its topic only wakes.
    this.startLate(NOTIFICATION_DATA_TOPIC, () =>
      this.deps.log.consume<NotificationDataOutput>(NOTIFICATION_DATA_TOPIC, { name: 'syncapi', fromOffset: 0, handle: (msgs) => this.notifier.wake(msgs.map((m) => m.value.userId)) }),
    );
  }

  private startLate(topic: string, start: () => Consumer): void {
    if (this.lateConsumers.has(topic)) return;
    try {
      const c = start();
      this.lateConsumers.set(topic, c);
      this.consumers.push(c);
    } catch (e) {
      if (!/unknown log topic/.test((e as Error).message)) throw e;
    }
  }

  private applyTyping(msgs: LogMessage<TypingOutput>[]): void {
    const wake = new Set<string>();
    for (const m of msgs) {
      this.typing.set(m.value.roomId, { userIds: [...m.value.userIds], pos: ++this.typingPos });
      for (const u of this.store.membersWith(m.value.roomId, 'join')) wake.add(u);
    }
    this.notifier.wake(wake);
  }

  private applyPresence(msgs: LogMessage<PresenceOutput>[]): void {
    const wake = new Set<string>();
    const at = this.store.maxPos();
    for (const m of msgs) {
      const u = m.value.userId;
      this.presence.set(u, { out: m.value, pos: ++this.presencePos });
      wake.add(u);
      for (const v of usersSharingRooms(this.store, u, at)) wake.add(v);
    }
    this.notifier.wake(wake);
  }

  /** A /sync request starts (presence: the user is online unless set_presence says otherwise);
   * call the result when it ends. */
  syncStarted(userId: string, setPresence: PresenceState | undefined): () => void {
    return this.deps.presence?.syncStarted(userId, setPresence) ?? (() => {});
  }

  /** m.presence events of users who share a room with the user (and their own) that changed
   * since `since` (all known ones on an initial sync), and of everyone in rooms the user
   * joined since then (new room-mates). */
  private presenceSection(userId: string, since: StreamToken | undefined, now: StreamToken, filter: Filter['presence'], joinedRooms: string[]): JsonObject[] {
    const fresh = !since || since.presence > now.presence;
    const newMates = new Set(joinedRooms.flatMap((r) => this.store.membersWith(r, 'join')));
    const changed = [...this.presence].filter(([u, p]) => (fresh || p.pos > since.presence || newMates.has(u)) && eventAllowed(filter, { type: 'm.presence', sender: u }));
    if (changed.length === 0) return [];
    const sharing = usersSharingRooms(this.store, userId, now.pdu);
    const ts = Date.now();
    return changed
      .filter(([u]) => u === userId || sharing.has(u))
      .slice(0, filter?.limit ?? Infinity)
      .map(([u, p]) => ({ type: 'm.presence', sender: u, content: presenceContent(p.out, ts) }));
  }

  /** unread_notifications (and unread_thread_notifications when the filter asks for them). */
  private unreadCounts(userId: string, roomId: string, perThread: boolean): JsonObject {
    const c = this.deps.notifications?.counts(userId, roomId);
    if (!c) return { unread_notifications: { notification_count: 0, highlight_count: 0 } };
    if (perThread) return { unread_notifications: { ...c.main }, unread_thread_notifications: { ...c.threads } };
    const total = { ...c.main };
    for (const t of Object.values(c.threads)) {
      total.notification_count += t.notification_count;
      total.highlight_count += t.highlight_count;
    }
    return { unread_notifications: total };
  }

  private commit<T>(name: string, msgs: LogMessage<T>[], apply: (fresh: LogMessage<T>[], wake: Set<string>) => void): void {
    const wake = new Set<string>();
    try {
      this.offsets.commit(name, msgs, (fresh) => apply(fresh, wake));
    } catch (e) {
      // Rolled back: what the caches learnt inside the transaction never happened.
      this.store.resetCaches();
      throw e;
    }
    this.notifier.wake(wake);
  }

  /** The user API, for filters uploaded by clients. */
  get users(): UserAPI {
    return this.deps.users;
  }

  /** Read-your-writes for the room reads (/messages, /context, /relations, /threads): waits
   * until every room event output before the call is in the sync tables, so a client that has
   * just joined, sent or backfilled sees it. Immediate when nothing is pending. */
  async roomEventsCaughtUp(): Promise<void> {
    await this.roomConsumer.waitFor(this.deps.log.head(ROOM_OUTPUT_TOPIC)).catch(() => undefined);
  }

  async caughtUp(): Promise<void> {
    this.startLateConsumers();
    await Promise.all(this.consumers.map((c) => c.drained()));
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((c) => c.close()));
  }

  currentToken(): StreamToken {
    return { pdu: this.store.maxPos(), accountData: this.store.maxAccountDataPos(), typing: this.typingPos, receipt: this.store.maxReceiptPos(), toDevice: this.deps.toDevice?.maxPos() ?? 0, deviceList: this.deps.keys?.changeHead() ?? 0, presence: this.presencePos, notifications: this.deps.notifications?.head() ?? 0 };
  }

  /** GET /keys/changes: device-list changes between two sync tokens, as /sync reports them. */
  keyChanges(userId: string, from: StreamToken, to: StreamToken): { changed: string[]; left: string[] } {
    return deviceListsSection(this.deps.keys, this.store, userId, from, to);
  }

  /** Serves an event to a reader: age, and the transaction id for the sending device only. */
  render(row: EventRow, requester: Requester | undefined, now = Date.now()): JsonObject {
    const ev = JSON.parse(row.json) as JsonObject;
    const unsigned = { ...((ev.unsigned as JsonObject | undefined) ?? {}) };
    if (typeof ev.origin_server_ts === 'number') unsigned.age = Math.max(0, now - ev.origin_server_ts);
    if (requester && row.txn_id !== null && row.sender === requester.userId && row.txn_device === requester.deviceId) unsigned.transaction_id = row.txn_id;
    ev.unsigned = unsigned;
    return ev;
  }

  /** A timeline event with its bundled aggregations (client-server "Aggregations of child
   * events"): the thread summary of a thread root, and the newest edit of an edited event. */
  renderTimeline(row: EventRow, requester: Requester, now = Date.now()): JsonObject {
    const ev = this.render(row, requester, now);
    const agg = this.store.aggregations(row.room_id, row.event_id, row.sender);
    if (!agg.thread && !agg.edit) return ev;
    const relations: JsonObject = {};
    if (agg.thread) {
      const latest = this.store.eventAt(agg.thread.latest);
      if (latest) {
        const participated = row.sender === requester.userId || this.store.repliedInThread(row.room_id, row.event_id, requester.userId);
        relations['m.thread'] = { latest_event: this.render(latest, requester, now), count: agg.thread.count, current_user_participated: participated };
      }
    }
    if (agg.edit) relations['m.replace'] = this.render(agg.edit, requester, now);
    const unsigned = ev.unsigned as JsonObject;
    unsigned['m.relations'] = { ...((unsigned['m.relations'] as JsonObject | undefined) ?? {}), ...relations };
    return ev;
  }

  private stateEvents(state: StateMap, keep: (row: EventRow) => boolean, requester: Requester): JsonObject[] {
    const out: JsonObject[] = [];
    for (const id of state.values()) {
      const row = this.store.event(id);
      if (row && keep(row)) out.push(this.render(row, requester));
    }
    return out;
  }

  /** The state filter, with lazy loading keeping only members who sent timeline events. */
  private stateKeep(f: RoomEventFilter | undefined, requester: Requester, senders: Set<string>): (row: EventRow) => boolean {
    return (row) => {
      if (!eventAllowed(f, row)) return false;
      if (f?.lazy_load_members && row.type === 'm.room.member') return row.state_key === requester.userId || senders.has(row.state_key ?? '');
      return true;
    };
  }

  /** Scans a room backwards from `upTo` (inclusive) down to `after` (exclusive), keeping
   * events that pass the filter and visibility, until `want` are found. */
  scanBack(roomId: string, upTo: number, after: number, want: number, keep: (row: EventRow) => boolean): { rows: EventRow[]; exhausted: boolean } {
    const rows: EventRow[] = [];
    let cursor = upTo;
    for (;;) {
      const batch = this.store.eventsDesc(roomId, cursor, after, SCAN_BATCH);
      for (const r of batch) {
        if (!keep(r)) continue;
        if (rows.length === want) return { rows, exhausted: false };
        rows.push(r);
      }
      if (batch.length < SCAN_BATCH) return { rows, exhausted: true };
      cursor = batch[batch.length - 1]!.pos - 1;
    }
  }

  scanForward(roomId: string, after: number, upTo: number, want: number, keep: (row: EventRow) => boolean): { rows: EventRow[]; exhausted: boolean } {
    const rows: EventRow[] = [];
    let cursor = after;
    for (;;) {
      const batch = this.store.eventsAsc(roomId, cursor, upTo, SCAN_BATCH);
      for (const r of batch) {
        if (!keep(r)) continue;
        if (rows.length === want) return { rows, exhausted: false };
        rows.push(r);
      }
      if (batch.length < SCAN_BATCH) return { rows, exhausted: true };
      cursor = batch[batch.length - 1]!.pos;
    }
  }

  /** Ends every waiting long-poll (node shutdown), while the database is still open. */
  shutdown(): void {
    this.notifier.close();
  }

  /** /sync: computes at once, or waits for the notifier until something arrives. */
  async sync(requester: Requester, req: SyncRequest, signal?: AbortSignal): Promise<JsonObject> {
    this.startLateConsumers();
    const deadline = Date.now() + req.timeoutMs;
    for (;;) {
      const { body, empty } = this.compute(requester, req);
      const left = deadline - Date.now();
      if (!empty || req.since === undefined || left <= 0 || signal?.aborted) return body;
      // compute() and wait() run in one tick, so no wake-up can fall between them.
      const woken = await this.notifier.wait(requester.userId, left, signal);
      if (!woken) return this.compute(requester, req).body;
    }
  }

  private compute(requester: Requester, req: SyncRequest): { body: JsonObject; empty: boolean } {
    const userId = requester.userId;
    const now = this.currentToken();
    const since = req.since;
    const S = since?.pdu ?? 0;
    const N = now.pdu;
    const f = req.filter;
    const includeLeave = f.room?.include_leave === true;
    const history = this.store.membershipsOf(userId, N);
    const atSince = new Map<string, MembershipRow>();
    const latest = new Map<string, MembershipRow>();
    for (const m of history) {
      if (since && m.pos <= S) atSince.set(m.room_id, m);
      latest.set(m.room_id, m);
    }
    const adFrom = since?.accountData ?? 0;
    const accountRows = this.store.accountDataBetween(userId, adFrom, now.accountData);
    const accountEvents = (roomId: string, filter: RoomEventFilter | undefined): JsonObject[] => {
      const out: JsonObject[] = [];
      for (const r of accountRows) {
        if (r.room_id !== roomId || !eventAllowed(filter, { type: r.type, sender: userId })) continue;
        const content = this.deps.users.accountData(userId, roomId === '' ? undefined : roomId, r.type);
        if (content) out.push({ type: r.type, content });
      }
      return out;
    };

    const join: Record<string, JsonValue> = {};
    const invite: Record<string, JsonValue> = {};
    const leave: Record<string, JsonValue> = {};
    const knock: Record<string, JsonValue> = {};
    const countsChanged = new Set(since && this.deps.notifications ? this.deps.notifications.changedRooms(userId, since.notifications, now.notifications) : []);
    const perThread = f.room?.timeline?.unread_thread_notifications === true;
    const newlyJoined: string[] = [];
    for (const [roomId, m] of latest) {
      if (!roomAllowed(f, roomId)) continue;
      const changed = !since || m.pos > S;
      if (m.membership === 'join') {
        const wasJoined = atSince.get(roomId)?.membership === 'join';
        if (since && !wasJoined) newlyJoined.push(roomId);
        const room = this.roomSection(requester, roomId, S, N, !since || req.fullState || !wasJoined, f, !since || !wasJoined);
        const ad = accountEvents(roomId, f.room?.account_data);
        const eph = this.ephemeral(roomId, userId, since, now, !since || !wasJoined, f.room?.ephemeral);
        const hasNews = room.timelineCount > 0 || room.stateCount > 0 || ad.length > 0 || eph.length > 0 || countsChanged.has(roomId) || !since || req.fullState || !wasJoined;
        if (hasNews) join[roomId] = { ...room.body, account_data: { events: ad }, ephemeral: { events: eph }, summary: this.summary(roomId, userId), ...this.unreadCounts(userId, roomId, perThread) };
      } else if (m.membership === 'invite' || m.membership === 'knock') {
        if (!changed && !req.fullState) continue;
        const row = this.store.event(m.event_id);
        const ev = row ? (JSON.parse(row.json) as JsonObject) : undefined;
        // A remote invite carries the room's stripped state; a local room has its own.
        const given = (ev?.unsigned as JsonObject | undefined)?.invite_room_state;
        const stripped: JsonValue[] = Array.isArray(given) ? given.filter((e) => !(isObj(e) && e.type === 'm.room.member' && e.state_key === userId)) : this.deps.roomserver.strippedState(roomId);
        if (row && ev) stripped.push({ type: row.type, state_key: row.state_key ?? '', sender: row.sender, content: ev.content ?? {} });
        if (m.membership === 'invite') invite[roomId] = { invite_state: { events: stripped } };
        else knock[roomId] = { knock_state: { events: stripped } };
      } else if (m.membership === 'leave' || m.membership === 'ban') {
        if (since ? !changed && !(req.fullState && includeLeave) : !includeLeave) continue;
        if (this.deps.roomserver.isForgotten(roomId, userId)) continue;
        const wasJoined = atSince.get(roomId)?.membership === 'join';
        const room = this.roomSection(requester, roomId, S, m.pos, !since || req.fullState || !wasJoined, f, !since || !wasJoined);
        leave[roomId] = { ...room.body, account_data: { events: accountEvents(roomId, f.room?.account_data) } };
      }
    }
    const global = accountEvents('', f.account_data);
    const toDevice = toDeviceSection(this.deps.toDevice, userId, requester.deviceId, since, now.toDevice);
    const deviceLists = deviceListsSection(this.deps.keys, this.store, userId, since, now);
    const e2eeNews = toDevice.events.length + deviceLists.changed.length + deviceLists.left.length;
    const presence = this.presenceSection(userId, since, now, f.presence, newlyJoined);
    const empty = Object.keys(join).length + Object.keys(invite).length + Object.keys(leave).length + Object.keys(knock).length + global.length + e2eeNews + presence.length === 0;
    const body: JsonObject = {
      next_batch: formatToken({ ...now, toDevice: toDevice.pos }),
      rooms: { join, invite, leave, knock },
      account_data: { events: global },
      presence: { events: presence },
      to_device: { events: toDevice.events },
      device_lists: deviceLists,
      device_one_time_keys_count: this.deps.keys?.oneTimeKeyCounts(userId, requester.deviceId) ?? {},
      device_unused_fallback_key_types: this.deps.keys?.unusedFallbackKeyTypes(userId, requester.deviceId) ?? [],
    };
    return { body, empty };
  }

  /** m.typing when the room's list changed since `since` (or is non-empty on a fresh view),
   * and m.receipt with the receipts that moved since `since` (all on a fresh view); private
   * receipts only for their owner. */
  private ephemeral(roomId: string, userId: string, since: StreamToken | undefined, now: StreamToken, fresh: boolean, filter: RoomEventFilter | undefined): JsonObject[] {
    const out: JsonObject[] = [];
    const t = this.typing.get(roomId);
    if (t && eventAllowed(filter, { type: 'm.typing', sender: userId, room_id: roomId })) {
      const stale = since !== undefined && since.typing > now.typing;
      const show = fresh || stale ? t.userIds.length > 0 : t.pos > since!.typing;
      if (show) out.push({ type: 'm.typing', content: { user_ids: t.userIds } });
    }
    if (eventAllowed(filter, { type: 'm.receipt', sender: userId, room_id: roomId })) {
      const content: Record<string, Record<string, Record<string, JsonObject>>> = {};
      let n = 0;
      for (const r of this.store.receiptsBetween(roomId, fresh ? 0 : since!.receipt, now.receipt)) {
        if (r.type === 'm.read.private' && r.user_id !== userId) continue;
        const byType = (content[r.event_id] ??= {});
        const byUser = (byType[r.type] ??= {});
        byUser[r.user_id] = r.thread_id === '' ? { ts: r.ts } : { ts: r.ts, thread_id: r.thread_id };
        n++;
      }
      if (n > 0) out.push({ type: 'm.receipt', content: content as JsonObject });
    }
    return out;
  }

  /** Timeline (since, upTo] and state for one room (joined or left at upTo). */
  private roomSection(requester: Requester, roomId: string, since: number, upTo: number, full: boolean, f: Filter, fromStart: boolean) {
    const vis = new Visibility(this.store, roomId, requester.userId);
    const tf = f.room?.timeline;
    const limit = tf?.limit ?? DEFAULT_TIMELINE_LIMIT;
    const lower = fromStart ? 0 : since;
    const { rows, exhausted } = this.scanBack(roomId, upTo, lower, limit, (r) => eventAllowed(tf, r) && vis.canSee(r));
    rows.reverse();
    const limited = !exhausted;
    const start = rows.length > 0 ? rows[0]!.pos - 1 : upTo;
    const senders = new Set(rows.map((r) => r.sender));
    const keep = this.stateKeep(f.room?.state, requester, senders);
    const atStart = this.store.stateAt(roomId, start);
    let state: StateMap;
    if (full) state = atStart;
    else {
      const before = this.store.stateAt(roomId, since);
      state = new Map([...atStart].filter(([k, id]) => before.get(k) !== id));
      // Lazy loading: the members of timeline senders, even when unchanged.
      if (f.room?.state?.lazy_load_members) for (const s of senders) {
        const id = atStart.get(keyOf('m.room.member', s));
        if (id) state.set(keyOf('m.room.member', s), id);
      }
    }
    const stateEvents = this.stateEvents(state, keep, requester);
    const prev = { ...this.currentToken(), pdu: start };
    return {
      timelineCount: rows.length,
      stateCount: stateEvents.length,
      body: {
        state: { events: stateEvents },
        timeline: { events: rows.map((r) => this.renderTimeline(r, requester)), limited, prev_batch: formatToken(prev) },
      } as JsonObject,
    };
  }

  private summary(roomId: string, userId: string): JsonObject {
    const joined = this.store.membersWith(roomId, 'join');
    const invited = this.store.membersWith(roomId, 'invite');
    const heroes = [...joined, ...invited].filter((u) => u !== userId).sort().slice(0, 5);
    return { 'm.heroes': heroes, 'm.joined_member_count': joined.length, 'm.invited_member_count': invited.length };
  }

  /** Visibility of a room for a user; 403 if they were never in it (and it is not world readable). */
  visibility(roomId: string, userId: string): Visibility {
    const vis = new Visibility(this.store, roomId, userId);
    if (!vis.everMember() && !vis.worldReadableNow()) throw forbidden('You are not allowed to view this room');
    return vis;
  }

  /** GET /messages, asking federation for older history when the room's known history runs
   * out before its create event. */
  async messagesWithBackfill(requester: Requester, roomId: string, q: { dir: 'b' | 'f'; from?: number; to?: number; limit: number; filter: RoomEventFilter }): Promise<JsonObject> {
    await this.roomEventsCaughtUp();
    const first = this.messages(requester, roomId, q);
    if (q.dir !== 'b' || first.end !== undefined || !this.deps.backfill) return first;
    const earliest = this.store.earliestTimelineEvent(roomId);
    if (!earliest || (earliest.type === 'm.room.create' && earliest.state_key === '')) return first;
    const stored = await this.deps.backfill(roomId, [earliest.event_id], Math.max(q.limit, 20));
    if (stored === 0) return first;
    await this.caughtUp();
    return this.messages(requester, roomId, q);
  }

  /** GET /messages. Positions: a token at P sits between the events at P and P+1. */
  messages(requester: Requester, roomId: string, q: { dir: 'b' | 'f'; from?: number; to?: number; limit: number; filter: RoomEventFilter }): JsonObject {
    const vis = this.visibility(roomId, requester.userId);
    const now = this.currentToken();
    const from = q.from ?? (q.dir === 'b' ? now.pdu : 0);
    const keep = (r: EventRow) => eventAllowed(q.filter, r) && vis.canSee(r);
    const { rows, exhausted } =
      q.dir === 'b'
        ? this.scanBack(roomId, from, q.to ?? Number.MIN_SAFE_INTEGER, q.limit, keep)
        : this.scanForward(roomId, from, Math.min(q.to ?? now.pdu, now.pdu), q.limit, keep);
    const out: JsonObject = { start: formatToken({ ...now, pdu: from }), chunk: rows.map((r) => this.renderTimeline(r, requester)) };
    if (!exhausted && rows.length > 0) out.end = formatToken({ ...now, pdu: q.dir === 'b' ? rows[rows.length - 1]!.pos - 1 : rows[rows.length - 1]!.pos });
    if (q.filter.lazy_load_members && rows.length > 0) {
      const senders = new Set(rows.map((r) => r.sender));
      const at = this.store.stateAt(roomId, Math.max(...rows.map((r) => r.pos)));
      const ids = [...senders].map((s) => at.get(keyOf('m.room.member', s))).filter((x): x is string => x !== undefined);
      out.state = ids.map((id) => this.store.event(id)).filter((r): r is EventRow => r !== undefined).map((r) => this.render(r, requester));
    } else out.state = [];
    return out;
  }

  /** GET /context/{eventId}. */
  context(requester: Requester, roomId: string, eventId: string, limit: number, filter: RoomEventFilter): JsonObject {
    const vis = this.visibility(roomId, requester.userId);
    const ev = this.store.event(eventId);
    if (!ev || ev.room_id !== roomId || !vis.canSee(ev)) throw notFound('Event not found');
    const now = this.currentToken();
    const keep = (r: EventRow) => eventAllowed(filter, r) && vis.canSee(r);
    const beforeN = Math.floor(limit / 2);
    const before = this.scanBack(roomId, ev.pos - 1, 0, beforeN, keep).rows;
    const after = this.scanForward(roomId, ev.pos, now.pdu, limit - beforeN, keep).rows;
    const startPos = before.length > 0 ? before[before.length - 1]!.pos - 1 : ev.pos - 1;
    const endPos = after.length > 0 ? after[after.length - 1]!.pos : ev.pos;
    const all = [...before, ev, ...after];
    const senders = new Set(all.map((r) => r.sender));
    const state = this.stateEvents(this.store.stateAt(roomId, endPos), this.stateKeep(filter, requester, senders), requester);
    return {
      event: this.renderTimeline(ev, requester),
      events_before: before.map((r) => this.renderTimeline(r, requester)),
      events_after: after.map((r) => this.renderTimeline(r, requester)),
      start: formatToken({ ...now, pdu: startPos }),
      end: formatToken({ ...now, pdu: endPos }),
      state,
    };
  }

  /** GET /relations/{eventId}[/{relType}[/{eventType}]]. */
  /** GET /timestamp_to_event: the visible event nearest `ts` in the direction asked. */
  eventAtTime(requester: Requester, roomId: string, ts: number, dir: 'f' | 'b'): JsonObject {
    const vis = this.visibility(roomId, requester.userId);
    const row = this.store.eventsByTime(roomId, ts, dir, SCAN_BATCH).find((r) => vis.canSee(r));
    if (!row) throw notFound(`No event ${dir === 'f' ? 'at or after' : 'at or before'} ${ts} in the room`);
    const ev = JSON.parse(row.json) as JsonObject;
    return { event_id: row.event_id, origin_server_ts: ev.origin_server_ts as number };
  }

  /** GET /threads: the room's thread roots by their latest reply, newest first, each with its
   * thread summary bundled (`unsigned.m.relations.m.thread`), as the spec asks. */
  threads(requester: Requester, roomId: string, q: { include: 'all' | 'participated'; from?: number; limit: number }): JsonObject {
    const vis = this.visibility(roomId, requester.userId);
    const now = this.currentToken();
    const chunk: JsonObject[] = [];
    let cursor = Math.min(q.from ?? now.pdu, now.pdu);
    let more = false;
    let last = cursor;
    scan: for (;;) {
      const batch = this.store.threadRoots(roomId, cursor, SCAN_BATCH);
      for (const t of batch) {
        cursor = t.latest - 1;
        const root = this.store.event(t.root);
        if (!root || root.room_id !== roomId || !vis.canSee(root)) continue;
        const replied = this.store.repliedInThread(roomId, t.root, requester.userId);
        const participated = root.sender === requester.userId || replied;
        if (q.include === 'participated' && !participated) continue;
        const latest = this.store.relations(roomId, t.root, 'm.thread', undefined, 'b', t.latest, 0, SCAN_BATCH).find((r) => vis.canSee(r));
        if (!latest) continue;
        if (chunk.length === q.limit) {
          more = true;
          break scan;
        }
        const ev = this.renderTimeline(root, requester);
        const unsigned = ev.unsigned as JsonObject;
        // The summary as of this page (a newer reply may have come since `from`).
        unsigned['m.relations'] = {
          ...((unsigned['m.relations'] as JsonObject | undefined) ?? {}),
          'm.thread': { latest_event: this.render(latest, requester), count: t.count, current_user_participated: participated },
        };
        chunk.push(ev);
        last = t.latest - 1;
      }
      if (batch.length < SCAN_BATCH) break;
    }
    const out: JsonObject = { chunk };
    if (more) out.next_batch = formatToken({ ...now, pdu: last });
    return out;
  }

  relations(
    requester: Requester,
    roomId: string,
    eventId: string,
    q: { relType?: string; eventType?: string; dir: 'b' | 'f'; from?: number; to?: number; limit: number },
  ): JsonObject {
    const vis = this.visibility(roomId, requester.userId);
    const parent = this.store.event(eventId);
    if (!parent || parent.room_id !== roomId || !vis.canSee(parent)) throw notFound('Event not found');
    const now = this.currentToken();
    const rows: EventRow[] = [];
    let cursor = q.from ?? (q.dir === 'b' ? now.pdu : 0);
    const bound = q.dir === 'b' ? (q.to ?? 0) : Math.min(q.to ?? now.pdu, now.pdu);
    let more = false;
    for (;;) {
      const batch = this.store.relations(roomId, eventId, q.relType, q.eventType, q.dir, cursor, bound, SCAN_BATCH);
      for (const r of batch) {
        if (!vis.canSee(r)) continue;
        if (rows.length === q.limit) {
          more = true;
          break;
        }
        rows.push(r);
      }
      if (more || batch.length < SCAN_BATCH) break;
      cursor = q.dir === 'b' ? batch[batch.length - 1]!.pos - 1 : batch[batch.length - 1]!.pos;
    }
    const out: JsonObject = { chunk: rows.map((r) => this.renderTimeline(r, requester)) };
    if (more) out.next_batch = formatToken({ ...now, pdu: q.dir === 'b' ? rows[rows.length - 1]!.pos - 1 : rows[rows.length - 1]!.pos });
    if (q.from !== undefined) out.prev_batch = formatToken({ ...now, pdu: q.from });
    return out;
  }
}
