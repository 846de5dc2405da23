import { describe, expect, test } from 'vitest';
import type { JsonObject } from '../../events/types.js';
import { compareCodePoints } from './compare.js';
import { EventGraph } from './eventgraph.js';
import { isPowerEvent, lexicographicalTopologicalSort, reverseTopologicalPowerOrder, senderPowerLevel } from './powerorder.js';
import { ALICE, BOB, CHARLIE, DagBuilder } from './testutil.js';

describe('lexicographicalTopologicalSort', () => {
  test('emits cited nodes first and the smallest candidate at each step', () => {
    const graph = new Map<string, string[]>([
      ['l', ['o']],
      ['m', ['n', 'o']],
      ['n', ['o']],
      ['o', []],
      ['p', ['o']],
    ]);
    expect(lexicographicalTopologicalSort(graph, compareCodePoints)).toEqual(['o', 'l', 'n', 'm', 'p']);
  });

  test('ignores edges to nodes outside the graph and leaves out cycles', () => {
    const graph = new Map<string, string[]>([
      ['a', ['outside']],
      ['b', ['c']],
      ['c', ['b']],
      ['d', ['a', 'a']],
    ]);
    expect(lexicographicalTopologicalSort(graph, compareCodePoints)).toEqual(['a', 'd']);
  });
});

describe('isPowerEvent', () => {
  const d = new DagBuilder('10');
  const ev = (node: string, type: string, sender: string, key: string | undefined, content: JsonObject = {}) =>
    d.add(node, { type, sender, stateKey: key, content }, [], []);

  test.each([
    ['power levels', ev('P', 'm.room.power_levels', ALICE, ''), true],
    ['join rules', ev('J', 'm.room.join_rules', ALICE, ''), true],
    ['create', ev('C', 'm.room.create', ALICE, ''), true],
    ['a kick', ev('K', 'm.room.member', ALICE, BOB, { membership: 'leave' }), true],
    ['a ban', ev('B', 'm.room.member', ALICE, BOB, { membership: 'ban' }), true],
    ['leaving oneself', ev('L', 'm.room.member', BOB, BOB, { membership: 'leave' }), false],
    ['a join', ev('M', 'm.room.member', BOB, BOB, { membership: 'join' }), false],
    ['an invite', ev('I', 'm.room.member', ALICE, BOB, { membership: 'invite' }), false],
    ['a topic', ev('T', 'm.room.topic', ALICE, ''), false],
    ['power levels with a state key', ev('PX', 'm.room.power_levels', ALICE, 'x'), false],
    ['a message typed like power levels', ev('PM', 'm.room.power_levels', ALICE, undefined), false],
  ])('%s → %s', (_name, event, expected) => {
    expect(isPowerEvent(event)).toBe(expected);
  });
});

describe('senderPowerLevel', () => {
  test('reads the power levels among the auth events, then users_default', () => {
    const d = new DagBuilder('10');
    const create = d.add('C', { type: 'm.room.create', sender: ALICE, stateKey: '', content: d.createContent(ALICE) }, [], []);
    const pl = d.add('P', { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [BOB]: 42 }, users_default: 7 } }, [], [create.eventId]);
    const graph = new EventGraph(d.provider());
    const by = (node: string, sender: string) => d.add(node, { type: 'm.room.topic', sender, stateKey: '' }, [], [create.eventId, pl.eventId]);
    expect(senderPowerLevel(by('T1', BOB), graph)).toBe(42);
    expect(senderPowerLevel(by('T2', CHARLIE), graph)).toBe(7);
    // With power levels cited, the creator has what they list: nothing here.
    expect(senderPowerLevel(by('T3', ALICE), graph)).toBe(7);
  });

  test('without power levels the creator has 100 and others 0', () => {
    const d = new DagBuilder('10');
    const create = d.add('C', { type: 'm.room.create', sender: ALICE, stateKey: '', content: d.createContent(ALICE) }, [], []);
    const graph = new EventGraph(d.provider());
    expect(senderPowerLevel(d.add('A', { type: 'm.room.member', sender: ALICE, stateKey: ALICE }, [], [create.eventId]), graph)).toBe(100);
    expect(senderPowerLevel(d.add('B', { type: 'm.room.member', sender: BOB, stateKey: BOB }, [], [create.eventId]), graph)).toBe(0);
  });

  test('v12 creators have infinite power, found through the room id', () => {
    const d = new DagBuilder('12');
    d.add('CREATE', { type: 'm.room.create', sender: ALICE, stateKey: '', content: { room_version: '12', additional_creators: [CHARLIE] } }, [], []);
    const pl = d.add('P', { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [BOB]: 50 } } }, [], []);
    const graph = new EventGraph(d.provider());
    const by = (node: string, sender: string) => d.add(node, { type: 'm.room.topic', sender, stateKey: '' }, [], [pl.eventId]);
    expect(senderPowerLevel(by('T1', ALICE), graph)).toBe(Infinity);
    expect(senderPowerLevel(by('T2', CHARLIE), graph)).toBe(Infinity);
    expect(senderPowerLevel(by('T3', BOB), graph)).toBe(50);
  });
});

describe('reverseTopologicalPowerOrder', () => {
  /** A v10 room where alice is at 100, bob at 50 and charlie at 0. */
  function room() {
    const d = new DagBuilder('10');
    const create = d.add('CREATE', { type: 'm.room.create', sender: ALICE, stateKey: '', content: d.createContent(ALICE) }, [], []);
    const pl = d.add('PL', { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } }, [], [create.eventId]);
    const auth = [create.eventId, pl.eventId];
    const jr = (node: string, sender: string, ts: number, extraAuth: string[] = []) =>
      d.add(node, { type: 'm.room.join_rules', sender, stateKey: '', content: { join_rule: 'public' } }, [], [...auth, ...extraAuth], ts).eventId;
    return { d, jr, graph: new EventGraph(d.provider()) };
  }
  const names = (ids: string[]) => ids.map((id) => id.slice(1));

  test('orders by greater sender power, then earlier origin_server_ts, then smaller event id', () => {
    const { jr, graph } = room();
    const ids = [jr('C_low', CHARLIE, 1), jr('B_late', BOB, 9), jr('B_early', BOB, 5), jr('A', ALICE, 10), jr('B_tie2', BOB, 7), jr('B_tie1', BOB, 7)];
    expect(names(reverseTopologicalPowerOrder(ids, new Set(ids), graph))).toEqual(['A', 'B_early', 'B_tie1', 'B_tie2', 'B_late', 'C_low']);
  });

  test('an event comes after the events it cites, whatever their power', () => {
    const { jr, graph } = room();
    const first = jr('C_first', CHARLIE, 1);
    const second = jr('A_second', ALICE, 2, [first]);
    const other = jr('B_other', BOB, 3);
    const ids = [second, other, first];
    expect(names(reverseTopologicalPowerOrder(ids, new Set(ids), graph))).toEqual(['B_other', 'C_first', 'A_second']);
  });

  test('pulls in the auth chain events of power events that are in the full conflicted set, only through such events', () => {
    const { d, jr, graph } = room();
    const deep = d.add('DEEP', { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' } }, [], [], 1).eventId;
    const middle = d.add('MID', { type: 'm.room.member', sender: CHARLIE, stateKey: CHARLIE, content: { membership: 'join' } }, [], [deep], 2).eventId;
    const member = d.add('MEM', { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' } }, [], [], 3).eventId;
    const power = jr('POWER', ALICE, 4, [member, middle]);
    // MID is not in the full conflicted set, so DEEP behind it is not pulled in.
    const full = new Set([power, member, deep]);
    expect(names(reverseTopologicalPowerOrder([power], full, graph))).toEqual(['MEM', 'POWER']);
  });
});
