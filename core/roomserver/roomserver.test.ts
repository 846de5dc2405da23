import { afterEach, describe, expect, it } from 'vitest';
import { encodeBase64Url } from '../crypto/index.js';
import { buildEvent, referenceHash } from '../events/index.js';
import { getRoomVersion, ROOM_VERSIONS } from '../events/roomversions.js';
import type { JsonObject, PDUJson, RoomEvent } from '../events/types.js';
import { serverNameKeys, testServer, testStorage, tmpDir, type TestServer } from '../test/fixtures.js';
import type { Db } from '../db/index.js';
import type { Log } from '../log/index.js';
import { ROOM_OUTPUT_TOPIC, type RoomOutput } from './api.js';
import { NO_FETCHER, Roomserver } from './index.js';

const opened: Array<{ db: Db; log: Log }> = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.log.close();
    o.db.close();
  }
});

function newRoomserver(dir = tmpDir(), server: TestServer = testServer()) {
  const { db, log, logger } = testStorage(dir);
  opened.push({ db, log });
  const rs = new Roomserver({ db, log, logger, serverName: server.name, signingKey: server.key, keys: serverNameKeys, fetcher: NO_FETCHER });
  return { rs, db, log, dir, server };
}

/** Builds a signed event from `server` on top of the given prev events, choosing auth events
 * from the room server's current state, as a remote server would. */
function remoteEvent(
  rs: Roomserver,
  server: TestServer,
  roomId: string,
  fields: { type: string; stateKey?: string; sender: string; content: JsonObject; prevEvents?: string[]; authEvents?: string[]; depth?: number },
): { pdu: PDUJson; event: RoomEvent } {
  const info = rs.roomInfo(roomId)!;
  const version = getRoomVersion(info.version)!;
  const latest = rs.latestEvents(roomId);
  const state = rs.currentState(roomId);
  const find = (t: string, k: string) => state.find((e) => e.type === t && e.stateKey === k)?.eventId;
  const auth =
    fields.authEvents ??
    [
      version.roomIdFromCreate ? undefined : find('m.room.create', ''),
      find('m.room.power_levels', ''),
      find('m.room.member', fields.sender),
      fields.type === 'm.room.member' && fields.stateKey !== fields.sender ? find('m.room.member', fields.stateKey!) : undefined,
      fields.type === 'm.room.member' ? find('m.room.join_rules', '') : undefined,
    ].filter((x): x is string => x !== undefined);
  return buildEvent(
    {
      version,
      roomId,
      type: fields.type,
      stateKey: fields.stateKey,
      sender: fields.sender,
      content: fields.content,
      prevEvents: fields.prevEvents ?? latest.eventIds,
      authEvents: [...new Set(auth)],
      depth: fields.depth ?? latest.depth,
    },
    server.name,
    server.key,
    (id) => rs.eventsByIds([id])[0]?.json,
  );
}

describe('room creation in every room version', () => {
  it.each([...ROOM_VERSIONS.keys()])('creates a room in version %s with the right ids and state', async (v) => {
    const { rs, server } = newRoomserver();
    const alice = server.user('alice');
    const { roomId } = await rs.createRoom({ creator: alice, roomVersion: v, preset: 'public_chat', name: 'Room', topic: 'Topic' });
    const info = rs.roomInfo(roomId)!;
    expect(info.version).toBe(v);
    const version = getRoomVersion(v)!;
    const create = rs.eventsByIds([info.createEventId])[0]!;
    if (version.eventIdFormat === 'v1') expect(info.createEventId).toMatch(new RegExp(`^\\$[^:]+:${server.name}$`));
    if (version.eventIdFormat === 'v3') expect(info.createEventId).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
    if (version.eventIdFormat === 'v4') expect(info.createEventId).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
    if (version.roomIdFromCreate) {
      expect(roomId).toBe(`!${encodeBase64Url(referenceHash(create.json, version))}`);
      expect(create.json.room_id).toBeUndefined();
    } else {
      expect(roomId).toMatch(new RegExp(`^![^:]+:${server.name}$`));
    }
    const state = rs.currentState(roomId);
    const types = state.map((e) => `${e.type}|${e.stateKey}`).sort();
    expect(types).toEqual(
      [
        'm.room.create|',
        `m.room.member|${alice}`,
        'm.room.power_levels|',
        'm.room.join_rules|',
        'm.room.history_visibility|',
        'm.room.guest_access|',
        'm.room.name|',
        'm.room.topic|',
      ].sort(),
    );
    expect(rs.membership(roomId, alice)?.membership).toBe('join');
    expect(rs.joinedMembers(roomId)).toEqual([alice]);
    const pl = state.find((e) => e.type === 'm.room.power_levels')!;
    if (version.privilegedCreators) expect((pl.content.users as JsonObject)[alice]).toBeUndefined();
    else expect((pl.content.users as JsonObject)[alice]).toBe(100);
    expect(rs.latestEvents(roomId).eventIds).toHaveLength(1);
  });
});

describe('input pipeline', () => {
  it('chains local events, publishes room.output with state deltas', async () => {
    const { rs, log, server } = newRoomserver();
    const alice = server.user('alice');
    const seen: RoomOutput[] = [];
    log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, { name: 'test', fromOffset: 0, handle: (msgs) => void seen.push(...msgs.map((m) => m.value)) });
    const { roomId } = await rs.createRoom({ creator: alice });
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { eventId } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: `hi ${i}` } });
      ids.push(eventId);
    }
    const latest = rs.latestEvents(roomId);
    expect(latest.eventIds).toEqual([ids[19]]);
    const last = rs.eventsByIds([ids[19]!])[0]!;
    expect(last.prevEventIds).toEqual([ids[18]]);
    const { eventId: topicId } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.topic', stateKey: '', content: { topic: 'new' } });
    await log.drain();
    const topicOut = seen.find((o) => o.type === 'new_room_event' && o.eventId === topicId);
    expect(topicOut).toMatchObject({ addsStateEventIds: [topicId] });
    const msgs = seen.filter((o) => o.type === 'new_room_event' && o.event.type === 'm.room.message');
    expect(msgs).toHaveLength(20);
    expect(msgs.every((o) => o.type === 'new_room_event' && o.addsStateEventIds.length === 0)).toBe(true);
  });

  it('refuses a local event that auth forbids, with M_FORBIDDEN', async () => {
    const { rs, server } = newRoomserver();
    const { roomId } = await rs.createRoom({ creator: server.user('alice') });
    await expect(rs.sendEvent({ roomId, sender: server.user('bob'), type: 'm.room.message', content: { body: 'x' } })).rejects.toMatchObject({
      errcode: 'M_FORBIDDEN',
    });
  });

  it('accepts remote joins and messages, resolves forks, and soft-fails events the current state forbids', async () => {
    const { rs, server } = newRoomserver();
    const remote = testServer();
    const alice = server.user('alice');
    const bob = remote.user('bob');
    const { roomId } = await rs.createRoom({ creator: alice, preset: 'public_chat', roomVersion: '10' });
    const join = remoteEvent(rs, remote, roomId, { type: 'm.room.member', stateKey: bob, sender: bob, content: { membership: 'join' } });
    expect(await rs.inputEvent({ kind: 'new', pdu: join.pdu })).toEqual({ status: 'accepted', eventId: join.event.eventId });
    expect(rs.joinedServers(roomId)).toEqual([server.name, remote.name].sort());

    // A fork: bob and alice both send on top of the join.
    const base = rs.latestEvents(roomId);
    const bobMsg = remoteEvent(rs, remote, roomId, { type: 'm.room.message', sender: bob, content: { body: 'from bob' } });
    const { eventId: aliceMsg } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: 'from alice' } });
    expect(await rs.inputEvent({ kind: 'new', pdu: bobMsg.pdu })).toMatchObject({ status: 'accepted' });
    expect(bobMsg.event.prevEventIds).toEqual(base.eventIds);
    expect(new Set(rs.latestEvents(roomId).eventIds)).toEqual(new Set([aliceMsg, bobMsg.event.eventId]));
    const { eventId: merge } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: 'merge' } });
    expect(rs.latestEvents(roomId).eventIds).toEqual([merge]);

    // Alice bans bob; bob's event built on the state before the ban is soft-failed.
    const beforeBan = rs.latestEvents(roomId);
    await rs.sendEvent({ roomId, sender: alice, type: 'm.room.member', stateKey: bob, content: { membership: 'ban' } });
    const late = remoteEvent(rs, remote, roomId, {
      type: 'm.room.message',
      sender: bob,
      content: { body: 'sneaky' },
      prevEvents: beforeBan.eventIds,
      depth: beforeBan.depth,
      authEvents: rs
        .stateAfterEvent(merge)!
        .filter((e) => e.type === 'm.room.create' || e.type === 'm.room.power_levels' || (e.type === 'm.room.member' && e.stateKey === bob))
        .map((e) => e.eventId),
    });
    const outcome = await rs.inputEvent({ kind: 'new', pdu: late.pdu });
    expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 'soft_failed' });
    expect(rs.latestEvents(roomId).eventIds).not.toContain(late.event.eventId);
    expect(rs.membership(roomId, bob)?.membership).toBe('ban');
  });

  it('rejects bad input with a reason and keeps the room queue running', async () => {
    const { rs, server } = newRoomserver();
    const remote = testServer();
    const alice = server.user('alice');
    const bob = remote.user('bob');
    const { roomId } = await rs.createRoom({ creator: alice, preset: 'public_chat', roomVersion: '10' });
    const join = remoteEvent(rs, remote, roomId, { type: 'm.room.member', stateKey: bob, sender: bob, content: { membership: 'join' } });
    await rs.inputEvent({ kind: 'new', pdu: join.pdu });

    const cases: Array<[string, PDUJson | unknown, RegExp]> = [];
    const big = remoteEvent(rs, remote, roomId, { type: 'm.room.message', sender: bob, content: { body: 'x'.repeat(70_000) } });
    cases.push(['over 65,536 bytes', big.pdu, /65536|too large|size/i]);
    const ok = remoteEvent(rs, remote, roomId, { type: 'm.room.message', sender: bob, content: { body: 'fine' } });
    const badSig = structuredClone(ok.pdu);
    const sigs = badSig.signatures[remote.name]!;
    const kid = Object.keys(sigs)[0]!;
    sigs[kid] = sigs[kid]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    cases.push(['bad signature', badSig, /signature/i]);
    const missingAuth = remoteEvent(rs, remote, roomId, {
      type: 'm.room.message',
      sender: bob,
      content: { body: 'x' },
      authEvents: [`$${'A'.repeat(43)}`],
    });
    cases.push(['missing auth events', missingAuth.pdu, /missing auth event/i]);
    const otherRoom = structuredClone(ok.pdu);
    otherRoom.room_id = `!nope:${remote.name}`;
    cases.push(['unknown room', otherRoom, /unknown room/i]);
    cases.push(['not an object', 'hello', /not an object/i]);
    cases.push(['wrong field types', { ...ok.pdu, depth: 'deep' }, /invalid event/i]);

    for (const [name, pdu, reason] of cases) {
      const outcome = await rs.inputEvent({ kind: 'new', pdu: pdu as PDUJson });
      expect(outcome.status, name).toBe('rejected');
      expect(outcome.status === 'rejected' && outcome.reason, name).toMatch(reason);
    }
    expect(await rs.inputEvent({ kind: 'new', pdu: ok.pdu })).toMatchObject({ status: 'accepted' });
  });

  it('stringy power levels: rejected in v10, accepted in v9', async () => {
    for (const [v, expected] of [['10', 'rejected'], ['9', 'accepted']] as const) {
      const { rs, server } = newRoomserver();
      const alice = server.user('alice');
      const { roomId } = await rs.createRoom({ creator: alice, roomVersion: v });
      const pl = rs.currentStateEvent(roomId, 'm.room.power_levels', '')!;
      const content = { ...pl.content, users: { [alice]: '100' } } as JsonObject;
      const ev = remoteEvent(rs, server, roomId, { type: 'm.room.power_levels', stateKey: '', sender: alice, content });
      const outcome = await rs.inputEvent({ kind: 'new', pdu: ev.pdu });
      expect(outcome.status, `v${v}`).toBe(expected);
    }
  });

  it('applies redactions', async () => {
    const { rs, log, server } = newRoomserver();
    const alice = server.user('alice');
    const seen: RoomOutput[] = [];
    log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, { name: 'test', fromOffset: 0, handle: (msgs) => void seen.push(...msgs.map((m) => m.value)) });
    const { roomId } = await rs.createRoom({ creator: alice });
    const { eventId } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: 'oops' } });
    const { eventId: redaction } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.redaction', content: { redacts: eventId }, redacts: eventId });
    await log.drain();
    expect(seen).toContainEqual(expect.objectContaining({ type: 'redacted_event', redactedEventId: eventId, redactionEventId: redaction }));
  });
});

describe('forward extremities', () => {
  it('an event stored after one that refers to it is not an extremity; references to stored events need no record', async () => {
    const { rs, db, server } = newRoomserver();
    const alice = server.user('alice');
    const remote = testServer();
    const bob = remote.user('bob');
    const { roomId } = await rs.createRoom({ creator: alice, preset: 'public_chat' });
    const join = remoteEvent(rs, remote, roomId, { type: 'm.room.member', stateKey: bob, sender: bob, content: { membership: 'join' } });
    expect((await rs.inputEvent({ kind: 'new', pdu: join.pdu })).status).toBe('accepted');
    // B arrives before A, its prev event, with the state before it given (a gap).
    const a = remoteEvent(rs, remote, roomId, { type: 'm.room.message', sender: bob, content: { body: 'a' } });
    const b = remoteEvent(rs, remote, roomId, { type: 'm.room.message', sender: bob, content: { body: 'b' }, prevEvents: [a.event.eventId], depth: a.event.depth + 1 });
    const stateIds = rs.currentState(roomId).map((e) => e.eventId);
    expect((await rs.inputEvent({ kind: 'new', pdu: b.pdu, stateEventIds: stateIds })).status).toBe('accepted');
    expect((await rs.inputEvent({ kind: 'new', pdu: a.pdu })).status).toBe('accepted');
    expect(rs.latestEvents(roomId).eventIds).toEqual([b.event.eventId]);

    // Local sends refer to stored events only: nothing to record for them.
    const { eventId: m1 } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: '1' } });
    const { eventId: m2 } = await rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: '2' } });
    expect(rs.latestEvents(roomId).eventIds).toEqual([m2]);
    const refs = db.raw.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM rs_prev_events WHERE prev_event_id = ?');
    expect(refs.get(m1)!.n).toBe(0);
    expect(refs.get(a.event.eventId)!.n).toBe(1);
  });
});

describe('restart', () => {
  it('replays its output from storage with each event whole, though a stored entry names its event by number', async () => {
    const dir = tmpDir();
    const first = newRoomserver(dir);
    const alice = first.server.user('alice');
    const live: RoomOutput[] = [];
    first.log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, { name: 'live', fromOffset: 0, handle: (msgs) => void live.push(...msgs.map((m) => m.value)) });
    const { roomId } = await first.rs.createRoom({ creator: alice, preset: 'public_chat' });
    const { eventId } = await first.rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: 'kept whole' } });
    await first.log.drain();
    const raw = first.db.raw.prepare<[], { entry: string }>('SELECT entry FROM rs_output').all();
    expect(raw.some((r) => r.entry.includes('kept whole'))).toBe(false);
    await first.log.close();
    first.db.close();
    opened.length = 0;

    const second = newRoomserver(dir, first.server);
    const replayed: RoomOutput[] = [];
    second.log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, { name: 'late', fromOffset: 0, handle: (msgs) => void replayed.push(...msgs.map((m) => m.value)) });
    await second.log.drain();
    expect(replayed).toEqual(live);
    expect(replayed.find((o) => o.type === 'new_room_event' && o.eventId === eventId)).toMatchObject({ event: { content: { body: 'kept whole' } } });
  });

  it('keeps current state, extremities and the state at every event', async () => {
    const dir = tmpDir();
    const first = newRoomserver(dir);
    const alice = first.server.user('alice');
    const remote = testServer();
    const bob = remote.user('bob');
    const { roomId } = await first.rs.createRoom({ creator: alice, preset: 'public_chat', name: 'n' });
    const join = remoteEvent(first.rs, remote, roomId, { type: 'm.room.member', stateKey: bob, sender: bob, content: { membership: 'join' } });
    await first.rs.inputEvent({ kind: 'new', pdu: join.pdu });
    const fork = remoteEvent(first.rs, remote, roomId, { type: 'm.room.message', sender: bob, content: { body: 'fork' } });
    await first.rs.sendEvent({ roomId, sender: alice, type: 'm.room.name', stateKey: '', content: { name: 'alice' } });
    const forkOutcome = await first.rs.inputEvent({ kind: 'new', pdu: fork.pdu });
    expect(forkOutcome.status).not.toBe('rejected');
    for (let i = 0; i < 5; i++) await first.rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: String(i) } });

    const snapshot = (rs: Roomserver) => {
      const ids = rs.missingEvents(roomId, [], rs.latestEvents(roomId).eventIds, 1000, 0).map((e) => e.eventId);
      ids.push(...rs.latestEvents(roomId).eventIds);
      return {
        current: rs.currentState(roomId).map((e) => e.eventId).sort(),
        latest: rs.latestEvents(roomId),
        perEvent: Object.fromEntries(ids.map((id) => [id, rs.stateBeforeEvent(id)?.map((e) => e.eventId).sort()])),
        members: rs.joinedMembers(roomId),
      };
    };
    const before = snapshot(first.rs);
    expect(Object.keys(before.perEvent).length).toBeGreaterThan(10);
    await first.log.close();
    first.db.close();
    opened.length = 0;

    const second = newRoomserver(dir, first.server);
    expect(snapshot(second.rs)).toEqual(before);
  });
});
