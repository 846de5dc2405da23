import { describe, expect, test } from 'vitest';
import { SCENARIOS } from './scenarios.js';
import { runScenario } from './testutil.js';

/**
 * The state at END of each classic scenario, as node names, for the keys that changed since
 * START. v2 (rooms 2–11) and v2.1 (room 12) agree with Synapse's and ruma's expectations.
 */
const V2_EXPECTED: Readonly<Record<string, readonly string[]>> = {
  ban_vs_pl: ['PA', 'MA', 'MB'],
  join_rule_evasion: ['JR'],
  offtopic_pl: ['PC'],
  topic_basic: ['PA2', 'T2'],
  topic_reset: ['T1', 'MB', 'PA'],
  topic_setting: ['T4', 'PA2'],
  mainline_sort: ['T3', 'PA2'],
};

/**
 * Room v1 keeps the flaws the v2 algorithm fixed: members are resolved against the state
 * before any member conflict is settled, so alice's ban of bob (her own membership being in
 * conflict) fails; a join on another fork is not a conflict at all, so evelyn gets in; and
 * charlie's power levels, the deeper event, fail against the shallower alice ones.
 */
const V1_EXPECTED: Readonly<Record<string, readonly string[]>> = {
  ...V2_EXPECTED,
  ban_vs_pl: ['PA', 'MA'],
  join_rule_evasion: ['JR', 'ME'],
  offtopic_pl: ['PA'],
};

const VERSIONS: ReadonlyArray<[string, Readonly<Record<string, readonly string[]>>]> = [
  ['1', V1_EXPECTED],
  ['2', V2_EXPECTED],
  ['6', V2_EXPECTED],
  ['11', V2_EXPECTED],
  ['12', V2_EXPECTED],
];

describe.each(VERSIONS)('room version %s', (versionId, expectations) => {
  test.each(Object.keys(V2_EXPECTED))('%s', (name) => {
    const run = runScenario(versionId, SCENARIOS[name]!);
    const { actual, expected } = run.compare(expectations[name]!);
    expect(actual).toEqual(expected);
  });
});

describe('scenario details', () => {
  test('ban_vs_pl (v2): bob stays banned and his power levels lose', () => {
    const run = runScenario('2', SCENARIOS.ban_vs_pl!);
    const end = run.stateAfter.get('END')!;
    expect(end.get('m.room.member\u0000@bob:example.com')).toBe(run.dag.idOf('MB'));
    expect(end.get('m.room.power_levels\u0000')).toBe(run.dag.idOf('PA'));
  });

  test('join_rule_evasion (v12): evelyn is not a member after the merge', () => {
    const run = runScenario('12', SCENARIOS.join_rule_evasion!);
    expect(run.stateAfter.get('END')!.has('m.room.member\u0000@evelyn:example.com')).toBe(false);
  });

  test('the state at every node of a scenario is deterministic', () => {
    const first = runScenario('11', SCENARIOS.topic_setting!);
    const second = runScenario('11', SCENARIOS.topic_setting!);
    for (const [node, state] of first.stateAfter) expect([...second.stateAfter.get(node)!].sort()).toEqual([...state].sort());
  });
});
