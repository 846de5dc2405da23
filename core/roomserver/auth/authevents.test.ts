import { describe, expect, it } from 'vitest';
import { authEventTypesNeeded } from './authevents.js';
import { authStateFromEvents } from './types.js';
import { ALICE, BOB, CAROL, MOD, standardRoom, version } from './testutil.js';

const CREATE: [string, string] = ['m.room.create', ''];
const PL: [string, string] = ['m.room.power_levels', ''];
const JR: [string, string] = ['m.room.join_rules', ''];

describe('authEventTypesNeeded', () => {
  it('a create event needs nothing', () => {
    expect(authEventTypesNeeded({ type: 'm.room.create', stateKey: '', sender: ALICE, content: {} }, version('10'))).toEqual([]);
  });
  it('a message: create, power levels, sender (v1–11)', () => {
    expect(authEventTypesNeeded({ type: 'm.room.message', sender: BOB, content: {} }, version('1'))).toEqual([CREATE, PL, ['m.room.member', BOB]]);
  });
  it('v12 never selects the create event', () => {
    expect(authEventTypesNeeded({ type: 'm.room.message', sender: BOB, content: {} }, version('12'))).toEqual([PL, ['m.room.member', BOB]]);
  });
  it('a join: target (deduplicated with the sender) and join rules', () => {
    expect(authEventTypesNeeded({ type: 'm.room.member', stateKey: BOB, sender: BOB, content: { membership: 'join' } }, version('10'))).toEqual([
      CREATE,
      PL,
      ['m.room.member', BOB],
      JR,
    ]);
  });
  it('invite and knock need join rules; leave and ban do not', () => {
    const v = version('10');
    for (const membership of ['invite', 'knock']) {
      expect(authEventTypesNeeded({ type: 'm.room.member', stateKey: CAROL, sender: BOB, content: { membership } }, v)).toContainEqual(JR);
    }
    for (const membership of ['leave', 'ban']) {
      expect(authEventTypesNeeded({ type: 'm.room.member', stateKey: CAROL, sender: BOB, content: { membership } }, v)).toEqual([
        CREATE,
        PL,
        ['m.room.member', BOB],
        ['m.room.member', CAROL],
      ]);
    }
  });
  it('a third-party invite also needs the m.room.third_party_invite for its token', () => {
    const content = { membership: 'invite', third_party_invite: { signed: { mxid: CAROL, token: 'tok' } } };
    expect(authEventTypesNeeded({ type: 'm.room.member', stateKey: CAROL, sender: BOB, content }, version('3'))).toContainEqual([
      'm.room.third_party_invite',
      'tok',
    ]);
  });
  it('a restricted join needs the authoriser\'s membership from v8 on', () => {
    const ev = { type: 'm.room.member', stateKey: CAROL, sender: CAROL, content: { membership: 'join', join_authorised_via_users_server: MOD } };
    expect(authEventTypesNeeded(ev, version('8'))).toContainEqual(['m.room.member', MOD]);
    expect(authEventTypesNeeded(ev, version('7'))).not.toContainEqual(['m.room.member', MOD]);
  });
  it('malformed content selects only what it can', () => {
    const ev = { type: 'm.room.member', stateKey: CAROL, sender: BOB, content: { membership: 'invite', third_party_invite: 'x', join_authorised_via_users_server: 5 } };
    expect(authEventTypesNeeded(ev, version('10'))).toEqual([CREATE, PL, ['m.room.member', BOB], ['m.room.member', CAROL], JR]);
  });
});

describe('authStateFromEvents', () => {
  it('looks up state events by (type, state_key) and ignores message events', () => {
    const room = standardRoom('10');
    const state = room.state();
    const pl = state.get('m.room.power_levels', '')!;
    const bob = state.get('m.room.member', BOB)!;
    const message = room.build({ type: 'm.room.message', sender: BOB, content: {} });
    const lookup = authStateFromEvents([pl, bob, message]);
    expect(lookup.get('m.room.power_levels', '')).toBe(pl);
    expect(lookup.get('m.room.member', BOB)).toBe(bob);
    expect(lookup.get('m.room.message', '')).toBeUndefined();
    expect(lookup.get('m.room.member', CAROL)).toBeUndefined();
  });
});
