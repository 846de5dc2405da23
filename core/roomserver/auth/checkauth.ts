import type { RoomEvent } from '../../events/types.js';
import { checkCreate } from './create.js';
import { domainOf } from './ids.js';
import { checkMember, membershipOf } from './member.js';
import { checkPowerLevelsChange } from './powerlevelchange.js';
import { actionPowerLevel, requiredPowerForEvent, userPowerLevel } from './powerlevels.js';
import { checkRedactionV1 } from './redaction.js';
import { hasRedactionRule } from './rules.js';
import { allow, reject, type AuthOptions, type AuthResult, type AuthState } from './types.js';

/**
 * All authorisation rules for `event` against `state`, for the event's room version. The rules
 * on the auth_events list itself (duplicates, selection, rejected entries) are in
 * checkAuthEventsSelection. `state` must contain the create event, also in v12.
 */
export function checkAuth(event: RoomEvent, state: AuthState, options: AuthOptions = {}): AuthResult {
  const v = event.version;
  if (event.type === 'm.room.create') return checkCreate(event);

  const create = state.get('m.room.create', '');
  if (v.roomIdFromCreate) {
    // v12 rule 2: the room id is the create event's id with `!` for `$`.
    if (!create || event.roomId !== `!${create.eventId.slice(1)}`) {
      return reject('room_id.create', `room id ${event.roomId} is not derived from the room's create event`);
    }
  } else {
    if (!create) return reject('auth_events.no_create', 'no m.room.create event');
    if (create.roomId !== event.roomId) return reject('auth_events.room_id', `the create event is in room ${create.roomId}`);
  }

  if (create.content['m.federate'] === false && domainOf(event.sender) !== domainOf(create.sender)) {
    return reject('federate', 'the room does not federate and the sender is on another server');
  }

  if (v.specialCaseAliasesAuth && event.type === 'm.room.aliases') {
    if (event.stateKey === undefined) return reject('aliases.state_key', 'm.room.aliases needs a state_key');
    if (event.stateKey !== domainOf(event.sender)) return reject('aliases.domain', "the state_key is not the sender's server");
    return allow('aliases.allow');
  }

  if (event.type === 'm.room.member') return checkMember(event, state, create, options);

  if (membershipOf(event.sender, state) !== 'join') return reject('sender_joined', 'the sender is not joined to the room');

  const senderLevel = userPowerLevel(event.sender, state);
  if (event.type === 'm.room.third_party_invite') {
    return senderLevel >= actionPowerLevel('invite', state)
      ? allow('third_party_invite.invite_level')
      : reject('third_party_invite.invite_level', 'the sender is below the invite level');
  }

  const required = requiredPowerForEvent(event.type, event.stateKey !== undefined, state);
  if (required > senderLevel) {
    return reject('event.power', `sending ${event.type} needs level ${required}, the sender has ${senderLevel}`);
  }

  if (event.stateKey !== undefined && event.stateKey.startsWith('@') && event.stateKey !== event.sender) {
    return reject('state_key.user', "a state_key starting with @ must be the sender's user ID");
  }

  if (event.type === 'm.room.power_levels') return checkPowerLevelsChange(event, state, create);

  if (hasRedactionRule(v) && event.type === 'm.room.redaction') return checkRedactionV1(event, state);

  return allow('allow');
}
