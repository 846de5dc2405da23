import { describe, expect, test } from 'vitest';
import { stateKey } from '../../events/types.js';
import { EventGraph } from './eventgraph.js';
import { authStateFor, iterativeAuthChecks } from './iterative.js';
import { ALICE, BOB, DagBuilder } from './testutil.js';
import type { StateMap } from './types.js';

/** A public room where bob (at 50) has joined; each test adds the events it checks. */
function room(versionId: string) {
  const d = new DagBuilder(versionId);
  const state: StateMap = new Map();
  let last: string[] = [];
  const add = (node: string, spec: Parameters<DagBuilder['add']>[1]) => {
    const ev = d.addInState(node, spec, last, state);
    state.set(stateKey(ev.type, ev.stateKey!), ev.eventId);
    last = [ev.eventId];
    return ev.eventId;
  };
  add('CREATE', { type: 'm.room.create', sender: ALICE, stateKey: '', content: d.createContent(ALICE) });
  add('MA', { type: 'm.room.member', sender: ALICE, stateKey: ALICE, content: { membership: 'join' } });
  add('PL', { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } });
  add('JR', { type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'public' } });
  add('MB', { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' } });
  const topic = d.add('TOPIC', { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'hi' } }, [], d.authEventsFor({ type: 'm.room.topic', sender: BOB, stateKey: '' }, state));
  return { d, state, topic: topic.eventId, graph: () => new EventGraph(d.provider()) };
}

const only = (state: StateMap, ...keep: string[]): StateMap => new Map([...state].filter(([k]) => keep.includes(k)));
const MEMBER_BOB = stateKey('m.room.member', BOB);
const CREATE = stateKey('m.room.create', '');
const POWER = stateKey('m.room.power_levels', '');

describe('iterativeAuthChecks', () => {
  test('keys missing from the state are taken from the event’s auth events', () => {
    const { topic, graph } = room('10');
    const result = iterativeAuthChecks([topic], new Map(), graph());
    expect(result.get(stateKey('m.room.topic', ''))).toBe(topic);
  });

  test('the state overrides the auth events: bob banned in the state cannot set the topic', () => {
    const { d, state, topic, graph } = room('10');
    const ban = d.add('BAN', { type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'ban' } }, [], []);
    const start = new Map(state).set(MEMBER_BOB, ban.eventId);
    const result = iterativeAuthChecks([topic], start, graph());
    expect(result.has(stateKey('m.room.topic', ''))).toBe(false);
    expect(result).toEqual(start);
  });

  test('rejected auth events are not used', () => {
    const { d, state, topic } = room('10');
    d.rejected.add(d.idOf('MB'));
    const result = iterativeAuthChecks([topic], only(state, CREATE, POWER), new EventGraph(d.provider()));
    expect(result.has(stateKey('m.room.topic', ''))).toBe(false);
  });

  test('rejected events in the state are not used either', () => {
    const { d, state, topic } = room('10');
    d.rejected.add(d.idOf('PL'));
    // Without the power levels, bob's 0 is below the state default of 50.
    const result = iterativeAuthChecks([topic], state, new EventGraph(d.provider()));
    expect(result.has(stateKey('m.room.topic', ''))).toBe(false);
  });

  test('rejected events are skipped and later ones still applied, in order', () => {
    const { d, state, topic, graph } = room('10');
    const demote = d.add('DEMOTE', { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100 } } }, [], [d.idOf('CREATE'), d.idOf('MA'), d.idOf('PL')]);
    const forged = d.add('FORGED', { type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { [BOB]: 100 } } }, [], [d.idOf('CREATE'), d.idOf('MB'), d.idOf('PL')]);
    const result = iterativeAuthChecks([forged.eventId, demote.eventId, topic], state, graph());
    expect(result.get(POWER)).toBe(demote.eventId);
    expect(result.has(stateKey('m.room.topic', ''))).toBe(false);
  });

  test('v12: the create event comes from the room id, never from auth events or state', () => {
    const { d, topic, graph } = room('12');
    expect(d.events.get(topic)!.authEventIds).not.toContain(d.idOf('CREATE'));
    const result = iterativeAuthChecks([topic], new Map(), graph());
    expect(result.get(stateKey('m.room.topic', ''))).toBe(topic);
    expect(result.has(CREATE)).toBe(false);
  });

  test('authStateFor: state for the needed keys, auth events for the rest', () => {
    const { d, state, topic, graph } = room('10');
    const other = d.add('MB2', { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join', displayname: 'b' } }, [], []);
    const s = authStateFor(d.events.get(topic)!, new Map(state).set(MEMBER_BOB, other.eventId).set(stateKey('m.room.name', ''), '$x'), graph());
    expect(s.get('m.room.member', BOB)?.eventId).toBe(other.eventId);
    expect(s.get('m.room.power_levels', '')?.eventId).toBe(d.idOf('PL'));
    expect(s.get('m.room.name', '')).toBeUndefined();
  });
});
