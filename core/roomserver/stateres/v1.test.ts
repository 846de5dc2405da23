import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { stateKey, type RoomEvent } from '../../events/types.js';
import { resolveAuthConflictV1, resolveNormalConflictV1, resolveV1 } from './v1.js';
import { ALICE, BOB, DagBuilder } from './testutil.js';

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

/** A v1 room: alice (100) and bob (0) joined; `resolved` is its state as events. */
function room() {
  const d = new DagBuilder('1');
  const create = d.add('CREATE', { type: 'm.room.create', sender: ALICE, stateKey: '', content: d.createContent(ALICE) }, [], []);
  const ma = d.add('MA', { type: 'm.room.member', sender: ALICE, stateKey: ALICE, content: { membership: 'join' } }, [create.eventId], [create.eventId]);
  const pl = d.add('PL', { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100 } } }, [ma.eventId], [create.eventId, ma.eventId]);
  const mb = d.add('MB', { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' } }, [pl.eventId], [create.eventId]);
  const resolved = new Map<string, RoomEvent>();
  for (const ev of [create, ma, pl, mb]) resolved.set(stateKey(ev.type, ev.stateKey!), ev);
  const at = (node: string, sender: string, type: string, content: Record<string, string | Record<string, number>>, depthOf: RoomEvent) =>
    d.add(node, { type, sender, stateKey: '', content }, [depthOf.eventId], []);
  return { d, resolved, pl, mb, at };
}
const POWER = stateKey('m.room.power_levels', '');

describe('resolveAuthConflictV1', () => {
  test('starts from the shallowest and takes each next event while it is allowed', () => {
    const { resolved, pl, at } = room();
    const p1 = at('P1', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100, [BOB]: 50 } }, pl);
    const p2 = at('P2', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100, [BOB]: 100 } }, p1);
    expect(resolveAuthConflictV1(POWER, [p2, p1], resolved).eventId).toBe(p2.eventId);
  });

  test('stops at the first event that is not allowed', () => {
    const { resolved, pl, at } = room();
    const p1 = at('P1', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100 } }, pl);
    const byBob = at('PBOB', BOB, 'm.room.power_levels', { users: { [BOB]: 100 } }, p1);
    const p3 = at('P3', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100, [BOB]: 10 } }, byBob);
    expect(resolveAuthConflictV1(POWER, [p3, byBob, p1], resolved).eventId).toBe(p1.eventId);
  });

  test('at equal depth, the larger sha1(event_id) goes first', () => {
    const { resolved, pl, at } = room();
    const x = at('X', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100 } }, pl);
    const y = at('Y', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100 } }, pl);
    expect(x.depth).toBe(y.depth);
    // Both are allowed, so the one sorted last wins: the smaller sha1.
    const smaller = sha1(x.eventId) < sha1(y.eventId) ? x : y;
    expect(resolveAuthConflictV1(POWER, [x, y], resolved).eventId).toBe(smaller.eventId);
    expect(resolveAuthConflictV1(POWER, [y, x], resolved).eventId).toBe(smaller.eventId);
  });
});

describe('resolveNormalConflictV1', () => {
  test('takes the deepest event that is allowed', () => {
    const { resolved, pl, at } = room();
    const t1 = at('T1', ALICE, 'm.room.topic', { topic: 'a' }, pl);
    const t2 = at('T2', ALICE, 'm.room.topic', { topic: 'b' }, t1);
    const t3 = at('T3', BOB, 'm.room.topic', { topic: 'c' }, t2);
    expect(resolveNormalConflictV1([t1, t3, t2], resolved).eventId).toBe(t2.eventId);
  });

  test('when none is allowed, takes the shallowest', () => {
    const { resolved, pl, at } = room();
    const t1 = at('T1', BOB, 'm.room.topic', { topic: 'a' }, pl);
    const t2 = at('T2', BOB, 'm.room.topic', { topic: 'b' }, t1);
    expect(resolveNormalConflictV1([t2, t1], resolved).eventId).toBe(t1.eventId);
  });
});

describe('resolveV1', () => {
  test('resolves power levels before the events that depend on them', () => {
    const { d, pl, at } = room();
    const base = d.stateOf(['CREATE', 'MA', 'PL', 'MB']);
    const promote = at('PROMOTE', ALICE, 'm.room.power_levels', { users: { [ALICE]: 100, [BOB]: 50 } }, pl);
    const topic = at('TOPIC', BOB, 'm.room.topic', { topic: 'bob' }, promote);
    const old = at('OLD', ALICE, 'm.room.topic', { topic: 'alice' }, pl);
    const a = new Map(base).set(POWER, promote.eventId).set(stateKey('m.room.topic', ''), topic.eventId);
    const b = new Map(base).set(stateKey('m.room.topic', ''), old.eventId);
    const resolved = resolveV1([a, b], d.provider());
    expect(resolved.get(POWER)).toBe(promote.eventId);
    expect(resolved.get(stateKey('m.room.topic', ''))).toBe(topic.eventId);
  });

  test('keeps keys only some sets have, and drops conflicting events the provider does not know', () => {
    const { d, pl, at } = room();
    const base = d.stateOf(['CREATE', 'MA', 'PL', 'MB']);
    const name = at('NAME', ALICE, 'm.room.name', { name: 'n' }, pl);
    const t = at('T', ALICE, 'm.room.topic', { topic: 't' }, pl);
    const a = new Map(base).set(stateKey('m.room.name', ''), name.eventId).set(stateKey('m.room.topic', ''), t.eventId);
    const b = new Map(base).set(stateKey('m.room.topic', ''), '$unknown:example.com');
    const resolved = resolveV1([a, b], d.provider());
    expect(resolved.get(stateKey('m.room.name', ''))).toBe(name.eventId);
    expect(resolved.get(stateKey('m.room.topic', ''))).toBe(t.eventId);
  });
});
