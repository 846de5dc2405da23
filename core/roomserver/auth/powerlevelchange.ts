import type { RoomEvent } from '../../events/types.js';
import type { AuthRule } from './rules.js';
import { POWER_LEVEL_KEYS, parsePowerLevelsDetailed, powerLevelsOf, roomCreators, userPowerLevel } from './powerlevels.js';
import { allow, reject, type AuthResult, type AuthState } from './types.js';

interface MapChange {
  what: string;
  current: ReadonlyMap<string, number>;
  next: ReadonlyMap<string, number>;
}

function keysOf(change: MapChange): Set<string> {
  return new Set([...change.current.keys(), ...change.next.keys()]);
}

/** The first entry being changed in or removed from the maps whose current level fails `tooHigh`. */
function changedOrRemoved(changes: MapChange[], tooHigh: (key: string, level: number) => boolean, rule: AuthRule): AuthResult | undefined {
  for (const change of changes) {
    for (const k of keysOf(change)) {
      const before = change.current.get(k);
      if (before !== undefined && before !== change.next.get(k) && tooHigh(k, before)) {
        return reject(rule, `the sender may not change ${change.what} ${k}: its current level ${before} is too high`);
      }
    }
  }
  return undefined;
}

/** The first entry being added to or changed in the maps whose new level is above `senderLevel`. */
function addedOrChanged(changes: MapChange[], senderLevel: number, rule: AuthRule): AuthResult | undefined {
  for (const change of changes) {
    for (const k of keysOf(change)) {
      const after = change.next.get(k);
      if (after !== undefined && after !== change.current.get(k) && after > senderLevel) {
        return reject(rule, `the sender may not set ${change.what} ${k} to ${after}, above their own level`);
      }
    }
  }
  return undefined;
}

/** The `m.room.power_levels` rules (rule 10 in v1–5 and v12, rule 9 in v6–11). */
export function checkPowerLevelsChange(event: RoomEvent, state: AuthState, create: RoomEvent): AuthResult {
  const v = event.version;
  const parsed = parsePowerLevelsDetailed(event.content, v);
  if (!parsed.ok) return reject(`power_levels.${parsed.problem}`, parsed.reason);
  const next = parsed.value;
  if (v.privilegedCreators) {
    const listed = roomCreators(create).find((c) => next.users.has(c));
    if (listed !== undefined) return reject('power_levels.creators', `room creator ${listed} cannot be listed in users`);
  }
  const currentEvent = state.get('m.room.power_levels', '');
  if (!currentEvent) return allow('power_levels.initial');
  const current = powerLevelsOf(currentEvent);
  const senderLevel = userPowerLevel(event.sender, state);

  // Compares the values as written: an absent key is neither too high nor too low.
  for (const key of POWER_LEVEL_KEYS) {
    const before = current.explicit[key];
    const after = next.explicit[key];
    if (before === after) continue;
    if (before !== undefined && before > senderLevel) {
      return reject('power_levels.top_level', `the sender may not change ${key}: its current level ${before} is above theirs`);
    }
    if (after !== undefined && after > senderLevel) {
      return reject('power_levels.top_level', `the sender may not set ${key} to ${after}, above their own level`);
    }
  }

  const eventMaps: MapChange[] = [{ what: 'the level of event', current: current.events, next: next.events }];
  if (v.notificationsPowerLevels) {
    eventMaps.push({ what: 'the notification level', current: current.notifications, next: next.notifications });
  }
  const userMap: MapChange[] = [{ what: 'the level of user', current: current.users, next: next.users }];
  return (
    changedOrRemoved(eventMaps, (_k, level) => level > senderLevel, 'power_levels.events_current') ??
    addedOrChanged(eventMaps, senderLevel, 'power_levels.events_new') ??
    changedOrRemoved(userMap, (user, level) => user !== event.sender && level >= senderLevel, 'power_levels.users_current') ??
    addedOrChanged(userMap, senderLevel, 'power_levels.users_new') ??
    allow('power_levels.allow')
  );
}
