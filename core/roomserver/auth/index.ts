export type { AuthOptions, AuthResult, AuthState } from './types.js';
export { authStateFromEvents } from './types.js';
export { checkAuth } from './checkauth.js';
export { authEventTypesNeeded, checkAuthEventsSelection } from './authevents.js';
export type { PowerLevelKey, PowerLevels } from './powerlevels.js';
export {
  actionPowerLevel,
  parsePowerLevels,
  parsePowerLevelValue,
  POWER_LEVEL_KEYS,
  requiredPowerForEvent,
  roomCreators,
  userPowerLevel,
} from './powerlevels.js';
export { joinRuleOf, membershipOf } from './member.js';
export { AUTH_RULE_NAMES, specRuleNumber, type AuthRule } from './rules.js';
export { isValidUserId } from './ids.js';
