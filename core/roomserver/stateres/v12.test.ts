import { describe, expect, test } from 'vitest';
import { stateKey, type JsonObject } from '../../events/types.js';
import { authDifference } from './authdifference.js';
import { EventGraph } from './eventgraph.js';
import { resolveState } from './index.js';
import { separateV2 } from './separate.js';
import { conflictedSubgraph } from './subgraph.js';
import { ALICE, BOB, CHARLIE, DagBuilder, EVELYN, ZARA } from './testutil.js';

/** A room built event by event with explicit auth events (the create event added before v12). */
class Room {
  readonly dag: DagBuilder;
  private last: string | undefined;

  constructor(versionId: string) {
    this.dag = new DagBuilder(versionId);
    this.event('CREATE', 'm.room.create', ALICE, '', this.dag.createContent(ALICE), []);
  }

  event(node: string, type: string, sender: string, key: string, content: JsonObject, auth: string[]): void {
    const authIds = auth.map((n) => this.dag.idOf(n));
    if (type !== 'm.room.create' && !this.dag.version.roomIdFromCreate) authIds.unshift(this.dag.idOf('CREATE'));
    const ev = this.dag.add(node, { type, sender, stateKey: key, content }, this.last ? [this.last] : [], authIds);
    this.dag.assertAuthorised(ev);
    this.last = ev.eventId;
  }

  member(node: string, user: string, membership: string, auth: string[], extra: JsonObject = {}): void {
    this.event(node, 'm.room.member', user, user, { membership, ...extra }, auth);
  }

  resolve(...states: string[][]): Record<string, string> {
    const resolved = resolveState(this.dag.version, states.map((s) => this.dag.stateOf(s)), this.dag.provider());
    const out: Record<string, string> = {};
    for (const [k, id] of resolved) out[k.replace('\u0000', ' ')] = id.slice(1).split(':')[0]!;
    return out;
  }
}

/**
 * MSC4297 problem A (Synapse's test_state_reset_replay_conflicted_subgraph): evelyn's rename
 * ME2 cites the first power levels P1 directly but the newer P3 through her join ME1. Resolving
 * a fork that kept P1 against one at P3 must not reset the power levels.
 */
function subgraphRoom(versionId: string): Room {
  const r = new Room(versionId);
  r.member('MA', ALICE, 'join', []);
  r.event('P1', 'm.room.power_levels', ALICE, '', { users: { [ALICE]: 100 } }, ['MA']);
  r.event('JR', 'm.room.join_rules', ALICE, '', { join_rule: 'public' }, ['MA', 'P1']);
  r.member('MB', BOB, 'join', ['P1', 'JR']);
  r.member('MC', CHARLIE, 'join', ['P1', 'JR']);
  r.event('P2', 'm.room.power_levels', ALICE, '', { users: { [ALICE]: 100, [BOB]: 50 } }, ['MA', 'P1']);
  r.event('P3', 'm.room.power_levels', BOB, '', { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 } }, ['MB', 'P2']);
  r.member('ME1', EVELYN, 'join', ['P3', 'JR']);
  r.member('ME2', EVELYN, 'join', ['P1', 'JR', 'ME1'], { displayname: 'eve' });
  r.member('MZ', ZARA, 'join', ['P3', 'JR']);
  return r;
}
const DODGY = ['CREATE', 'MA', 'MB', 'MC', 'ME2', 'P1', 'JR'];
const SENSIBLE = ['CREATE', 'MA', 'MB', 'MC', 'MZ', 'P3', 'JR'];

/**
 * MSC4297 problem B (Synapse's test_state_reset_start_empty_set): alice closes the room and
 * leaves; a fork citing the old public join rules must not reset the join rules to nothing.
 */
function emptyStartRoom(versionId: string): Room {
  const r = new Room(versionId);
  r.member('MA1', ALICE, 'join', []);
  r.event('P', 'm.room.power_levels', ALICE, '', { users: { [ALICE]: 100, [BOB]: 100 } }, ['MA1']);
  r.event('JR1', 'm.room.join_rules', ALICE, '', { join_rule: 'public' }, ['MA1', 'P']);
  r.member('MB', BOB, 'join', ['P', 'JR1']);
  r.event('JR2', 'm.room.join_rules', ALICE, '', { join_rule: 'invite' }, ['MA1', 'P']);
  r.member('MA2', ALICE, 'leave', ['P', 'MA1']);
  return r;
}
const CORRECT = ['CREATE', 'MA2', 'MB', 'P', 'JR2'];
const INCORRECT = ['CREATE', 'MA2', 'MB', 'P', 'JR1'];

const key = (type: string, k: string): string => `${type} ${k}`;

describe('v12 conflicted state subgraph', () => {
  test('replays the events between conflicted events: power levels stay at P3', () => {
    const r = subgraphRoom('12');
    expect(r.resolve(DODGY, SENSIBLE)).toEqual({
      [key('m.room.create', '')]: 'CREATE',
      [key('m.room.member', ALICE)]: 'MA',
      [key('m.room.member', BOB)]: 'MB',
      [key('m.room.member', CHARLIE)]: 'MC',
      // ME2 is replayed first (it is in P1's epoch), then ME1 (P3's).
      [key('m.room.member', EVELYN)]: 'ME1',
      [key('m.room.member', ZARA)]: 'MZ',
      [key('m.room.power_levels', '')]: 'P3',
      [key('m.room.join_rules', '')]: 'JR',
    });
  });

  test('the same resolution is order-independent', () => {
    const r = subgraphRoom('12');
    expect(r.resolve(SENSIBLE, DODGY)).toEqual(r.resolve(DODGY, SENSIBLE));
  });

  test('v2 (room 11) resets the power levels to P1 in the same room', () => {
    const r = subgraphRoom('11');
    const resolved = r.resolve(DODGY, SENSIBLE);
    expect(resolved[key('m.room.power_levels', '')]).toBe('P1');
    expect(resolved[key('m.room.member', EVELYN)]).toBe('ME2');
  });

  test('the subgraph is the paths between conflicted events, and never the create event', () => {
    const r = subgraphRoom('12');
    const graph = new EventGraph(r.dag.provider());
    const sets = [r.dag.stateOf(DODGY), r.dag.stateOf(SENSIBLE)];
    const { unconflicted, conflicted } = separateV2(sets);
    const conflictedIds = [...conflicted.values()].flatMap((s) => [...s]);
    const nodes = (ids: Iterable<string>): string[] => [...ids].map((id) => id.slice(1)).sort();
    expect(nodes(conflictedIds)).toEqual(['ME2', 'MZ', 'P1', 'P3']);
    // ME2 → ME1 → P3, ME2 → JR → P1, P3 → P2 → P1 and P3 → MB → P1; not MA or CREATE,
    // which lead to no conflicted event.
    expect(nodes(conflictedSubgraph(conflictedIds, graph))).toEqual(['JR', 'MB', 'ME1', 'ME2', 'MZ', 'P1', 'P2', 'P3']);
    expect(nodes(authDifference(sets, unconflicted, graph))).toEqual(['ME1', 'ME2', 'MZ']);
  });
});

describe('v12 iterative auth checks start from an empty state', () => {
  test('the newer join rules survive although their sender has since left', () => {
    const r = emptyStartRoom('12');
    expect(r.resolve(CORRECT, INCORRECT)).toEqual({
      [key('m.room.create', '')]: 'CREATE',
      [key('m.room.member', ALICE)]: 'MA2',
      [key('m.room.member', BOB)]: 'MB',
      [key('m.room.power_levels', '')]: 'P',
      [key('m.room.join_rules', '')]: 'JR2',
    });
  });

  test('v2 (room 11) starts from the unconflicted state, where alice has left: the join rules vanish', () => {
    const r = emptyStartRoom('11');
    const resolved = r.resolve(CORRECT, INCORRECT);
    expect(resolved[key('m.room.join_rules', '')]).toBeUndefined();
    expect(resolved[key('m.room.member', ALICE)]).toBe('MA2');
  });

  test('the unconflicted state still wins in the end', () => {
    const r = emptyStartRoom('12');
    // Both forks say alice has left; replaying the join rules uses her earlier join, but the
    // final state keeps the unconflicted leave.
    const resolved = r.resolve(CORRECT, INCORRECT);
    expect(resolved[key('m.room.member', ALICE)]).toBe('MA2');
    expect(r.dag.events.get(r.dag.idOf('JR2'))!.authEventIds).not.toContain(r.dag.idOf('CREATE'));
  });

  test('events never cite the create event; iterative checks find it through the room id', () => {
    const r = emptyStartRoom('12');
    expect(r.dag.roomId).toBe('!CREATE');
    const resolved = resolveState(r.dag.version, [r.dag.stateOf(CORRECT), r.dag.stateOf(INCORRECT)], r.dag.provider());
    expect(resolved.get(stateKey('m.room.join_rules', ''))).toBe('$JR2');
  });
});
