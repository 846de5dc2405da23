import type { RoomVersion } from '../events/roomversions.js';
import type { JsonObject } from '../events/types.js';
import type { CreateRoomRequest } from './api.js';

export interface PlannedEvent {
  type: string;
  stateKey: string;
  content: JsonObject;
}

/** The events of a new room in the order the createRoom spec requires: create; creator's
 * join; power levels; canonical alias; preset events; initial_state; name and topic; invites. */
export function initialRoomEvents(req: CreateRoomRequest, version: RoomVersion): { createContent: JsonObject; events: PlannedEvent[] } {
  const preset = req.preset ?? 'private_chat';
  const invitees = [...new Set(req.invite ?? [])];
  const createContent: JsonObject = { ...(req.creationContent ?? {}), room_version: version.id };
  if (!version.implicitCreator) createContent.creator = req.creator;
  else delete createContent.creator;
  if (version.privilegedCreators) {
    const extra = Array.isArray(createContent.additional_creators) ? (createContent.additional_creators as string[]) : [];
    const all = [...extra, ...(req.additionalCreators ?? []), ...(preset === 'trusted_private_chat' ? invitees : [])];
    const unique = [...new Set(all)].filter((u) => u !== req.creator);
    if (unique.length > 0) createContent.additional_creators = unique;
    else delete createContent.additional_creators;
  }

  const users: JsonObject = {};
  if (!version.privilegedCreators) {
    users[req.creator] = 100;
    if (preset === 'trusted_private_chat') for (const u of invitees) users[u] = 100;
  }
  const powerLevels: JsonObject = {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      // v12 asks for tombstones above state_default; creators can always send them.
      'm.room.tombstone': version.privilegedCreators ? 150 : 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: preset === 'public_chat' ? 50 : 0,
    notifications: { room: 50 },
    ...(req.powerLevelContentOverride ?? {}),
  };

  const events: PlannedEvent[] = [
    { type: 'm.room.member', stateKey: req.creator, content: { ...(req.creatorProfile ?? {}), membership: 'join' } },
    { type: 'm.room.power_levels', stateKey: '', content: powerLevels },
  ];
  if (req.canonicalAlias) events.push({ type: 'm.room.canonical_alias', stateKey: '', content: { alias: req.canonicalAlias } });

  const initial = (req.initialState ?? []).map((s) => ({ type: s.type, stateKey: s.state_key ?? '', content: s.content }));
  const inInitial = (type: string, key: string) => initial.some((s) => s.type === type && s.stateKey === key);
  const presetEvents: PlannedEvent[] = [
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: preset === 'public_chat' ? 'public' : 'invite' } },
    { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
    { type: 'm.room.guest_access', stateKey: '', content: { guest_access: preset === 'public_chat' ? 'forbidden' : 'can_join' } },
  ];
  for (const e of presetEvents) if (!inInitial(e.type, e.stateKey)) events.push(e);
  for (const e of initial) {
    // name and topic given in the request win over initial_state
    if ((e.type === 'm.room.name' && req.name !== undefined) || (e.type === 'm.room.topic' && req.topic !== undefined)) continue;
    events.push(e);
  }
  if (req.name !== undefined) events.push({ type: 'm.room.name', stateKey: '', content: { name: req.name } });
  if (req.topic !== undefined) {
    events.push({
      type: 'm.room.topic',
      stateKey: '',
      content: { topic: req.topic, 'm.topic': [{ mimetype: 'text/plain', body: req.topic }] },
    });
  }
  for (const u of invitees) {
    events.push({ type: 'm.room.member', stateKey: u, content: { membership: 'invite', ...(req.isDirect ? { is_direct: true } : {}) } });
  }
  return { createContent, events };
}
