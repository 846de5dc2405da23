import { randomBytes } from 'node:crypto';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import type { SigningKey } from '../crypto/index.js';
import type { Db } from '../db/index.js';
import { CanonicalJsonError } from '../crypto/index.js';
import { MAX_PDU_BYTES, buildEvent, validatePDU, type BuildOptions } from '../events/index.js';
import { DEFAULT_ROOM_VERSION, getRoomVersion } from '../events/roomversions.js';
import type { JsonObject, PDUJson, RoomEvent } from '../events/types.js';
import { MatrixError, forbidden, notFound } from '../http/errors.js';
import type { Log, LogMessage } from '../log/index.js';
import type { Logger } from '../logger.js';
import {
  ROOM_OUTPUT_TOPIC,
  type CreateRoomRequest,
  type InputEvent,
  type InputOutcome,
  type MissingEventFetcher,
  type NewEventRequest,
  type RoomOutput,
  type RoomserverAPI,
  type RoomserverAliasAPI,
  type UpgradeRoomRequest,
} from './api.js';
import { authEventTypesNeeded, checkAuth } from './auth/index.js';
import { InputProcessor, type KeyProvider } from './input.js';
import { KeyedQueue } from './queue.js';
import { RoomAliases } from './aliases.js';
import { roomSummaryFor, spaceHierarchy, type HierarchyOptions } from './hierarchy.js';
import { publicRoomsPage } from './publicrooms.js';
import { initialRoomEvents } from './createroom.js';
import { restrictedPowerLevels, upgradePlan } from './upgrade.js';
import { RoomQueries } from './queries.js';
import { ROOMSERVER_MIGRATIONS, RoomserverStorage } from './storage/index.js';

export type { KeyProvider } from './input.js';

/** Prev events a new local event references at most (Synapse and Dendrite cap similarly). */
const MAX_PREV_EVENTS = 10;
/** Local sends stored in one transaction at most: bounds the wait of the batch's first. */
const MAX_SEND_BATCH = 64;

interface PendingSend {
  req: NewEventRequest;
  resolve: (r: { eventId: string; event: RoomEvent }) => void;
  reject: (e: unknown) => void;
}

export interface RoomserverDeps {
  db: Db;
  log: Log;
  logger: Logger;
  serverName: string;
  signingKey: SigningKey;
  keys: KeyProvider;
  fetcher: MissingEventFetcher;
}

/** Federation is not wired in yet: nothing can be fetched. */
export const NO_FETCHER: MissingEventFetcher = { fetchEvents: async () => [] };

/**
 * The room server: the authority on every room's DAG and state. Inputs are queued per room
 * and processed strictly in order; rooms run in parallel.
 */
export class Roomserver extends RoomQueries implements RoomserverAPI {
  private readonly queue = new KeyedQueue();
  /** Per room, the batch of local sends that later sends may still join. */
  private readonly openBatches = new Map<string, PendingSend[]>();
  private readonly input: InputProcessor;
  private readonly aliases: RoomAliases;

  constructor(private readonly deps: RoomserverDeps) {
    deps.db.migrate('roomserver', ROOMSERVER_MIGRATIONS);
    const store = new RoomserverStorage(deps.db.raw);
    super(store);
    this.aliases = new RoomAliases(deps.db.raw);
    this.input = new InputProcessor(store, deps.db.raw, deps.log, deps.keys, deps.fetcher, deps.logger);
    deps.log.topic<RoomOutput>(ROOM_OUTPUT_TOPIC, {
      durable: true,
      replay: {
        read: (after, limit) =>
          store.outputAfter(after, limit).map(
            (r): LogMessage<RoomOutput> => ({ topic: ROOM_OUTPUT_TOPIC, offset: r.offset, key: r.roomId, value: r.entry as RoomOutput }),
          ),
        head: () => store.outputHead(),
      },
    });
  }

  inputEvent(input: InputEvent): Promise<InputOutcome> {
    const roomId = this.queueKey(input);
    return this.inRoom(roomId, () => this.input.process(input));
  }

  /** Runs a task on the room's queue. A send batch still open would be stored after this
   * task although its sends joined before it: close it so later sends start a new one. */
  private inRoom<T>(roomId: string, task: () => Promise<T> | T): Promise<T> {
    this.openBatches.delete(roomId);
    return this.queue.run(roomId, task);
  }

  /** v12 create events carry no room id: they get a queue of their own event. */
  private queueKey(input: InputEvent): string {
    const p = input.pdu as unknown as Record<string, unknown> | null;
    return typeof p?.room_id === 'string' ? p.room_id : `create:${String(p?.sender)}`;
  }

  /** Resolves when all queued input has been processed. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /**
   * Local sends that queue up in a room while it is busy (or arrive in the same tick) form a
   * batch: built as a chain, each checked against the state the previous one left, and
   * stored in one transaction (DESIGN: one transaction per tick on hot paths). Each send
   * still gets its own outcome, and every promise settles only after the commit.
   */
  sendEvent(req: NewEventRequest): Promise<{ eventId: string; event: RoomEvent }> {
    return new Promise((resolve, reject) => {
      const roomId = req.roomId;
      let batch = this.openBatches.get(roomId);
      if (!batch) {
        const b: PendingSend[] = [];
        batch = b;
        this.openBatches.set(roomId, b);
        void this.queue.run(roomId, async () => {
          // Let the sends of the requests read in this same poll join.
          if (this.openBatches.get(roomId) === b) await nextMacrotask();
          if (this.openBatches.get(roomId) === b) this.openBatches.delete(roomId);
          this.storeSendBatch(b);
        });
      }
      batch.push({ req, resolve, reject });
      if (batch.length >= MAX_SEND_BATCH) this.openBatches.delete(roomId);
    });
  }

  /** Builds and stores a batch of local sends in one transaction; never throws. First
   * without a savepoint per event (they cost as much as storing a message): if storing one
   * fails, the whole batch is rolled back and stored again, each event in a savepoint, so
   * that the failure is that event's alone. */
  private storeSendBatch(batch: PendingSend[], savepoints = false): void {
    const settle: Array<() => void> = [];
    const outputs: Array<{ offset: number; entry: RoomOutput }> = [];
    let storeFailed = false;
    try {
      this.deps.db.transaction(() => {
        for (const p of batch) {
          let built: { pdu: PDUJson; event: RoomEvent };
          try {
            // Built inside the transaction on what the previous sends left: a chain, not
            // forks. Building writes nothing, so a send refused here needs no rollback.
            // Unsigned: signed when it first leaves the node (never, in a room of ours alone).
            built = this.buildOnCurrent(p.req, { sign: false });
          } catch (e) {
            settle.push(() => p.reject(e));
            continue;
          }
          const { pdu, event } = built;
          try {
            const r = this.input.storeBuilt({ kind: 'new', pdu, transaction: p.req.transaction }, event, p.req.onStored, savepoints);
            outputs.push(...r.outputs);
            const o = r.outcome;
            if (o.status === 'accepted' || o.status === 'duplicate') settle.push(() => p.resolve({ eventId: event.eventId, event }));
            else settle.push(() => p.reject(forbidden(o.status === 'rejected' || o.status === 'soft_failed' ? o.reason : 'event not accepted')));
          } catch (e) {
            if (!savepoints) {
              storeFailed = true;
              throw e;
            }
            settle.push(() => p.reject(e));
          }
        }
      });
    } catch (e) {
      // Nothing of the batch was stored.
      this.store.resetCaches();
      if (storeFailed) {
        this.storeSendBatch(batch, true);
        return;
      }
      this.deps.logger.error({ err: e, room_id: batch[0]?.req.roomId }, 'storing a batch of local events failed');
      for (const p of batch) p.reject(e);
      return;
    }
    this.input.publish(outputs);
    for (const s of settle) s();
  }

  buildLocalEvent(req: NewEventRequest): Promise<{ pdu: PDUJson; event: RoomEvent }> {
    return this.inRoom(req.roomId, async () => {
      const built = this.buildOnCurrent(req);
      this.checkOnCurrent(built.event);
      return built;
    });
  }

  eventTemplate(req: NewEventRequest): { pdu: PDUJson; roomVersion: string } {
    // The joining server hashes and signs it: no signature of ours to make.
    const { pdu, event } = this.buildOnCurrent(req, { sign: false });
    this.checkOnCurrent(event);
    const { signatures: _s, hashes: _h, event_id: _e, origin: _o, ...template } = pdu;
    return { pdu: template as PDUJson, roomVersion: event.version.id };
  }

  forgetRoom(roomId: string, userId: string): boolean {
    const room = this.store.room(roomId);
    return room !== undefined && this.store.forget(room.roomNid, userId);
  }

  private checkOnCurrent(event: RoomEvent): void {
    const r = checkAuth(event, { get: (t, k) => this.currentStateEvent(event.roomId, t, k) });
    if (!r.allowed) throw forbidden(`${r.rule}: ${r.reason}`);
  }

  /** Builds on the latest events and the current state (inside the room's queue, so that
   * consecutive local events form a chain rather than forks). */
  private buildOnCurrent(req: NewEventRequest, opts: BuildOptions = {}): { pdu: PDUJson; event: RoomEvent } {
    const room = this.store.room(req.roomId);
    if (!room || room.createEventNid === 0) throw notFound(`Unknown room ${req.roomId}`);
    const latest = room.latestEventNids
      .map((n) => this.store.eventByNid(n).event)
      .sort((a, b) => b.depth - a.depth)
      .slice(0, MAX_PREV_EVENTS);
    const current = this.store.state.load(room.stateSnapshotNid);
    const authEvents = authEventTypesNeeded(
      { type: req.type, stateKey: req.stateKey, sender: req.sender, content: req.content },
      room.version,
    )
      .map(([t, k]) => this.store.stateEvent(current, t, k))
      .filter((e): e is RoomEvent => e !== undefined);
    const depth = Math.min(Math.max(0, ...latest.map((e) => e.depth)) + 1, Number.MAX_SAFE_INTEGER);
    const { pdu, event } = this.buildChecked(room.version.id, {
      roomId: req.roomId,
      type: req.type,
      stateKey: req.stateKey,
      sender: req.sender,
      content: req.content,
      redacts: req.redacts,
      prevEvents: latest.map((e) => e.eventId),
      authEvents: authEvents.map((e) => e.eventId),
      depth,
    }, opts);
    return { pdu, event };
  }

  /** Builds a client's event, turning what the client got wrong into its Matrix error. */
  private buildChecked(versionId: string, fields: Omit<Parameters<typeof buildEvent>[0], 'version'>, opts: BuildOptions): ReturnType<typeof buildEvent> {
    let built: ReturnType<typeof buildEvent>;
    try {
      built = this.build(versionId, fields, opts);
    } catch (e) {
      if (e instanceof CanonicalJsonError) throw new MatrixError(400, 'M_BAD_JSON', `Event content is not canonical JSON: ${e.message}`);
      throw e;
    }
    const size = built.canonicalBytes;
    if (size > MAX_PDU_BYTES) throw new MatrixError(413, 'M_TOO_LARGE', `Event is ${size} bytes, more than ${MAX_PDU_BYTES}`);
    const valid = validatePDU(built.pdu, getRoomVersion(versionId)!, built);
    if (!valid.ok) throw new MatrixError(400, 'M_BAD_JSON', `Invalid event: ${valid.reason}`);
    return built;
  }

  private build(
    versionId: string,
    fields: Omit<Parameters<typeof buildEvent>[0], 'version'>,
    opts: BuildOptions = {},
  ): ReturnType<typeof buildEvent> {
    const version = getRoomVersion(versionId)!;
    return buildEvent({ version, ...fields }, this.deps.serverName, this.deps.signingKey, (id) => this.store.event(id)?.event.json, opts);
  }

  async createRoom(req: CreateRoomRequest): Promise<{ roomId: string }> {
    const versionId = req.roomVersion ?? DEFAULT_ROOM_VERSION;
    const version = getRoomVersion(versionId);
    if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Unsupported room version ${versionId}`);
    const plan = initialRoomEvents(req, version);
    const roomIdGuess = version.roomIdFromCreate ? undefined : `!${randomBytes(12).toString('base64url')}:${this.deps.serverName}`;
    const { pdu: createPdu, event: createEvent } = this.build(versionId, {
      roomId: roomIdGuess,
      type: 'm.room.create',
      stateKey: '',
      sender: req.creator,
      content: plan.createContent,
      prevEvents: [],
      authEvents: [],
      depth: 1,
    });
    const roomId = createEvent.roomId;
    const created = await this.inRoom(roomId, () => this.input.process({ kind: 'new', pdu: createPdu }));
    if (created.status !== 'accepted') {
      throw new MatrixError(400, 'M_INVALID_ROOM_STATE', `Could not create the room: ${'reason' in created ? created.reason : created.status}`);
    }
    for (const ev of plan.events) {
      try {
        await this.sendEvent({ roomId, sender: req.creator, type: ev.type, stateKey: ev.stateKey, content: ev.content });
      } catch (e) {
        if (e instanceof MatrixError && e.errcode === 'M_FORBIDDEN') {
          throw new MatrixError(400, 'M_INVALID_ROOM_STATE', `Initial state event ${ev.type} refused: ${e.message}`);
        }
        throw e;
      }
    }
    return { roomId };
  }

  async upgradeRoom(req: UpgradeRoomRequest): Promise<{ replacementRoom: string }> {
    const version = getRoomVersion(req.newVersion);
    if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Unsupported room version ${req.newVersion}`);
    if (!this.roomInfo(req.roomId)) throw notFound(`Unknown room ${req.roomId}`);
    if (this.membership(req.roomId, req.userId)?.membership !== 'join') throw forbidden(`${req.userId} is not in room ${req.roomId}`);
    // Whoever may end the room with a tombstone may upgrade it: check that first (403).
    await this.buildLocalEvent({ roomId: req.roomId, sender: req.userId, type: 'm.room.tombstone', stateKey: '', content: { body: '', replacement_room: req.roomId } });
    const plan = upgradePlan({
      state: this.currentState(req.roomId),
      userId: req.userId,
      newVersion: version,
      additionalCreators: req.additionalCreators ?? [],
      lastEventId: this.latestEvents(req.roomId).eventIds[0]!,
    });
    const { roomId: newRoomId } = await this.createRoom({
      creator: req.userId,
      roomVersion: version.id,
      preset: 'private_chat',
      creationContent: plan.createContent,
      additionalCreators: req.additionalCreators,
      initialState: plan.initialState,
      powerLevelContentOverride: plan.initialPowerLevels,
      creatorProfile: req.creatorProfile,
    });
    const send = (roomId: string, type: string, stateKey: string, content: JsonObject) => this.sendEvent({ roomId, sender: req.userId, type, stateKey, content });
    for (const b of plan.bans) await send(newRoomId, 'm.room.member', b.userId, { membership: 'ban', ...(b.reason !== undefined ? { reason: b.reason } : {}) });
    if (plan.finalPowerLevels) await send(newRoomId, 'm.room.power_levels', '', plan.finalPowerLevels);
    // Local aliases and the directory listing follow the room.
    for (const alias of this.aliasesForRoom(req.roomId)) {
      const creator = this.aliasCreator(alias) ?? req.userId;
      this.removeAlias(alias);
      this.setAlias(alias, newRoomId, creator);
    }
    const canonical = this.currentStateEvent(req.roomId, 'm.room.canonical_alias', '');
    if (canonical && Object.keys(canonical.content).length > 0) {
      await this.bestEffort(() => send(newRoomId, 'm.room.canonical_alias', '', canonical.content), newRoomId, 'canonical alias');
      await this.bestEffort(() => send(req.roomId, 'm.room.canonical_alias', '', {}), req.roomId, 'canonical alias');
    }
    if (this.isPublished(req.roomId)) {
      this.setPublished(newRoomId, true);
      this.setPublished(req.roomId, false);
    }
    await send(req.roomId, 'm.room.tombstone', '', { body: 'This room has been replaced', replacement_room: newRoomId });
    const oldPl = this.currentStateEvent(req.roomId, 'm.room.power_levels', '');
    if (oldPl) await this.bestEffort(() => send(req.roomId, 'm.room.power_levels', '', restrictedPowerLevels(oldPl.content)), req.roomId, 'power levels');
    return { replacementRoom: newRoomId };
  }

  /** An upgrade step the user may lack the power for (e.g. the old room's power levels):
   * the upgrade stands without it. */
  private async bestEffort(step: () => Promise<unknown>, roomId: string, what: string): Promise<void> {
    try {
      await step();
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      this.deps.logger.info({ room_id: roomId, reason: e.message }, `room upgrade: ${what} not changed`);
    }
  }

  /** Swaps in federation's fetcher once federation exists (it is built after us). */
  set fetcher(f: MissingEventFetcher) {
    this.input.fetcher = f;
  }

  storeRemoteInvite(pdu: PDUJson, roomVersion: string): Promise<InputOutcome> {
    return this.inRoom(pdu.room_id ?? '', async () => {
      const room = this.store.room(pdu.room_id ?? '');
      // Already in the room: the invite is an ordinary event of its DAG.
      if (room && room.stateSnapshotNid !== 0 && this.joinedServers(room.roomId).includes(this.deps.serverName)) {
        return this.input.process({ kind: 'new', pdu, roomVersion });
      }
      return this.input.storeOutOfRoom({ kind: 'outlier', pdu, roomVersion }, 'new_invite_event');
    });
  }

  storeOutOfRoomMembership(pdu: PDUJson, roomVersion: string): Promise<InputOutcome> {
    return this.inRoom(pdu.room_id ?? '', async () => this.input.storeOutOfRoom({ kind: 'outlier', pdu, roomVersion }, 'retire_invite_event'));
  }

  pendingInvite(roomId: string, userId: string): RoomEvent | undefined {
    const room = this.store.room(roomId);
    const m = room && this.store.membership(room.roomNid, userId);
    return m && m.membership === 'invite' ? this.store.eventByNid(m.eventNid).event : undefined;
  }

  /** Backfill: asks federation for events before `fromEventIds`, inputs the new ones as
   * history, newest first (so readers can place each before the previous). */
  async performBackfill(roomId: string, fromEventIds: string[], limit: number): Promise<number> {
    const info = this.roomInfo(roomId);
    if (!info || !this.input.fetcher.backfill) return 0;
    const pdus = await this.input.fetcher.backfill(roomId, fromEventIds, limit).catch(() => [] as PDUJson[]);
    const ordered = pdus
      .filter((p) => typeof p === 'object' && p !== null)
      .sort((a, b) => (Number(b.depth) || 0) - (Number(a.depth) || 0));
    let stored = 0;
    for (const pdu of ordered) {
      const out = await this.inRoom(roomId, () => this.input.process({ kind: 'old', pdu, roomVersion: info.version }));
      if (out.status === 'accepted') stored++;
    }
    return stored;
  }

  setAlias(alias: string, roomId: string, creator: string): boolean {
    return this.aliases.setAlias(alias, roomId, creator);
  }
  resolveAlias(alias: string): string | undefined {
    return this.aliases.resolveAlias(alias);
  }
  aliasCreator(alias: string): string | undefined {
    return this.aliases.aliasCreator(alias);
  }
  removeAlias(alias: string): boolean {
    return this.aliases.removeAlias(alias);
  }
  aliasesForRoom(roomId: string): string[] {
    return this.aliases.aliasesForRoom(roomId);
  }
  setPublished(roomId: string, published: boolean): void {
    this.aliases.setPublished(roomId, published);
  }
  isPublished(roomId: string): boolean {
    return this.aliases.isPublished(roomId);
  }
  publicRooms(limit: number | undefined, since: string | undefined, term: string | undefined): Record<string, unknown> {
    return publicRoomsPage(this, limit, since, term);
  }

  spaceHierarchy(userId: string, roomId: string, opts: HierarchyOptions): Record<string, unknown> {
    return spaceHierarchy(this, userId, roomId, opts);
  }
  roomSummary(roomId: string, userId: string | undefined): Record<string, unknown> {
    return roomSummaryFor(this, roomId, userId);
  }
  publishedRooms(): string[] {
    return this.aliases.publishedRooms();
  }
}
