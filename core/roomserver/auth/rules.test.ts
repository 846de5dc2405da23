import { describe, expect, it } from 'vitest';
import { ROOM_VERSIONS } from '../../events/roomversions.js';
import { AUTH_RULE_NAMES, specRuleNumber, type AuthRule } from './rules.js';
import { version } from './testutil.js';

/** Spot checks of the numbering against the spec text of each version. */
const EXPECTED: Array<[string, AuthRule, string | undefined]> = [
  ['1', 'create.allow', '1.5'],
  ['1', 'aliases.domain', '4.2'],
  ['1', 'member.join.public', '5.2.5'],
  ['1', 'member.invite.tpi.signature', '5.3.1.7'],
  ['1', 'member.unknown', '5.6'],
  ['1', 'sender_joined', '6'],
  ['1', 'power_levels.users_new', '10.7'],
  ['1', 'redaction.same_domain', '11.2'],
  ['1', 'allow', '12'],
  ['3', 'redaction.same_domain', undefined],
  ['3', 'allow', '11'],
  ['6', 'aliases.allow', undefined],
  ['6', 'member.leave.kick', '4.4.4'],
  ['6', 'power_levels.events_current', '9.4'],
  ['6', 'allow', '10'],
  ['7', 'member.knock.join_rule', '4.6.1'],
  ['7', 'member.unknown', '4.7'],
  ['8', 'member.authorised_via_signature', '4.2.1'],
  ['8', 'member.join.restricted.authoriser', '4.3.5.2'],
  ['8', 'member.join.public', '4.3.6'],
  ['8', 'member.knock.membership', '4.7.3'],
  ['8', 'member.unknown', '4.8'],
  ['8', 'power_levels.values', 'stringy power levels'],
  ['10', 'power_levels.values', '9.1'],
  ['10', 'power_levels.users', '9.3'],
  ['10', 'power_levels.users_new', '9.9'],
  ['10', 'power_levels.allow', '9.10'],
  ['10', 'create.allow', '1.5'],
  ['11', 'create.creator', undefined],
  ['11', 'create.allow', '1.4'],
  ['12', 'create.additional_creators', '1.4'],
  ['12', 'room_id.create', '2'],
  ['12', 'auth_events.no_create', undefined],
  ['12', 'auth_events.room_id', '3.5'],
  ['12', 'federate', '4'],
  ['12', 'member.join.restricted.allow', '5.3.5.3'],
  ['12', 'sender_joined', '6'],
  ['12', 'third_party_invite.invite_level', '7.1'],
  ['12', 'power_levels.creators', '10.4'],
  ['12', 'power_levels.users_current', '10.9'],
  ['12', 'allow', '11'],
];

describe('specRuleNumber', () => {
  for (const [id, rule, number] of EXPECTED) {
    it(`v${id} ${rule} is ${number ?? 'absent'}`, () => {
      expect(specRuleNumber(rule, version(id))).toBe(number);
    });
  }
  it('no two rules share a number within a version', () => {
    for (const v of ROOM_VERSIONS.values()) {
      const numbers = AUTH_RULE_NAMES.map((r) => specRuleNumber(r, v)).filter((n): n is string => n !== undefined && n !== 'stringy power levels');
      expect(new Set(numbers).size).toBe(numbers.length);
    }
  });
});
