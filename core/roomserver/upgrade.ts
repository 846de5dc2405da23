import type { RoomVersion } from '../events/roomversions.js';
import type { JsonObject, RoomEvent } from '../events/types.js';
import { roomCreators } from './auth/powerlevels.js';

/** State that moves to the replacement room (spec "Room Upgrades", server behaviour 3).
 * Space children come too, as Synapse moves them, so an upgraded space keeps its rooms. */
const TRANSFERRED = new Set([
  'm.room.server_acl',
  'm.room.encryption',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.guest_access',
  'm.room.history_visibility',
  'm.room.join_rules',
]);

export interface UpgradePlan {
  createContent: JsonObject;
  /** Power levels to create the room with: the upgrading user may need more power for a
   * moment to set up the state below. */
  initialPowerLevels: JsonObject | undefined;
  /** The power levels the room ends with, when they differ from the initial ones. */
  finalPowerLevels: JsonObject | undefined;
  initialState: Array<{ type: string; state_key: string; content: JsonObject }>;
  /** Users banned in the old room, banned again in the new one (as Synapse does). */
  bans: Array<{ userId: string; reason?: string }>;
}

function intOr(v: unknown, d: number): number {
  return typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : d;
}

/**
 * What the replacement room of an upgrade starts with, from the old room's current state:
 * the create content (predecessor, room type, version), the transferable state, the power
 * levels (with v12 creators taken out of `users`, and the upgrading user keeping what they
 * could do), and the bans.
 */
export function upgradePlan(opts: {
  state: readonly RoomEvent[];
  userId: string;
  newVersion: RoomVersion;
  additionalCreators: readonly string[];
  /** The old room's latest event, for `predecessor.event_id` (not needed from v12). */
  lastEventId: string;
}): UpgradePlan {
  const { state, userId, newVersion } = opts;
  const get = (type: string, key = '') => state.find((e) => e.type === type && e.stateKey === key);
  const create = get('m.room.create')!;
  const createContent: JsonObject = { predecessor: { room_id: create.roomId, ...(newVersion.privilegedCreators ? {} : { event_id: opts.lastEventId }) } };
  if (create.content.type !== undefined) createContent.type = create.content.type;

  const initialState = state
    .filter((e) => (TRANSFERRED.has(e.type) && e.stateKey === '') || (e.type === 'm.space.child' && e.stateKey !== undefined))
    .map((e) => ({ type: e.type, state_key: e.stateKey!, content: e.content }));
  const bans = state
    .filter((e) => e.type === 'm.room.member' && e.content.membership === 'ban' && e.stateKey !== undefined && e.stateKey !== userId)
    .map((e) => ({ userId: e.stateKey!, ...(typeof e.content.reason === 'string' ? { reason: e.content.reason } : {}) }));

  const oldPl = get('m.room.power_levels')?.content;
  if (!oldPl) return { createContent, initialPowerLevels: undefined, finalPowerLevels: undefined, initialState, bans };
  const users: JsonObject = { ...((oldPl.users as JsonObject | undefined) ?? {}) };
  const oldCreators = create.version.privilegedCreators ? roomCreators(create) : [];
  for (const c of oldCreators) delete users[c];
  const finalPl: JsonObject = { ...oldPl, users };
  if (newVersion.privilegedCreators) {
    // Creators have unlimited power and may not be listed.
    for (const c of [userId, ...opts.additionalCreators]) delete users[c];
    return { createContent, initialPowerLevels: finalPl, finalPowerLevels: undefined, initialState, bans };
  }
  const events = (oldPl.events as JsonObject | undefined) ?? {};
  const stateDefault = intOr(oldPl.state_default, 50);
  const levels = Object.values(events).map((v) => intOr(v, 0));
  // A v12 creator had unlimited power: the highest level the room uses keeps them on top.
  if (oldCreators.includes(userId)) users[userId] = Math.max(100, stateDefault, ...levels, ...Object.values(users).map((v) => intOr(v, 0)));
  const mine = intOr(users[userId], intOr(oldPl.users_default, 0));
  const needed = Math.max(
    mine,
    intOr(events['m.room.power_levels'], stateDefault),
    ...initialState.map((s) => intOr(events[s.type], stateDefault)),
    bans.length > 0 ? intOr(oldPl.ban, 50) : 0,
  );
  if (needed === mine) return { createContent, initialPowerLevels: finalPl, finalPowerLevels: undefined, initialState, bans };
  return { createContent, initialPowerLevels: { ...finalPl, users: { ...users, [userId]: needed } }, finalPowerLevels: finalPl, initialState, bans };
}

/** The old room's power levels after an upgrade: nobody below moderator speaks or invites
 * (spec: `events_default` and `invite` at the greater of 50 and `users_default + 1`). */
export function restrictedPowerLevels(old: JsonObject): JsonObject {
  const level = Math.max(50, intOr(old.users_default, 0) + 1);
  return { ...old, events_default: level, invite: level };
}
