import { ALICE, BOB, CHARLIE, EVELYN, ZARA, type Scenario } from './testutil.js';

/**
 * The classic state resolution scenarios (as Synapse's tests/state/test_v2.py and ruma test
 * them), on top of INITIAL_EVENTS. Power levels list alice at 100; in v12 the fixture drops
 * her, the creator, whose power is infinite anyway.
 */

/** Alice bans bob while bob, concurrently, sends power levels: the ban wins. */
export const BAN_VS_PL: Scenario = {
  events: {
    PA: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    MA: { type: 'm.room.member', sender: ALICE, stateKey: ALICE, content: { membership: 'join' } },
    MB: { type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'ban' } },
    PB: { type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
  },
  edges: [
    ['END', 'MB', 'MA', 'PA', 'START'],
    ['END', 'PB', 'PA'],
  ],
};

/** Evelyn joins concurrently with alice closing the room: the join rule wins. */
export const JOIN_RULE_EVASION: Scenario = {
  events: {
    JR: { type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'invite' } },
    ME: { type: 'm.room.member', sender: EVELYN, stateKey: EVELYN, content: { membership: 'join' } },
  },
  edges: [
    ['END', 'JR', 'START'],
    ['END', 'ME', 'START'],
  ],
};

/** Charlie lowers himself after bob promoted him; a fork still at alice's levels does not undo it. */
export const OFFTOPIC_PL: Scenario = {
  events: {
    PA: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    PB: { type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 } } },
    PC: { type: 'm.room.power_levels', sender: CHARLIE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 0 } } },
  },
  edges: [
    ['END', 'PC', 'PB', 'PA', 'START'],
    ['END', 'PA'],
  ],
};

/** Bob sets a topic on a fork where alice's demotion of him has not happened: alice's topic stays. */
export const TOPIC_BASIC: Scenario = {
  events: {
    T1: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T1' } },
    PA1: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    T2: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T2' } },
    PA2: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 0 } } },
    PB: { type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    T3: { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'T3' } },
  },
  edges: [
    ['END', 'PA2', 'T2', 'PA1', 'T1', 'START'],
    ['END', 'T3', 'PB', 'PA1'],
  ],
};

/** Bob's topic is undone when he is banned; a fork from before it must not reset the ban or levels. */
export const TOPIC_RESET: Scenario = {
  events: {
    T1: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T1' } },
    PA: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    T2: { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'T2' } },
    MB: { type: 'm.room.member', sender: ALICE, stateKey: BOB, content: { membership: 'ban' } },
  },
  edges: [
    ['END', 'MB', 'T2', 'PA', 'T1', 'START'],
    ['END', 'T1'],
  ],
};

/** Topic setting across a merge: after the forks join, alice's later topic T4 holds. */
export const TOPIC_SETTING: Scenario = {
  events: {
    T1: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T1' } },
    PA1: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    T2: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T2' } },
    PA2: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 0 } } },
    PB: { type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    T3: { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'T3' } },
    MZ1: { type: 'm.room.message', sender: ZARA, content: { body: 'merge' } },
    T4: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T4' } },
  },
  edges: [
    ['END', 'T4', 'MZ1', 'PA2', 'T2', 'PA1', 'T1', 'START'],
    ['END', 'MZ1', 'T3', 'PB', 'PA1'],
  ],
};

/**
 * Mainline ordering: T3 cites the newest power levels (PA2) and wins over T4, which was sent
 * later but cites PA1 through bob's (rejected) PB.
 */
export const MAINLINE_SORT: Scenario = {
  events: {
    T1: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T1' } },
    PA1: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    T2: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T2' } },
    PA2: {
      type: 'm.room.power_levels',
      sender: ALICE,
      stateKey: '',
      content: { users: { [ALICE]: 100, [BOB]: 50 }, events: { 'm.room.power_levels': 100 } },
    },
    PB: { type: 'm.room.power_levels', sender: BOB, stateKey: '', content: { users: { [ALICE]: 100, [BOB]: 50 } } },
    T3: { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 'T3' } },
    T4: { type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'T4' } },
  },
  edges: [
    ['END', 'T3', 'PA2', 'T2', 'PA1', 'T1', 'START'],
    ['END', 'T4', 'PB', 'PA1'],
  ],
};

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  ban_vs_pl: BAN_VS_PL,
  join_rule_evasion: JOIN_RULE_EVASION,
  offtopic_pl: OFFTOPIC_PL,
  topic_basic: TOPIC_BASIC,
  topic_reset: TOPIC_RESET,
  topic_setting: TOPIC_SETTING,
  mainline_sort: MAINLINE_SORT,
};
