import type { RoomVersion } from '../../events/roomversions.js';
import { stateKey, type RoomEvent } from '../../events/types.js';
import { separateV2 } from './separate.js';
import { ALICE, DagBuilder, type EventSpec } from './testutil.js';
import type { EventProvider, StateMap } from './types.js';

export const MODERATOR = '@mod:example.com';

export interface ConflictFixture {
  version: RoomVersion;
  provider: EventProvider;
  events: ReadonlyMap<string, RoomEvent>;
  /** The states at the tips of the two branches. */
  stateSets: StateMap[];
  /** The size of the (v2) conflicted state set between the branches. */
  conflictedEvents: number;
}

/**
 * A public room that forks into two branches holding about `conflicted` conflicted state
 * events, for benchmarks and scale tests. Each of ⌈conflicted/2⌉ users joins on both branches
 * (different events for one key); branch A also has the moderator banning every 50th user and
 * alice changing the topic, branch B has alice replacing the power levels every 250 joins (a
 * long mainline) and the moderator kicking every 100th user. Every event cites the auth events
 * of its branch's state and passes auth against them. Deterministic.
 */
export function generateConflictFixture(conflicted: number, versionId = '11'): ConflictFixture {
  const dag = new DagBuilder(versionId);
  const state: StateMap = new Map();
  let last: string | undefined;
  const add = (branch: StateMap, tip: string | undefined, node: string, spec: EventSpec): string => {
    const ev = dag.addInState(node, spec, tip === undefined ? [] : [tip], branch);
    if (ev.stateKey !== undefined) branch.set(stateKey(ev.type, ev.stateKey), ev.eventId);
    return ev.eventId;
  };
  const powerLevels = (round: number): EventSpec => ({
    type: 'm.room.power_levels',
    sender: ALICE,
    stateKey: '',
    content: { users: { [ALICE]: 100, [MODERATOR]: 50 }, events: { 'm.room.topic': 50 + (round % 2) } },
  });

  last = add(state, last, 'CREATE', { type: 'm.room.create', sender: ALICE, stateKey: '', content: dag.createContent(ALICE) });
  last = add(state, last, 'IMA', { type: 'm.room.member', sender: ALICE, stateKey: ALICE, content: { membership: 'join' } });
  last = add(state, last, 'IPOWER', powerLevels(0));
  last = add(state, last, 'IJR', { type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'public' } });
  last = add(state, last, 'IMM', { type: 'm.room.member', sender: MODERATOR, stateKey: MODERATOR, content: { membership: 'join' } });

  const a: StateMap = new Map(state);
  const b: StateMap = new Map(state);
  let tipA: string | undefined = last;
  let tipB: string | undefined = last;
  const user = (i: number): string => `@u${i}:example.com`;
  const users = Math.ceil(conflicted / 2);
  for (let i = 0; i < users; i++) {
    const join = (name: string): EventSpec => ({ type: 'm.room.member', sender: user(i), stateKey: user(i), content: { membership: 'join', displayname: name } });
    tipA = add(a, tipA, `A${i}`, join(`a${i}`));
    tipB = add(b, tipB, `B${i}`, join(`b${i}`));
    if (i % 50 === 49) {
      tipA = add(a, tipA, `Aban${i}`, { type: 'm.room.member', sender: MODERATOR, stateKey: user(i - 10), content: { membership: 'ban' } });
    }
    if (i % 200 === 199) {
      tipA = add(a, tipA, `Atopic${i}`, { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: `topic ${i}` } });
    }
    if (i % 100 === 99) {
      tipB = add(b, tipB, `Bkick${i}`, { type: 'm.room.member', sender: MODERATOR, stateKey: user(i - 5), content: { membership: 'leave' } });
    }
    if (i % 250 === 249) tipB = add(b, tipB, `Bpower${i}`, powerLevels(i));
  }
  const stateSets = [a, b];
  let count = 0;
  for (const ids of separateV2(stateSets).conflicted.values()) count += ids.size;
  return { version: dag.version, provider: dag.provider(), events: dag.events, stateSets, conflictedEvents: count };
}
