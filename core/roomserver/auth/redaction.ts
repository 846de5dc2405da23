import type { RoomEvent } from '../../events/types.js';
import { domainOf } from './ids.js';
import { actionPowerLevel, userPowerLevel } from './powerlevels.js';
import { allow, reject, type AuthResult, type AuthState } from './types.js';

/**
 * Rule 11 of room versions 1 and 2, whose event IDs carry the origin's domain: a redaction needs
 * the redact level, or must come from the server that sent the redacted event. Later versions
 * check this when applying the redaction instead.
 */
export function checkRedactionV1(event: RoomEvent, state: AuthState): AuthResult {
  if (userPowerLevel(event.sender, state) >= actionPowerLevel('redact', state)) return allow('redaction.redact_level');
  const ownDomain = domainOf(event.eventId);
  if (event.redacts !== undefined && ownDomain !== undefined && domainOf(event.redacts) === ownDomain) {
    return allow('redaction.same_domain');
  }
  return reject('redaction.otherwise', 'the sender is below the redact level and the redacted event is from another server');
}
