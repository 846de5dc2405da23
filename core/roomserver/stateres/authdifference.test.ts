import { describe, expect, test } from 'vitest';
import { authDifference } from './authdifference.js';
import { EventGraph } from './eventgraph.js';
import { separateV2 } from './separate.js';
import { ALICE, DagBuilder } from './testutil.js';
import type { StateMap } from './types.js';

/** Events of type `t` keyed by node name; auth edges as given; the content does not matter here. */
function dag(edges: Record<string, string[]>): DagBuilder {
  const d = new DagBuilder('10');
  for (const [node, auth] of Object.entries(edges)) {
    d.add(node, { type: 't', sender: ALICE, stateKey: node }, [], auth.map((a) => d.idOf(a)));
  }
  return d;
}

function difference(d: DagBuilder, sets: Array<Record<string, string>>): string[] {
  const stateSets: StateMap[] = sets.map((s) => new Map(Object.entries(s).map(([k, node]) => [k, d.idOf(node)])));
  const { unconflicted } = separateV2(stateSets);
  return [...authDifference(stateSets, unconflicted, new EventGraph(d.provider()))].map((id) => id.slice(1)).sort();
}

describe('authDifference', () => {
  test('is the union of the sets’ auth chains minus their intersection', () => {
    const d = dag({ X0: [], X1: ['X0'], X2: ['X1'], Y1: ['X0'] });
    expect(difference(d, [{ k: 'X2' }, { k: 'Y1' }])).toEqual(['X1', 'X2', 'Y1']);
  });

  test('what an unconflicted event reaches is in every chain', () => {
    const d = dag({ X0: [], X1: ['X0'], X2: ['X1'], Y1: ['X0'], U: ['X1'] });
    expect(difference(d, [{ k: 'X2', u: 'U' }, { k: 'Y1', u: 'U' }])).toEqual(['X2', 'Y1']);
  });

  test('a set’s own events count as in its chain: an unconflicted event is never in the difference', () => {
    // Z is cited by A1 only, but both sets hold Z itself.
    const d = dag({ Z: [], A1: ['Z'], B1: [] });
    expect(difference(d, [{ k: 'A1', z: 'Z' }, { k: 'B1', z: 'Z' }])).toEqual(['A1', 'B1']);
  });

  test('an event in some but not all of three chains is in the difference', () => {
    const d = dag({ R: [], P: ['R'], A: ['P'], B: ['P'], C: ['R'] });
    expect(difference(d, [{ k: 'A' }, { k: 'B' }, { k: 'C' }])).toEqual(['A', 'B', 'C', 'P']);
  });

  test('identical sets have no difference', () => {
    const d = dag({ R: [], A: ['R'] });
    expect(difference(d, [{ k: 'A' }, { k: 'A' }])).toEqual([]);
  });

  test('unknown events end the walk but still count', () => {
    const d = dag({ R: [], A: ['R'] });
    const sets: StateMap[] = [new Map([['k', '$missing']]), new Map([['k', d.idOf('A')]])];
    const { unconflicted } = separateV2(sets);
    expect([...authDifference(sets, unconflicted, new EventGraph(d.provider()))].sort()).toEqual(['$A', '$R', '$missing']);
  });
});
