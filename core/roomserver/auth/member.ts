import type { JsonObject, JsonValue, RoomEvent } from '../../events/types.js';
import { domainOf, isValidUserId } from './ids.js';
import { actionPowerLevel, userPowerLevel } from './powerlevels.js';
import { thirdPartyInviteSignatureMatches } from './thirdpartyinvite.js';
import { allow, reject, type AuthOptions, type AuthResult, type AuthState } from './types.js';

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A user's current membership; `leave` when they have no member event. */
export function membershipOf(userId: string, state: AuthState): string {
  const m = state.get('m.room.member', userId)?.content.membership;
  return typeof m === 'string' ? m : 'leave';
}

/** The current join rule; `invite` when there is no join rules event or it names none. */
export function joinRuleOf(state: AuthState): string {
  const rule = state.get('m.room.join_rules', '')?.content.join_rule;
  return typeof rule === 'string' ? rule : 'invite';
}

/** Without a verifier, a signature from the server must at least be present. */
function hasSignatureFrom(event: RoomEvent, serverName: string): boolean {
  const sigs: unknown = event.json.signatures;
  if (typeof sigs !== 'object' || sigs === null || !Object.hasOwn(sigs, serverName)) return false;
  const byKey: unknown = (sigs as Record<string, unknown>)[serverName];
  return typeof byKey === 'object' && byKey !== null && Object.values(byKey).some((s) => typeof s === 'string');
}

/** The `m.room.member` rules (rule 5 in v1–5 and v12, rule 4 in v6–11). */
export function checkMember(event: RoomEvent, state: AuthState, create: RoomEvent, options: AuthOptions): AuthResult {
  const v = event.version;
  const target = event.stateKey;
  if (target === undefined || !Object.hasOwn(event.content, 'membership')) {
    return reject('member.format', 'a member event needs a state_key and content.membership');
  }
  if (v.restrictedJoins && Object.hasOwn(event.content, 'join_authorised_via_users_server')) {
    const via = event.content.join_authorised_via_users_server;
    const server = typeof via === 'string' && isValidUserId(via) ? domainOf(via) : undefined;
    const signed = server !== undefined && (options.isSignedByServer ?? hasSignatureFrom)(event, server);
    if (!signed) {
      return reject('member.authorised_via_signature', `not signed by the server of join_authorised_via_users_server ${JSON.stringify(via)}`);
    }
  }
  switch (event.content.membership) {
    case 'join':
      return checkJoin(event, target, state, create);
    case 'invite':
      return checkInvite(event, target, state);
    case 'leave':
      return checkLeave(event, target, state);
    case 'ban':
      return checkBan(event, target, state);
    case 'knock':
      if (v.knock) return checkKnock(event, target, state);
      break;
  }
  return reject('member.unknown', `unknown membership ${JSON.stringify(event.content.membership)}`);
}

function checkJoin(event: RoomEvent, target: string, state: AuthState, create: RoomEvent): AuthResult {
  const v = event.version;
  const creator = v.implicitCreator ? create.sender : create.content.creator;
  if (event.prevEventIds.length === 1 && event.prevEventIds[0] === create.eventId && target === creator) {
    return allow('member.join.creator');
  }
  if (event.sender !== target) return reject('member.join.sender', 'a user can only join themselves');
  const current = membershipOf(target, state);
  if (current === 'ban') return reject('member.join.banned', 'the user is banned');
  const rule = joinRuleOf(state);
  const invitedOrJoined = current === 'invite' || current === 'join';
  if ((rule === 'invite' || (v.knock && rule === 'knock')) && invitedOrJoined) return allow('member.join.invite');
  if ((v.restrictedJoins && rule === 'restricted') || (v.knockRestricted && rule === 'knock_restricted')) {
    if (invitedOrJoined) return allow('member.join.restricted.member');
    const via = event.content.join_authorised_via_users_server;
    if (typeof via !== 'string') {
      return reject('member.join.restricted.authoriser', 'a restricted join needs join_authorised_via_users_server');
    }
    if (membershipOf(via, state) !== 'join') {
      return reject('member.join.restricted.authoriser', `${via} is not joined to the room`);
    }
    if (userPowerLevel(via, state) < actionPowerLevel('invite', state)) {
      return reject('member.join.restricted.authoriser', `${via} may not invite users`);
    }
    return allow('member.join.restricted.allow');
  }
  if (rule === 'public') return allow('member.join.public');
  return reject('member.join.otherwise', `join rule ${rule} does not let this user join`);
}

function checkInvite(event: RoomEvent, target: string, state: AuthState): AuthResult {
  const content = event.content;
  if (Object.hasOwn(content, 'third_party_invite')) {
    if (membershipOf(target, state) === 'ban') return reject('member.invite.tpi.banned', 'the invited user is banned');
    const tpi = content.third_party_invite;
    if (!isObject(tpi) || !isObject(tpi.signed)) return reject('member.invite.tpi.signed', 'third_party_invite has no signed object');
    const signed = tpi.signed;
    if (!Object.hasOwn(signed, 'mxid') || !Object.hasOwn(signed, 'token')) {
      return reject('member.invite.tpi.mxid_token', 'third_party_invite.signed needs mxid and token');
    }
    if (signed.mxid !== target) return reject('member.invite.tpi.mxid', 'signed.mxid does not match the state_key');
    const inviteEvent = typeof signed.token === 'string' ? state.get('m.room.third_party_invite', signed.token) : undefined;
    if (!inviteEvent) return reject('member.invite.tpi.event', 'no m.room.third_party_invite event for the token');
    if (inviteEvent.sender !== event.sender) {
      return reject('member.invite.tpi.sender', 'the sender did not send the m.room.third_party_invite event');
    }
    if (thirdPartyInviteSignatureMatches(signed, inviteEvent.content)) return allow('member.invite.tpi.signature');
    return reject('member.invite.tpi.otherwise', 'no signature in signed matches a public key of the invite');
  }
  if (membershipOf(event.sender, state) !== 'join') return reject('member.invite.sender_joined', 'the inviter is not joined');
  const targetMembership = membershipOf(target, state);
  if (targetMembership === 'join' || targetMembership === 'ban') {
    return reject('member.invite.target', `the invited user's membership is ${targetMembership}`);
  }
  if (userPowerLevel(event.sender, state) >= actionPowerLevel('invite', state)) return allow('member.invite.power');
  return reject('member.invite.otherwise', 'the inviter is below the invite level');
}

function checkLeave(event: RoomEvent, target: string, state: AuthState): AuthResult {
  if (event.sender === target) {
    const current = membershipOf(target, state);
    const ok = current === 'invite' || current === 'join' || (event.version.knock && current === 'knock');
    return ok ? allow('member.leave.self') : reject('member.leave.self', `cannot leave from membership ${current}`);
  }
  if (membershipOf(event.sender, state) !== 'join') return reject('member.leave.sender_joined', 'the kicker is not joined');
  const senderLevel = userPowerLevel(event.sender, state);
  if (membershipOf(target, state) === 'ban' && senderLevel < actionPowerLevel('ban', state)) {
    return reject('member.leave.banned', 'unbanning needs the ban level');
  }
  if (senderLevel >= actionPowerLevel('kick', state) && userPowerLevel(target, state) < senderLevel) {
    return allow('member.leave.kick');
  }
  return reject('member.leave.otherwise', 'the kicker is below the kick level or not above the target');
}

function checkBan(event: RoomEvent, target: string, state: AuthState): AuthResult {
  if (membershipOf(event.sender, state) !== 'join') return reject('member.ban.sender_joined', 'the banner is not joined');
  const senderLevel = userPowerLevel(event.sender, state);
  if (senderLevel >= actionPowerLevel('ban', state) && userPowerLevel(target, state) < senderLevel) {
    return allow('member.ban.power');
  }
  return reject('member.ban.otherwise', 'the banner is below the ban level or not above the target');
}

function checkKnock(event: RoomEvent, target: string, state: AuthState): AuthResult {
  const rule = joinRuleOf(state);
  if (rule !== 'knock' && !(event.version.knockRestricted && rule === 'knock_restricted')) {
    return reject('member.knock.join_rule', `join rule ${rule} does not allow knocking`);
  }
  if (event.sender !== target) return reject('member.knock.sender', 'a user can only knock for themselves');
  const current = membershipOf(event.sender, state);
  if (current !== 'ban' && current !== 'invite' && current !== 'join') return allow('member.knock.membership');
  return reject('member.knock.otherwise', `cannot knock from membership ${current}`);
}
