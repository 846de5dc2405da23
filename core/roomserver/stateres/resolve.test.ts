import { describe, expect, test } from 'vitest';
import { getRoomVersion } from '../../events/roomversions.js';
import type { RoomEvent } from '../../events/types.js';
import { generateConflictFixture } from './bench-fixture.js';
import { resolveState } from './index.js';
import { SCENARIOS } from './scenarios.js';
import { runScenario } from './testutil.js';
import type { EventProvider, StateMap } from './types.js';

const v = (id: string) => getRoomVersion(id)!;
const noEvents: EventProvider = { get: () => undefined };

describe('resolveState', () => {
  test('no state sets resolve to an empty state; one resolves to a copy of itself', () => {
    expect(resolveState(v('10'), [], noEvents).size).toBe(0);
    const only: StateMap = new Map([['k', '$1']]);
    const resolved = resolveState(v('10'), [only], noEvents);
    expect(resolved).toEqual(only);
    expect(resolved).not.toBe(only);
  });

  test('sets without conflicts need no events', () => {
    const a: StateMap = new Map([
      ['x', '$1'],
      ['y', '$2'],
    ]);
    for (const id of ['1', '2', '12']) expect(resolveState(v(id), [a, new Map(a)], noEvents)).toEqual(a);
  });

  test('conflicted events the provider does not know are left out', () => {
    const run = runScenario('10', SCENARIOS.topic_basic!);
    const end = run.stateAfter.get('END')!;
    const withUnknown = new Map(end).set('m.room.name\u0000', '$unknown');
    const resolved = resolveState(run.dag.version, [end, withUnknown], run.dag.provider());
    expect(resolved.has('m.room.name\u0000')).toBe(false);
    expect(resolved.get('m.room.topic\u0000')).toBe(end.get('m.room.topic\u0000'));
  });

  test.each(['1', '11', '12'])('v%s: the order of the state sets does not matter', (id) => {
    const f = generateConflictFixture(300, id);
    const forward = resolveState(f.version, f.stateSets, f.provider);
    const backward = resolveState(f.version, [...f.stateSets].reverse(), f.provider);
    expect([...backward].sort()).toEqual([...forward].sort());
  });

  test.each(['1', '11', '12'])('v%s: each event is read from the provider at most once per resolution', (id) => {
    const f = generateConflictFixture(300, id);
    const reads = new Map<string, number>();
    const counting: EventProvider = {
      get: (eventId): RoomEvent | undefined => {
        reads.set(eventId, (reads.get(eventId) ?? 0) + 1);
        return f.provider.get(eventId);
      },
    };
    resolveState(f.version, f.stateSets, counting);
    expect(reads.size).toBeGreaterThan(0);
    expect(Math.max(...reads.values())).toBe(1);
  });
});
