import { describe, expect, it } from 'vitest';
import type { JsonObject, JsonValue } from '../../events/types.js';
import { authEventTypesNeeded, checkAuthEventsSelection } from './authevents.js';
import { checkAuth } from './checkauth.js';
import { ALICE, BOB, CAROL, MOD, TestRoom, standardRoom } from './testutil.js';
import type { AuthResult } from './types.js';

/** Values of every JSON type, in shapes the rules might trip over. */
const WEIRD: JsonValue[] = [
  null,
  true,
  0,
  -1,
  1.5,
  '',
  'x',
  '@bob:b.example',
  [],
  [null, 5],
  {},
  { '@bob:b.example': 'x' },
  { signed: 5 },
  { signed: { mxid: 5, token: {}, signatures: 'x' } },
  { signed: { mxid: CAROL, token: 'tok', signatures: { 'id.example': 5 } } },
  { signed: { mxid: CAROL, token: 'tok', signatures: { 'id.example': { 'ed25519:0': 5 } } } },
];

/** The content keys each event type's rules read. */
const KEYS: Record<string, string[]> = {
  'm.room.create': ['room_version', 'creator', 'additional_creators', 'm.federate'],
  'm.room.member': ['membership', 'third_party_invite', 'join_authorised_via_users_server'],
  'm.room.power_levels': ['users', 'events', 'notifications', 'ban', 'kick', 'users_default', 'state_default'],
  'm.room.join_rules': ['join_rule', 'allow'],
  'm.room.third_party_invite': ['public_key', 'public_keys'],
  'm.room.redaction': ['redacts'],
};

function isResult(r: AuthResult): boolean {
  return r.allowed === true || (typeof r.rule === 'string' && typeof r.reason === 'string');
}

const MEMBERSHIPS = ['join', 'invite', 'leave', 'ban', 'knock'];

describe('malformed content never throws', () => {
  for (const id of ['1', '3', '6', '7', '8', '10', '11', '12']) {
    it(`v${id}: malformed events`, () => {
      let checked = 0;
      for (const [type, keys] of Object.entries(KEYS)) {
        for (const key of keys) {
          for (const value of WEIRD) {
            for (const membership of type === 'm.room.member' ? MEMBERSHIPS : [undefined]) {
              const room = standardRoom(id, { joinRule: 'restricted', members: { [CAROL]: 'invite' } });
              room.add({ type: 'm.room.third_party_invite', sender: ALICE, stateKey: 'tok', content: { public_key: 'AAAA' } });
              const content: JsonObject = { [key]: value };
              if (membership && key !== 'membership') content.membership = membership;
              for (const stateKey of type === 'm.room.member' ? [CAROL, BOB] : ['']) {
                const ev = room.build({ type, sender: type === 'm.room.create' ? ALICE : MOD, stateKey, content, redacts: 'x' });
                expect(isResult(checkAuth(ev, room.state()))).toBe(true);
                expect(isResult(checkAuthEventsSelection(ev, []))).toBe(true);
                expect(Array.isArray(authEventTypesNeeded({ type, stateKey, sender: MOD, content }, room.version))).toBe(true);
                checked++;
              }
            }
          }
        }
      }
      expect(checked).toBeGreaterThan(100);
    });

    it(`v${id}: malformed state`, () => {
      for (const [type, keys] of Object.entries(KEYS)) {
        for (const key of keys) {
          for (const value of WEIRD) {
            const room = type === 'm.room.create' ? new TestRoom(id, { [key]: value }) : standardRoom(id, { joinRule: 'public' });
            if (type === 'm.room.create') {
              room.member(ALICE, 'join');
              room.member(BOB, 'join');
            } else {
              room.add({ type, sender: ALICE, stateKey: type === 'm.room.member' ? CAROL : type === 'm.room.third_party_invite' ? 'tok' : '', content: { [key]: value } });
            }
            const probes = [
              room.build({ type: 'm.room.message', sender: BOB, content: {} }),
              room.build({ type: 'm.room.member', sender: CAROL, stateKey: CAROL, content: { membership: 'join' } }),
              room.build({ type: 'm.room.member', sender: BOB, stateKey: CAROL, content: { membership: 'ban' } }),
              room.build({ type: 'm.room.member', sender: ALICE, stateKey: CAROL, content: { membership: 'invite', third_party_invite: { signed: { mxid: CAROL, token: 'tok', signatures: {} } } } }),
              room.build({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [BOB]: 1 } } }),
            ];
            for (const ev of probes) expect(isResult(checkAuth(ev, room.state()))).toBe(true);
          }
        }
      }
    });
  }
});
