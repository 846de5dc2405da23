import type Database from 'better-sqlite3';
import { checkContentHash, computeEventId, redactEvent, roomIdFromCreateEvent, validatePDU, verifyEventSignature } from '../events/index.js';
import { toRoomEvent } from '../events/event.js';
import { getRoomVersion, type RoomVersion } from '../events/roomversions.js';
import { stateKey as mapKey, type PDUJson, type RoomEvent } from '../events/types.js';
import type { Log } from '../log/index.js';
import type { Logger } from '../logger.js';
import type { InputEvent, InputOutcome, MissingEventFetcher, RoomOutput } from './api.js';
import { ROOM_OUTPUT_TOPIC } from './api.js';
import { checkAuth, checkAuthEventsSelection, userPowerLevel, type AuthState } from './auth/index.js';
import { resolveState, type StateMap } from './stateres/index.js';
import { EventStatus, RoomserverStorage, type NidState, type RoomRow, type StoredEvent } from './storage/index.js';

/** Gives the verify key of a server's signing key, or undefined when unknown. */
export interface KeyProvider {
  verifyKey(serverName: string, keyId: string): Uint8Array | undefined;
}

function serverOf(id: string): string {
  const i = id.indexOf(':');
  return i < 0 ? '' : id.slice(i + 1);
}

class Rejection extends Error {}

/** Auth state over a numeric state map, with the create event always visible (v12 never
 * lists it in auth_events). */
function authStateOf(store: RoomserverStorage, state: NidState, create?: RoomEvent): AuthState {
  return {
    get(type, key) {
      const ev = store.stateEvent(state, type, key);
      if (ev) return ev;
      return type === 'm.room.create' && key === '' ? create : undefined;
    },
  };
}

/**
 * The room server's input pipeline for one event, run on the room's queue. Checks, in the
 * spec's order: format, signatures, content hash, auth against its auth events, auth against
 * the state before it, soft-fail against current state; then stores it (rejected events too)
 * and updates extremities, current state and the output log in one transaction.
 */
export class InputProcessor {
  constructor(
    private readonly store: RoomserverStorage,
    private readonly db: Database.Database,
    private readonly log: Log,
    private readonly keys: KeyProvider,
    public fetcher: MissingEventFetcher,
    private readonly logger: Logger,
  ) {}

  /** `built` is set when this room server built and signed the event itself (and validated
   * it): its format and our own signature need no second check. */
  async process(input: InputEvent, built?: RoomEvent, nested = 0): Promise<InputOutcome> {
    let eventId: string | undefined;
    try {
      const checked = built ? { event: built, version: built.version } : this.checkFormatAndSignatures(input);
      eventId = checked.event.eventId;
      const existing = this.store.event(eventId);
      if (existing && (!existing.isOutlier || input.kind === 'outlier')) return { status: 'duplicate', eventId };
      await this.fetchMissing(checked.event, input);
      const stateBefore = input.kind === 'new' && !input.stateEventIds ? await this.fillPrevGap(checked.event, input, nested) : undefined;
      let published: Array<{ offset: number; entry: RoomOutput }> = [];
      let outcome: InputOutcome;
      try {
        outcome = this.db.transaction(() => {
          const r = this.storeEvent(checked.event, input, existing, stateBefore);
          published = r.outputs;
          return r.outcome;
        })();
      } catch (e) {
        this.store.resetCaches();
        throw e;
      }
      this.publish(published);
      return outcome;
    } catch (e) {
      if (e instanceof Rejection) {
        this.logger.debug({ event_id: eventId, reason: e.message }, 'event rejected before storage');
        return { status: 'rejected', eventId, reason: e.message };
      }
      this.logger.error({ err: e, event_id: eventId }, 'unexpected error processing event');
      return { status: 'rejected', eventId, reason: `internal error: ${(e as Error).message}` };
    }
  }

  /**
   * Stores an event this room server built and signed on the room's latest events and
   * current state (so nothing is missing to fetch), inside the caller's transaction: a
   * batch of local sends shares one commit. With `savepoint`, the event gets a savepoint of
   * its own, so a failure rolls back only it; without, a failure throws and the caller must
   * roll back its transaction. `inTransaction` runs once the event is accepted. The caller
   * publishes the outputs after its commit, in order.
   */
  storeBuilt(
    input: InputEvent,
    event: RoomEvent,
    inTransaction?: (eventId: string) => void,
    savepoint = true,
  ): { outcome: InputOutcome; outputs: Array<{ offset: number; entry: RoomOutput }> } {
    const eventId = event.eventId;
    // Just built on the room's latest events, the event is new but for a repeat of an
    // identical one: without a savepoint, storing that fails on the event id's uniqueness and
    // the caller stores its batch again with savepoints, where this lookup says so. A lookup
    // of an id that is not there costs a send more than the check is worth.
    const existing = savepoint ? this.store.event(eventId) : undefined;
    if (existing && !existing.isOutlier) return { outcome: { status: 'duplicate', eventId }, outputs: [] };
    if (!savepoint) {
      const r = this.storeEvent(event, input, existing);
      if (r.outcome.status === 'accepted') inTransaction?.(eventId);
      return r;
    }
    try {
      return this.db.transaction(() => {
        const r = this.storeEvent(event, input, existing);
        if (r.outcome.status === 'accepted') inTransaction?.(eventId);
        return r;
      })();
    } catch (e) {
      this.store.resetCaches();
      if (e instanceof Rejection) {
        this.logger.debug({ event_id: eventId, reason: e.message }, 'event rejected before storage');
        return { outcome: { status: 'rejected', eventId, reason: e.message }, outputs: [] };
      }
      this.logger.error({ err: e, event_id: eventId }, 'unexpected error processing event');
      return { outcome: { status: 'rejected', eventId, reason: `internal error: ${(e as Error).message}` }, outputs: [] };
    }
  }

  /** Hands committed outputs to the log, in offset order. */
  publish(outputs: ReadonlyArray<{ offset: number; entry: RoomOutput }>): void {
    for (const { offset, entry } of outputs) this.log.publish(ROOM_OUTPUT_TOPIC, entry.roomId, entry, offset);
  }

  /**
   * A local user's invite to (or leave from) a room this server is not in: checked for
   * format and signatures, stored as an outlier with the user's membership, and handed to
   * sync as `new_invite_event` / `retire_invite_event`.
   */
  storeOutOfRoom(input: InputEvent, type: 'new_invite_event' | 'retire_invite_event'): InputOutcome {
    let checked: { event: RoomEvent; version: RoomVersion };
    try {
      checked = this.checkFormatAndSignatures(input);
    } catch (e) {
      if (e instanceof Rejection) return { status: 'rejected', reason: e.message };
      throw e;
    }
    const ev = checked.event;
    if (ev.type !== 'm.room.member' || ev.stateKey === undefined) return { status: 'rejected', eventId: ev.eventId, reason: 'not a member event' };
    let published: Array<{ offset: number; entry: RoomOutput }> = [];
    let outcome: InputOutcome;
    try {
      outcome = this.db.transaction((): InputOutcome => {
        if (this.store.event(ev.eventId)) return { status: 'duplicate', eventId: ev.eventId };
        const room = this.store.room(ev.roomId) ?? this.store.createRoom(ev.roomId, checked.version);
        const nid = this.store.insertEvent(room.roomNid, ev, null, EventStatus.Accepted, true, null);
        const m = ev.content.membership;
        this.store.setMembership(room.roomNid, ev.stateKey!, typeof m === 'string' ? m : 'leave', nid);
        const outputs: Array<{ offset: number; entry: RoomOutput }> = [];
        this.emit(room, { type, roomId: ev.roomId, roomVersion: checked.version.id, eventId: ev.eventId, event: ev.json, prevOutputOffset: room.lastOutputOffset }, outputs);
        this.store.updateRoom(room);
        published = outputs;
        return { status: 'accepted', eventId: ev.eventId };
      })();
    } catch (e) {
      this.store.resetCaches();
      throw e;
    }
    this.publish(published);
    return outcome;
  }

  /** Steps 1–3: format, signatures, content hash (a mismatch means the event is used redacted). */
  private checkFormatAndSignatures(input: InputEvent): { event: RoomEvent; version: RoomVersion } {
    const raw = input.pdu as unknown;
    if (typeof raw !== 'object' || raw === null) throw new Rejection('event is not an object');
    const pdu0 = raw as PDUJson;
    const isCreate = pdu0.type === 'm.room.create' && pdu0.state_key === '';
    const known = typeof pdu0.room_id === 'string' ? this.store.room(pdu0.room_id) : undefined;
    let versionId = known?.version.id ?? input.roomVersion;
    if (versionId === undefined && isCreate) {
      const v = (pdu0.content as Record<string, unknown> | undefined)?.room_version;
      versionId = v === undefined ? '1' : typeof v === 'string' ? v : undefined;
    }
    if (versionId === undefined) throw new Rejection(known || isCreate ? 'bad room version' : 'unknown room');
    const version = getRoomVersion(versionId);
    if (!version) throw new Rejection(`unsupported room version ${versionId}`);
    const valid = validatePDU(pdu0, version);
    if (!valid.ok) throw new Rejection(`invalid event: ${valid.reason}`);
    let pdu = valid.pdu;
    const eventId = version.eventIdFormat === 'v1' ? pdu.event_id! : computeEventId(pdu, version);
    const roomId = version.roomIdFromCreate && isCreate ? roomIdFromCreateEvent(pdu, version) : pdu.room_id!;

    const signers = new Set([serverOf(pdu.sender)]);
    if (version.eventIdFormat === 'v1') signers.add(serverOf(eventId));
    const via = (pdu.content as Record<string, unknown>).join_authorised_via_users_server;
    if (version.restrictedJoins && pdu.type === 'm.room.member' && typeof via === 'string' && (pdu.content as Record<string, unknown>).membership === 'join') {
      signers.add(serverOf(via));
    }
    for (const server of signers) {
      const sigs = pdu.signatures?.[server];
      if (!sigs) throw new Rejection(`no signature from ${server}`);
      let verified = false;
      for (const keyId of Object.keys(sigs)) {
        if (!keyId.startsWith('ed25519:')) continue;
        const key = this.keys.verifyKey(server, keyId);
        if (key && verifyEventSignature(pdu, server, keyId, key, version)) {
          verified = true;
          break;
        }
      }
      if (!verified) throw new Rejection(`bad or unverifiable signature from ${server}`);
    }
    if (!checkContentHash(pdu)) pdu = redactEvent(pdu, version);
    return { event: toRoomEvent(pdu, eventId, version, roomId), version };
  }

  /** Asks federation for auth events we do not have, and inputs them as outliers first. */
  private async fetchMissing(event: RoomEvent, input: InputEvent): Promise<void> {
    const missing = event.authEventIds.filter((id) => !this.store.event(id));
    if (missing.length === 0) return;
    const fetched = await this.fetcher.fetchEvents(event.roomId, missing, input.origin);
    for (const pdu of fetched) {
      await this.process({ kind: 'outlier', pdu, roomVersion: event.version.id, origin: input.origin });
    }
  }

  /** Prev events with state that we have. */
  private knownPrev(id: string): StoredEvent | undefined {
    const p = this.store.event(id);
    return p && p.stateSnapshotNid !== null && !p.isOutlier ? p : undefined;
  }

  /**
   * A live event whose prev events we lack: first ask its sender for the events in between
   * (/get_missing_events) and input them in order; if a gap remains, take the state at each
   * missing prev event from the sender (/state) and resolve it with the states we have.
   * Returns the state before the event in that second case.
   */
  private async fillPrevGap(event: RoomEvent, input: InputEvent, nested: number): Promise<NidState | undefined> {
    const room = this.store.room(event.roomId);
    if (!room || room.stateSnapshotNid === 0) return undefined;
    let missing = event.prevEventIds.filter((id) => !this.knownPrev(id));
    if (missing.length === 0) return undefined;
    if (nested === 0 && this.fetcher.missingEvents) {
      const latest = room.latestEventNids.map((n) => this.store.eventIdOf(n));
      const minDepth = Math.max(0, Math.min(...room.latestEventNids.map((n) => this.store.eventByNid(n).event.depth)) - 20);
      const pdus = await this.fetcher.missingEvents(event.roomId, latest, [event.eventId], 50, minDepth, input.origin).catch(() => []);
      const sorted = pdus.filter((p) => typeof p === 'object' && p !== null).sort((a, b) => (Number(a.depth) || 0) - (Number(b.depth) || 0));
      for (const pdu of sorted) {
        // The walk may run past what we have (it stops only at our extremities): skip those.
        if (this.storedFromPdu(pdu, event.version)) continue;
        await this.process({ kind: 'new', pdu, roomVersion: event.version.id, origin: input.origin }, undefined, nested + 1);
      }
      missing = event.prevEventIds.filter((id) => !this.knownPrev(id));
      if (missing.length === 0) return undefined;
    }
    if (!this.fetcher.stateAt) return undefined;
    const states: StateMap[] = [];
    for (const id of event.prevEventIds) {
      const known = this.knownPrev(id);
      if (known) {
        states.push(this.toStateMap(this.stateAfter(known)));
        continue;
      }
      const st = await this.fetcher.stateAt(event.roomId, id, input.origin).catch(() => undefined);
      if (!st) throw new Rejection(`missing prev event ${id} and no state for it`);
      for (const pdu of [...st.authChain, ...st.pdus]) {
        await this.process({ kind: 'outlier', pdu, roomVersion: event.version.id, origin: input.origin });
      }
      const map: StateMap = new Map();
      for (const pdu of st.pdus) {
        const ev = this.storedFromPdu(pdu, event.version);
        if (ev && ev.status !== EventStatus.Rejected && ev.event.stateKey !== undefined) map.set(mapKey(ev.event.type, ev.event.stateKey), ev.event.eventId);
      }
      // The state after the prev event includes the prev event itself when it is state.
      const [prevPdu] = await this.fetcher.fetchEvents(event.roomId, [id], input.origin).catch(() => []);
      if (prevPdu) {
        await this.process({ kind: 'outlier', pdu: prevPdu, roomVersion: event.version.id, origin: input.origin });
        const prev = this.storedFromPdu(prevPdu, event.version);
        if (prev && prev.event.eventId === id && prev.status !== EventStatus.Rejected && prev.event.stateKey !== undefined) {
          map.set(mapKey(prev.event.type, prev.event.stateKey), id);
        }
      }
      states.push(map);
    }
    const provider = {
      get: (eid: string) => this.store.event(eid)?.event,
      isRejected: (eid: string) => this.store.event(eid)?.status === EventStatus.Rejected,
    };
    return this.fromStateMap(states.length === 1 ? states[0]! : resolveState(event.version, states, provider));
  }

  /** The stored copy of an event given as wire JSON (by its computed id). */
  private storedFromPdu(pdu: PDUJson, version: RoomVersion): StoredEvent | undefined {
    try {
      const id = version.eventIdFormat === 'v1' ? pdu.event_id : computeEventId(pdu, version);
      return id ? this.store.event(id) : undefined;
    } catch {
      return undefined;
    }
  }

  private stateAfter(ev: StoredEvent): NidState {
    const before = this.store.state.load(ev.stateSnapshotNid ?? 0);
    if (ev.event.stateKey === undefined || ev.status !== EventStatus.Accepted) return before;
    const k = this.store.packedKey(ev.event.type, ev.event.stateKey, true)!;
    const after = new Map(before);
    after.set(k, ev.nid);
    return after;
  }

  private toStateMap(state: NidState): StateMap {
    const out: StateMap = new Map();
    for (const [k, nid] of state) {
      const [type, key] = this.store.stateKeyOf(k);
      out.set(mapKey(type, key), this.store.eventIdOf(nid));
    }
    return out;
  }

  /** State from event ids we have stored (a join's state); unknown ids are a rejection. */
  private fromIds(ids: string[]): NidState {
    const out = new Map<number, number>();
    for (const id of ids) {
      const ev = this.store.event(id);
      if (!ev) throw new Rejection(`state names unknown event ${id}`);
      if (ev.event.stateKey === undefined || ev.status === EventStatus.Rejected) continue;
      out.set(this.store.packedKey(ev.event.type, ev.event.stateKey, true)!, ev.nid);
    }
    return out;
  }

  private fromStateMap(map: StateMap): NidState {
    const out = new Map<number, number>();
    for (const id of map.values()) {
      const ev = this.store.event(id);
      if (!ev || ev.event.stateKey === undefined) throw new Error(`resolved state names unknown event ${id}`);
      out.set(this.store.packedKey(ev.event.type, ev.event.stateKey, true)!, ev.nid);
    }
    return out;
  }

  /** Resolves the states after several events into one (or takes the only one). */
  private resolve(version: RoomVersion, events: StoredEvent[]): NidState {
    if (events.length === 1) return this.stateAfter(events[0]!);
    const sets = events.map((e) => this.stateAfter(e));
    const first = sets[0]!;
    if (sets.every((s) => s === first)) return first;
    const provider = {
      get: (id: string) => this.store.event(id)?.event,
      isRejected: (id: string) => this.store.event(id)?.status === EventStatus.Rejected,
    };
    return this.fromStateMap(resolveState(version, sets.map((s) => this.toStateMap(s)), provider));
  }

  /** Steps 4–7 inside one transaction. */
  private storeEvent(
    event: RoomEvent,
    input: InputEvent,
    existing: StoredEvent | undefined,
    givenState?: NidState,
  ): { outcome: InputOutcome; outputs: Array<{ offset: number; entry: RoomOutput }> } {
    const version = event.version;
    const isCreate = event.type === 'm.room.create' && event.stateKey === '';
    let room = this.store.room(event.roomId);
    if (isCreate) {
      // The create event we hold as an outlier may come again as history (backfill).
      if (room && room.createEventNid !== 0 && existing?.nid !== room.createEventNid) throw new Rejection('room already exists');
      if (event.prevEventIds.length > 0 || event.authEventIds.length > 0) {
        // the auth rules say so too; checked here so no room row is made for it
        throw new Rejection('create event with prev or auth events');
      }
    }
    if (!room) {
      if (!isCreate && input.kind !== 'outlier') throw new Rejection('unknown room');
      room = this.store.createRoom(event.roomId, version);
    }
    const create = room.createEventNid ? this.store.eventByNid(room.createEventNid).event : undefined;

    // Auth against the event's own auth events.
    const authEvents: RoomEvent[] = [];
    for (const id of event.authEventIds) {
      const a = this.store.event(id);
      if (!a) throw new Rejection(`missing auth event ${id}`);
      if (a.status === EventStatus.Rejected) return this.reject(room, event, input, existing, null, `auth event ${id} was rejected`);
      if (a.event.roomId !== event.roomId) throw new Rejection(`auth event ${id} is in another room`);
      authEvents.push(a.event);
    }
    const selection = checkAuthEventsSelection(event, authEvents, (id) => this.store.event(id)?.status === EventStatus.Rejected);
    if (!selection.allowed) return this.reject(room, event, input, existing, null, selection.reason);
    const authMap = new Map<string, RoomEvent>(authEvents.map((a) => [mapKey(a.type, a.stateKey ?? ''), a]));
    const byAuthEvents = checkAuth(event, {
      get: (t, k) => authMap.get(mapKey(t, k)) ?? (t === 'm.room.create' && k === '' ? create : undefined),
    });
    if (!byAuthEvents.allowed) return this.reject(room, event, input, existing, null, `${byAuthEvents.rule}: ${byAuthEvents.reason}`);

    if (input.kind === 'outlier') {
      const nid = this.store.insertEvent(room.roomNid, event, null, EventStatus.Accepted, true, null);
      if (isCreate) this.setCreate(room, nid);
      return { outcome: { status: 'accepted', eventId: event.eventId }, outputs: [] };
    }

    if (input.kind === 'old') {
      // Backfilled history: checked against its own auth events (its prev events are older
      // still, usually unknown), stored without state, and handed to readers as history.
      if (existing) this.store.promoteOutlier(existing.nid, event.eventId, null, EventStatus.Accepted, null);
      else this.store.insertEvent(room.roomNid, event, null, EventStatus.Accepted, false, null);
      const outputs: Array<{ offset: number; entry: RoomOutput }> = [];
      this.emit(
        room,
        { type: 'old_room_event', roomId: room.roomId, roomVersion: version.id, eventId: event.eventId, event: event.json, prevOutputOffset: room.lastOutputOffset },
        outputs,
      );
      this.store.updateRoom(room);
      return { outcome: { status: 'accepted', eventId: event.eventId }, outputs };
    }

    // The state before the event: given (a join's state, a gap we filled), or from its prev events.
    const prevs: StoredEvent[] = [];
    let before: NidState;
    if (input.stateEventIds || givenState) {
      before = givenState ?? this.fromIds(input.stateEventIds!);
    } else {
      for (const id of event.prevEventIds) {
        const p = this.knownPrev(id);
        if (!p) throw new Rejection(`missing prev event ${id}`);
        prevs.push(p);
      }
      before = prevs.length === 0 ? new Map() : this.resolve(version, prevs);
    }
    const byState = checkAuth(event, authStateOf(this.store, before, create));
    const baseSnapshot = prevs.length === 1 ? prevs[0]!.stateSnapshotNid! : room.stateSnapshotNid;
    const snapshot = this.store.state.store(room.roomNid, baseSnapshot, before);
    if (!byState.allowed) return this.reject(room, event, input, existing, snapshot, `${byState.rule}: ${byState.reason}`);

    // Soft fail: a live event that the current state no longer allows is kept out of the room.
    // (When the state before it is the current state, as for an event built on the latest
    // ones, the answer is the one just given.)
    if (input.kind === 'new' && room.stateSnapshotNid !== 0 && !isCreate && snapshot !== room.stateSnapshotNid) {
      const current = this.store.state.load(room.stateSnapshotNid);
      const byCurrent = checkAuth(event, authStateOf(this.store, current, create));
      if (!byCurrent.allowed) {
        const reason = `${byCurrent.rule}: ${byCurrent.reason}`;
        this.write(room, event, existing, snapshot, EventStatus.SoftFailed, reason);
        return { outcome: { status: 'soft_failed', eventId: event.eventId, reason }, outputs: [] };
      }
    }

    const nid = this.write(room, event, existing, snapshot, EventStatus.Accepted, null);
    if (isCreate) this.setCreate(room, nid);
    const stored = this.store.event(event.eventId)!;
    const outputs: Array<{ offset: number; entry: RoomOutput }> = [];

    // Forward extremities and the new current state.
    const prevSet = new Set(event.prevEventIds);
    const oldLatest = room.latestEventNids;
    const latest = oldLatest.filter((n) => !prevSet.has(this.store.eventIdOf(n)));
    const allConsumed = latest.length === 0;
    if (!this.store.isReferenced(event.eventId)) latest.push(nid);
    const oldCurrent = this.store.state.load(room.stateSnapshotNid);
    const newCurrent =
      allConsumed && latest.length === 1 && latest[0] === nid
        ? this.stateAfter(stored)
        : this.resolve(version, latest.map((n) => this.store.eventByNid(n)));
    const adds: string[] = [];
    const removes: string[] = [];
    for (const [k, e] of newCurrent) {
      const old = oldCurrent.get(k);
      if (old !== e) {
        adds.push(this.store.eventIdOf(e));
        if (old !== undefined) removes.push(this.store.eventIdOf(old));
      }
    }
    for (const [k, e] of oldCurrent) if (!newCurrent.has(k)) removes.push(this.store.eventIdOf(e));
    room.stateSnapshotNid = this.store.state.store(room.roomNid, snapshot, newCurrent);
    room.latestEventNids = latest;
    for (const id of adds) {
      const s = this.store.event(id)!;
      if (s.event.type === 'm.room.member' && s.event.stateKey !== undefined) {
        const m = s.event.content.membership;
        this.store.setMembership(room.roomNid, s.event.stateKey, typeof m === 'string' ? m : 'leave', s.nid);
      }
    }
    this.emit(
      room,
      {
        type: 'new_room_event',
        roomId: room.roomId,
        roomVersion: version.id,
        eventId: event.eventId,
        event: event.json,
        addsStateEventIds: adds,
        removesStateEventIds: removes,
        latestEventIds: latest.map((n) => this.store.eventIdOf(n)),
        prevOutputOffset: room.lastOutputOffset,
        ...(input.transaction ? { transaction: input.transaction } : {}),
      },
      outputs,
    );
    if (event.type === 'm.room.redaction' && event.redacts) this.applyRedaction(room, event, newCurrent, create, outputs);
    this.store.updateRoom(room);
    return { outcome: { status: 'accepted', eventId: event.eventId }, outputs };
  }

  /** Applies a redaction whose target we have, per "handling redactions" (v3+; v1–2 auth
   * already checked it): the sender may redact at the redact level, or the target is from
   * the same server. */
  private applyRedaction(
    room: RoomRow,
    redaction: RoomEvent,
    current: NidState,
    create: RoomEvent | undefined,
    outputs: Array<{ offset: number; entry: RoomOutput }>,
  ): void {
    const target = this.store.event(redaction.redacts!);
    if (!target || target.event.roomId !== room.roomId || target.redactedBy) return;
    const state = authStateOf(this.store, current, create);
    const pl = state.get('m.room.power_levels', '')?.content.redact;
    const redactLevel = typeof pl === 'number' ? pl : typeof pl === 'string' && /^\s*[+-]?\d+\s*$/.test(pl) ? Number(pl) : 50;
    const allowed = userPowerLevel(redaction.sender, state) >= redactLevel || serverOf(redaction.sender) === serverOf(target.event.sender);
    if (!allowed) return;
    this.store.setRedactedBy(target.nid, target.event.eventId, redaction.eventId);
    this.emit(
      room,
      { type: 'redacted_event', roomId: room.roomId, redactedEventId: target.event.eventId, redactionEventId: redaction.eventId, prevOutputOffset: room.lastOutputOffset },
      outputs,
    );
  }

  private emit(room: RoomRow, entry: RoomOutput, outputs: Array<{ offset: number; entry: RoomOutput }>): void {
    const offset = this.store.insertOutput(room.roomId, entry);
    room.lastOutputOffset = offset;
    outputs.push({ offset, entry });
  }

  private setCreate(room: RoomRow, nid: number): void {
    room.createEventNid = nid;
    this.store.updateRoom(room);
  }

  private write(room: RoomRow, event: RoomEvent, existing: StoredEvent | undefined, snapshot: number | null, status: EventStatus, reason: string | null): number {
    if (existing) {
      this.store.promoteOutlier(existing.nid, event.eventId, snapshot, status, reason);
      return existing.nid;
    }
    return this.store.insertEvent(room.roomNid, event, snapshot, status, false, reason);
  }

  /** Stores a rejected event (so it is never processed again and state res can see it). */
  private reject(
    room: RoomRow,
    event: RoomEvent,
    input: InputEvent,
    existing: StoredEvent | undefined,
    snapshot: number | null,
    reason: string,
  ): { outcome: InputOutcome; outputs: [] } {
    if (existing) this.store.promoteOutlier(existing.nid, event.eventId, snapshot, EventStatus.Rejected, reason);
    else this.store.insertEvent(room.roomNid, event, snapshot, EventStatus.Rejected, input.kind === 'outlier' || snapshot === null, reason);
    this.logger.debug({ room_id: room.roomId, event_id: event.eventId, reason }, 'event rejected');
    return { outcome: { status: 'rejected', eventId: event.eventId, reason }, outputs: [] };
  }
}
