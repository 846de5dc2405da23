import { describe, expect, it } from 'vitest';
import { ALICE, BOB, CAROL, MOD, standardRoom, version } from './auth/testutil.js';
import { restrictedPowerLevels, upgradePlan } from './upgrade.js';

const plan = (room: ReturnType<typeof standardRoom>, userId: string, to: string, additionalCreators: string[] = []) =>
  upgradePlan({ state: room.stateEvents(), userId, newVersion: version(to), additionalCreators, lastEventId: '$last' });

describe('room upgrade plan', () => {
  it('carries the predecessor, the room type, the transferable state and the bans; not members or other state', () => {
    const room = standardRoom('11', { createContent: { type: 'm.space' }, members: { [CAROL]: 'ban' } });
    room.add({ type: 'm.room.name', sender: ALICE, stateKey: '', content: { name: 'Lobby' } });
    room.add({ type: 'm.room.topic', sender: ALICE, stateKey: '', content: { topic: 'hi' } });
    room.add({ type: 'm.room.encryption', sender: ALICE, stateKey: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } });
    room.add({ type: 'm.space.child', sender: ALICE, stateKey: '!child:a.example', content: { via: ['a.example'] } });
    room.add({ type: 'com.example.custom', sender: ALICE, stateKey: '', content: { x: 1 } });
    room.add({ type: 'm.room.name', sender: ALICE, stateKey: 'not-empty', content: { name: 'odd' } });
    const p = plan(room, ALICE, '11');
    expect(p.createContent).toEqual({ predecessor: { room_id: room.create.roomId, event_id: '$last' }, type: 'm.space' });
    expect(p.initialState.map((s) => [s.type, s.state_key]).sort()).toEqual([
      ['m.room.encryption', ''],
      ['m.room.join_rules', ''],
      ['m.room.name', ''],
      ['m.room.topic', ''],
      ['m.space.child', '!child:a.example'],
    ]);
    expect(p.bans).toEqual([{ userId: CAROL }]);
    // Alice has 100, enough for everything: created with the old levels as they are.
    expect(p.initialPowerLevels).toEqual(room.state().get('m.room.power_levels', '')!.content);
    expect(p.finalPowerLevels).toBeUndefined();
  });

  it('raises a user with just the tombstone level for the set-up, then gives the old levels back', () => {
    const room = standardRoom('10', {
      powerLevels: { users: { [ALICE]: 100, [MOD]: 60 }, events: { 'm.room.tombstone': 60, 'm.room.power_levels': 100 }, state_default: 50, ban: 70 },
      members: { [CAROL]: 'ban' },
    });
    const p = plan(room, MOD, '11');
    expect((p.initialPowerLevels!.users as Record<string, number>)[MOD]).toBe(100);
    expect(p.finalPowerLevels!.users).toEqual({ [ALICE]: 100, [MOD]: 60 });
    expect(p.finalPowerLevels!.ban).toBe(70);
  });

  it('to v12: the upgrading user and the additional creators leave the users map (creators may not be listed)', () => {
    const room = standardRoom('11');
    const p = plan(room, ALICE, '12', [MOD]);
    expect(p.createContent.predecessor).toEqual({ room_id: room.create.roomId });
    expect(p.initialPowerLevels!.users).toEqual({ '@mod2:m.example': 50 });
    expect(p.finalPowerLevels).toBeUndefined();
  });

  it('from v12 to an older version: a creator keeps the top level, which v12 gave them without a listing', () => {
    const room = standardRoom('12', { createContent: { additional_creators: [BOB] } });
    const p = plan(room, ALICE, '11');
    expect(p.initialPowerLevels!.users).toEqual({ [ALICE]: 100, [MOD]: 50, '@mod2:m.example': 50 });
    expect(p.finalPowerLevels).toBeUndefined();
  });

  it('a room without power levels keeps the defaults of a new room', () => {
    const p = plan(standardRoom('11', { powerLevels: null }), ALICE, '11');
    expect(p.initialPowerLevels).toBeUndefined();
  });

  it('closes the old room to all below moderator', () => {
    expect(restrictedPowerLevels({ users_default: 0, events_default: 0, invite: 0, users: { a: 100 } })).toEqual({ users_default: 0, events_default: 50, invite: 50, users: { a: 100 } });
    expect(restrictedPowerLevels({ users_default: 60 })).toEqual({ users_default: 60, events_default: 61, invite: 61 });
  });
});
