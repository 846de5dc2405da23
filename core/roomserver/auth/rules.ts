import type { RoomVersion } from '../../events/roomversions.js';

/**
 * The names of the authorisation rules. The spec numbers its rules differently in each room
 * version (v6 drops the aliases rule, v8 inserts a member rule, v12 inserts the room id rule),
 * so results name rules by meaning and `specRuleNumber` maps a name to the number the spec
 * gives it in a given version.
 */
export const AUTH_RULE_NAMES = [
  'create.prev_events',
  'create.room_id_domain',
  'create.room_id_present',
  'create.room_version',
  'create.creator',
  'create.additional_creators',
  'create.allow',
  'room_id.create',
  'auth_events.duplicate',
  'auth_events.unexpected',
  'auth_events.rejected',
  'auth_events.no_create',
  'auth_events.room_id',
  'federate',
  'aliases.state_key',
  'aliases.domain',
  'aliases.allow',
  'member.format',
  'member.authorised_via_signature',
  'member.join.creator',
  'member.join.sender',
  'member.join.banned',
  'member.join.invite',
  'member.join.restricted.member',
  'member.join.restricted.authoriser',
  'member.join.restricted.allow',
  'member.join.public',
  'member.join.otherwise',
  'member.invite.tpi.banned',
  'member.invite.tpi.signed',
  'member.invite.tpi.mxid_token',
  'member.invite.tpi.mxid',
  'member.invite.tpi.event',
  'member.invite.tpi.sender',
  'member.invite.tpi.signature',
  'member.invite.tpi.otherwise',
  'member.invite.sender_joined',
  'member.invite.target',
  'member.invite.power',
  'member.invite.otherwise',
  'member.leave.self',
  'member.leave.sender_joined',
  'member.leave.banned',
  'member.leave.kick',
  'member.leave.otherwise',
  'member.ban.sender_joined',
  'member.ban.power',
  'member.ban.otherwise',
  'member.knock.join_rule',
  'member.knock.sender',
  'member.knock.membership',
  'member.knock.otherwise',
  'member.unknown',
  'sender_joined',
  'third_party_invite.invite_level',
  'event.power',
  'state_key.user',
  'power_levels.values',
  'power_levels.maps',
  'power_levels.users',
  'power_levels.creators',
  'power_levels.initial',
  'power_levels.top_level',
  'power_levels.events_current',
  'power_levels.events_new',
  'power_levels.users_current',
  'power_levels.users_new',
  'power_levels.allow',
  'redaction.redact_level',
  'redaction.same_domain',
  'redaction.otherwise',
  'allow',
] as const;

export type AuthRule = (typeof AUTH_RULE_NAMES)[number];

export type RuleOutcome = 'allow' | 'reject';

/** Rules that only allow, that allow or reject ("allow if and only if"); the rest only reject. */
const ALLOWING: ReadonlySet<AuthRule> = new Set<AuthRule>([
  'create.allow',
  'aliases.allow',
  'member.join.creator',
  'member.join.invite',
  'member.join.restricted.member',
  'member.join.restricted.allow',
  'member.join.public',
  'member.invite.tpi.signature',
  'member.invite.power',
  'member.leave.kick',
  'member.ban.power',
  'member.knock.membership',
  'power_levels.initial',
  'power_levels.allow',
  'redaction.redact_level',
  'redaction.same_domain',
  'allow',
]);
const ALLOW_OR_REJECT: ReadonlySet<AuthRule> = new Set<AuthRule>(['member.leave.self', 'third_party_invite.invite_level']);

export function ruleOutcomes(rule: AuthRule): readonly RuleOutcome[] {
  if (ALLOW_OR_REJECT.has(rule)) return ['allow', 'reject'];
  return ALLOWING.has(rule) ? ['allow'] : ['reject'];
}

/** Whether the version's auth rules redact-check by event id domain (v1, v2: ids carry a domain). */
export function hasRedactionRule(v: RoomVersion): boolean {
  return v.eventIdFormat === 'v1';
}

/**
 * The spec's number for `rule` in room version `v` (e.g. `4.3.5.2`), or undefined when the rule
 * does not exist in that version. In v1–9 the power level value checks come from the "stringy
 * power levels" content schema, which has no rule number.
 */
export function specRuleNumber(rule: AuthRule, v: RoomVersion): string | undefined {
  const v12 = v.roomIdFromCreate ? 1 : 0;
  const aliases = v.specialCaseAliasesAuth ? 1 : 0;
  const authEvents = 2 + v12;
  const member = 4 + v12 + aliases;
  const sig = v.restrictedJoins ? 1 : 0;
  const join = `${member}.${2 + sig}`;
  const invite = `${member}.${3 + sig}`;
  const leave = `${member}.${4 + sig}`;
  const ban = `${member}.${5 + sig}`;
  const knock = `${member}.${6 + sig}`;
  const pl = member + 5;
  const plShift = (v.integerPowerLevels ? 2 : 0) + (v.privilegedCreators ? 1 : 0);
  const r = v.restrictedJoins ? 1 : 0;
  switch (rule) {
    case 'create.prev_events':
      return '1.1';
    case 'create.room_id_domain':
      return v.roomIdFromCreate ? undefined : '1.2';
    case 'create.room_id_present':
      return v.roomIdFromCreate ? '1.2' : undefined;
    case 'create.room_version':
      return '1.3';
    case 'create.creator':
      return v.implicitCreator ? undefined : '1.4';
    case 'create.additional_creators':
      return v.privilegedCreators ? '1.4' : undefined;
    case 'create.allow':
      return `1.${4 + (v.implicitCreator ? 0 : 1) + (v.privilegedCreators ? 1 : 0)}`;
    case 'room_id.create':
      return v.roomIdFromCreate ? '2' : undefined;
    case 'auth_events.duplicate':
      return `${authEvents}.1`;
    case 'auth_events.unexpected':
      return `${authEvents}.2`;
    case 'auth_events.rejected':
      return `${authEvents}.3`;
    case 'auth_events.no_create':
      return v.roomIdFromCreate ? undefined : `${authEvents}.4`;
    case 'auth_events.room_id':
      return `${authEvents}.5`;
    case 'federate':
      return `${3 + v12}`;
    case 'aliases.state_key':
      return aliases ? '4.1' : undefined;
    case 'aliases.domain':
      return aliases ? '4.2' : undefined;
    case 'aliases.allow':
      return aliases ? '4.3' : undefined;
    case 'member.format':
      return `${member}.1`;
    case 'member.authorised_via_signature':
      return sig ? `${member}.2.1` : undefined;
    case 'member.join.creator':
      return `${join}.1`;
    case 'member.join.sender':
      return `${join}.2`;
    case 'member.join.banned':
      return `${join}.3`;
    case 'member.join.invite':
      return `${join}.4`;
    case 'member.join.restricted.member':
      return r ? `${join}.5.1` : undefined;
    case 'member.join.restricted.authoriser':
      return r ? `${join}.5.2` : undefined;
    case 'member.join.restricted.allow':
      return r ? `${join}.5.3` : undefined;
    case 'member.join.public':
      return `${join}.${5 + r}`;
    case 'member.join.otherwise':
      return `${join}.${6 + r}`;
    case 'member.invite.tpi.banned':
      return `${invite}.1.1`;
    case 'member.invite.tpi.signed':
      return `${invite}.1.2`;
    case 'member.invite.tpi.mxid_token':
      return `${invite}.1.3`;
    case 'member.invite.tpi.mxid':
      return `${invite}.1.4`;
    case 'member.invite.tpi.event':
      return `${invite}.1.5`;
    case 'member.invite.tpi.sender':
      return `${invite}.1.6`;
    case 'member.invite.tpi.signature':
      return `${invite}.1.7`;
    case 'member.invite.tpi.otherwise':
      return `${invite}.1.8`;
    case 'member.invite.sender_joined':
      return `${invite}.2`;
    case 'member.invite.target':
      return `${invite}.3`;
    case 'member.invite.power':
      return `${invite}.4`;
    case 'member.invite.otherwise':
      return `${invite}.5`;
    case 'member.leave.self':
      return `${leave}.1`;
    case 'member.leave.sender_joined':
      return `${leave}.2`;
    case 'member.leave.banned':
      return `${leave}.3`;
    case 'member.leave.kick':
      return `${leave}.4`;
    case 'member.leave.otherwise':
      return `${leave}.5`;
    case 'member.ban.sender_joined':
      return `${ban}.1`;
    case 'member.ban.power':
      return `${ban}.2`;
    case 'member.ban.otherwise':
      return `${ban}.3`;
    case 'member.knock.join_rule':
      return v.knock ? `${knock}.1` : undefined;
    case 'member.knock.sender':
      return v.knock ? `${knock}.2` : undefined;
    case 'member.knock.membership':
      return v.knock ? `${knock}.3` : undefined;
    case 'member.knock.otherwise':
      return v.knock ? `${knock}.4` : undefined;
    case 'member.unknown':
      return `${member}.${6 + sig + (v.knock ? 1 : 0)}`;
    case 'sender_joined':
      return `${member + 1}`;
    case 'third_party_invite.invite_level':
      return `${member + 2}.1`;
    case 'event.power':
      return `${member + 3}`;
    case 'state_key.user':
      return `${member + 4}`;
    case 'power_levels.values':
      return v.integerPowerLevels ? `${pl}.1` : 'stringy power levels';
    case 'power_levels.maps':
      return v.integerPowerLevels ? `${pl}.2` : 'stringy power levels';
    case 'power_levels.users':
      return `${pl}.${v.integerPowerLevels ? 3 : 1}`;
    case 'power_levels.creators':
      return v.privilegedCreators ? `${pl}.4` : undefined;
    case 'power_levels.initial':
      return `${pl}.${2 + plShift}`;
    case 'power_levels.top_level':
      return `${pl}.${3 + plShift}`;
    case 'power_levels.events_current':
      return `${pl}.${4 + plShift}`;
    case 'power_levels.events_new':
      return `${pl}.${5 + plShift}`;
    case 'power_levels.users_current':
      return `${pl}.${6 + plShift}`;
    case 'power_levels.users_new':
      return `${pl}.${7 + plShift}`;
    case 'power_levels.allow':
      // v12's text numbers this "10" a second time; it is the 11th item.
      return `${pl}.${8 + plShift}`;
    case 'redaction.redact_level':
      return hasRedactionRule(v) ? `${pl + 1}.1` : undefined;
    case 'redaction.same_domain':
      return hasRedactionRule(v) ? `${pl + 1}.2` : undefined;
    case 'redaction.otherwise':
      return hasRedactionRule(v) ? `${pl + 1}.3` : undefined;
    case 'allow':
      return `${pl + 1 + (hasRedactionRule(v) ? 1 : 0)}`;
  }
}
