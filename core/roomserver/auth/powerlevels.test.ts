import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../events/types.js';
import { parsePowerLevels, parsePowerLevelValue, requiredPowerForEvent, userPowerLevel, actionPowerLevel } from './powerlevels.js';
import { ALICE, BOB, CAROL, MOD, TestRoom, standardRoom, version } from './testutil.js';

const STRINGY = ['1', '5', '9'];
const INTEGER_ONLY = ['10', '11', '12'];

describe('parsePowerLevelValue', () => {
  const stringy: Array<[string, number]> = [
    ['100', 100],
    ['000100', 100],
    ['+100', 100],
    ['-100', -100],
    [' 100 ', 100],
    [' 00100 ', 100],
    [' +100 ', 100],
    [' -100 ', -100],
    ['\t7\n', 7],
  ];
  for (const id of STRINGY) {
    for (const [input, expected] of stringy) {
      it(`v${id} accepts the stringy value ${JSON.stringify(input)} as ${expected}`, () => {
        expect(parsePowerLevelValue(input, version(id))).toBe(expected);
      });
    }
  }
  for (const id of INTEGER_ONLY) {
    for (const [input] of stringy) {
      it(`v${id} rejects the string ${JSON.stringify(input)}`, () => {
        expect(parsePowerLevelValue(input, version(id))).toBeUndefined();
      });
    }
  }
  const neverValid: JsonValue[] = ['', ' ', '1.5', '1e3', '0x10', '++1', '+-1', '1 2', 'ten', true, null, [], {}, [1]];
  for (const id of [...STRINGY, ...INTEGER_ONLY]) {
    it(`v${id} rejects non-integers ${JSON.stringify(neverValid)}`, () => {
      for (const value of neverValid) expect(parsePowerLevelValue(value, version(id))).toBeUndefined();
    });
    it(`v${id} accepts integers`, () => {
      expect(parsePowerLevelValue(0, version(id))).toBe(0);
      expect(parsePowerLevelValue(-5, version(id))).toBe(-5);
      expect(parsePowerLevelValue(9007199254740991, version(id))).toBe(9007199254740991);
    });
  }
  it('v1–5 truncate floats (the floaty schema); v6+ reject them', () => {
    for (const id of ['1', '2', '3', '4', '5']) {
      expect(parsePowerLevelValue(51146.98, version(id))).toBe(51146);
      expect(parsePowerLevelValue(5.114698e4, version(id))).toBe(51146);
      expect(parsePowerLevelValue(-2.5, version(id))).toBe(-2);
      expect(parsePowerLevelValue(Infinity, version(id))).toBeUndefined();
      expect(parsePowerLevelValue(NaN, version(id))).toBeUndefined();
    }
    for (const id of ['6', '9', '10', '12']) expect(parsePowerLevelValue(50.57, version(id))).toBeUndefined();
  });
});

describe('parsePowerLevels', () => {
  it('fills in the spec defaults and keeps the explicit values apart', () => {
    const pl = parsePowerLevels({ ban: 60 }, version('10'))!;
    expect(pl.levels).toEqual({ users_default: 0, events_default: 0, state_default: 50, ban: 60, redact: 50, kick: 50, invite: 0 });
    expect(pl.explicit).toEqual({ ban: 60 });
    expect(pl.users.size).toBe(0);
  });
  it('parses the stringy example of the spec in v1–9 and rejects it in v10+', () => {
    const content = {
      ban: '50',
      events: { 'm.room.power_levels': '100' },
      events_default: '0',
      state_default: '50',
      users: { '@example:localhost': '100' },
      users_default: '0',
    };
    const pl = parsePowerLevels(content, version('9'))!;
    expect(pl.levels.ban).toBe(50);
    expect(pl.events.get('m.room.power_levels')).toBe(100);
    expect(pl.users.get('@example:localhost')).toBe(100);
    expect(parsePowerLevels(content, version('10'))).toBeUndefined();
  });
  it('parses the floaty example of the spec in v1–5', () => {
    const content = { ban: 50, users: { '@alice:localhost': 50, '@bob:localhost': 50.57 } };
    const pl = parsePowerLevels(content, version('5'))!;
    expect(pl.users.get('@bob:localhost')).toBe(50);
    expect(parsePowerLevels(content, version('6'))).toBeUndefined();
  });
  it('does not read inherited properties as levels', () => {
    const pl = parsePowerLevels(JSON.parse('{"users": {}, "events": {}}'), version('10'))!;
    expect(pl.events.get('constructor')).toBeUndefined();
    expect(pl.users.get('toString')).toBeUndefined();
  });
  it('rejects invalid user IDs as users keys', () => {
    expect(parsePowerLevels({ users: { bob: 1 } }, version('10'))).toBeUndefined();
    expect(parsePowerLevels({ users: { '@bob:': 1 } }, version('3'))).toBeUndefined();
    expect(parsePowerLevels({ users: { '@:historical.example': 1 } }, version('10'))).toBeDefined();
  });
});

describe('userPowerLevel', () => {
  it('without power levels: the creator 100, others 0 (v1–11)', () => {
    for (const id of ['1', '6', '10', '11']) {
      const room = new TestRoom(id);
      expect(userPowerLevel(ALICE, room.state())).toBe(100);
      expect(userPowerLevel(BOB, room.state())).toBe(0);
    }
  });
  it('v1–10 take the creator from content.creator, v11 from the sender', () => {
    expect(userPowerLevel(BOB, new TestRoom('10', { creator: BOB }).state())).toBe(100);
    expect(userPowerLevel(ALICE, new TestRoom('10', { creator: BOB }).state())).toBe(0);
    expect(userPowerLevel(BOB, new TestRoom('11', { creator: BOB }).state())).toBe(0);
  });
  it('v12: creators are infinite with or without power levels', () => {
    const bare = new TestRoom('12', { additional_creators: [CAROL] });
    expect(userPowerLevel(ALICE, bare.state())).toBe(Infinity);
    expect(userPowerLevel(CAROL, bare.state())).toBe(Infinity);
    expect(userPowerLevel(BOB, bare.state())).toBe(0);
    const room = standardRoom('12', { createContent: { additional_creators: [CAROL] } });
    expect(userPowerLevel(ALICE, room.state())).toBe(Infinity);
    expect(userPowerLevel(CAROL, room.state())).toBe(Infinity);
    expect(userPowerLevel(MOD, room.state())).toBe(50);
  });
  it('reads users, then users_default', () => {
    const room = standardRoom('10', { powerLevels: { users: { [MOD]: 50 }, users_default: 5 } });
    expect(userPowerLevel(MOD, room.state())).toBe(50);
    expect(userPowerLevel(BOB, room.state())).toBe(5);
    expect(userPowerLevel(ALICE, room.state())).toBe(5);
  });
  it('reads stringy levels in v1–9', () => {
    const room = standardRoom('9', { powerLevels: { users: { [MOD]: ' 75 ' }, users_default: '3' } });
    expect(userPowerLevel(MOD, room.state())).toBe(75);
    expect(userPowerLevel(BOB, room.state())).toBe(3);
  });
  it('treats a malformed power levels event in state as defaults instead of failing', () => {
    const room = standardRoom('10', { powerLevels: { users: { [MOD]: '75' }, ban: 'x' } });
    expect(userPowerLevel(MOD, room.state())).toBe(0);
    expect(actionPowerLevel('ban', room.state())).toBe(50);
  });
});

describe('requiredPowerForEvent', () => {
  it('without power levels: state 50, messages 0', () => {
    const room = new TestRoom('10');
    expect(requiredPowerForEvent('m.room.name', true, room.state())).toBe(50);
    expect(requiredPowerForEvent('m.room.message', false, room.state())).toBe(0);
  });
  it('events overrides the defaults, for state and message events alike', () => {
    const room = standardRoom('10', { powerLevels: { events: { 'm.room.name': 20, 'm.reaction': 5 }, state_default: 40, events_default: 1 } });
    expect(requiredPowerForEvent('m.room.name', true, room.state())).toBe(20);
    expect(requiredPowerForEvent('m.reaction', false, room.state())).toBe(5);
    expect(requiredPowerForEvent('m.reaction', true, room.state())).toBe(5);
    expect(requiredPowerForEvent('m.room.topic', true, room.state())).toBe(40);
    expect(requiredPowerForEvent('m.room.message', false, room.state())).toBe(1);
  });
  it('invite, kick, ban and redact defaults', () => {
    const room = standardRoom('10', { powerLevels: {} });
    expect(actionPowerLevel('invite', room.state())).toBe(0);
    expect(actionPowerLevel('kick', room.state())).toBe(50);
    expect(actionPowerLevel('ban', room.state())).toBe(50);
    expect(actionPowerLevel('redact', room.state())).toBe(50);
  });
});
