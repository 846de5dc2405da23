import { describe, expect, it } from 'vitest';
import { redactEvent } from './redaction.js';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from './roomversions.js';
import type { JsonObject, PDUJson } from './types.js';

const v = (id: string): RoomVersion => getRoomVersion(id)!;

/** An event carrying every top-level key any algorithm keeps, plus ones none keeps. */
function event(type: string, content: JsonObject): PDUJson {
  return {
    event_id: '$e:s',
    type,
    room_id: '!r:s',
    sender: '@u:s',
    state_key: '',
    content,
    hashes: { sha256: 'h' },
    signatures: { s: { 'ed25519:1': 'sig' } },
    depth: 1,
    prev_events: [],
    prev_state: [],
    auth_events: [],
    origin: 's',
    origin_server_ts: 1,
    membership: 'join',
    unsigned: { age: 1 },
    redacts: '$x:s',
    age_ts: 5,
    extra: 'gone',
  };
}

const TOP_V1 = ['auth_events', 'content', 'depth', 'event_id', 'hashes', 'membership', 'origin', 'origin_server_ts', 'prev_events', 'prev_state', 'room_id', 'sender', 'signatures', 'state_key', 'type'];
const TOP_V11 = TOP_V1.filter((k) => !['origin', 'membership', 'prev_state'].includes(k));

describe('redaction: top-level keys', () => {
  it.each([...ROOM_VERSIONS.keys()])('v%s', (id) => {
    const r = redactEvent(event('m.room.message', { body: 'x' }), v(id));
    const expected = v(id).redaction === 'v11' ? TOP_V11 : TOP_V1;
    expect(Object.keys(r).sort()).toEqual([...expected].sort());
    expect(r.content).toEqual({});
    expect(r.signatures).toEqual({ s: { 'ed25519:1': 'sig' } });
  });

  it('keeps the input unchanged and always sets content', () => {
    const e = event('m.room.member', { membership: 'join', displayname: 'd' });
    const copy = structuredClone(e);
    redactEvent(e, v('1'));
    expect(e).toEqual(copy);
    const { content: _c, ...noContent } = e;
    expect(redactEvent(noContent as PDUJson, v('1')).content).toEqual({});
    expect(redactEvent({ ...e, content: [] } as unknown as PDUJson, v('11')).content).toEqual({});
  });

  it('does not treat Object.prototype names as event types', () => {
    expect(redactEvent(event('constructor', { a: 1 }), v('11')).content).toEqual({});
    expect(redactEvent(event('toString', { a: 1 }), v('1')).content).toEqual({});
  });
});

// Content carrying every key some algorithm keeps, plus keys none keeps.
const MEMBER = {
  membership: 'invite',
  displayname: 'Dee',
  avatar_url: 'mxc://s/a',
  join_authorised_via_users_server: '@a:s',
  third_party_invite: { display_name: 'd', signed: { mxid: '@u:s', token: 't', signatures: {} } },
};
const CREATE = { creator: '@a:s', room_version: '1', 'm.federate': false, predecessor: { room_id: '!o:s' }, additional_creators: ['@b:s'] };
const JOIN_RULES = { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!o:s' }], other: 1 };
const POWER_LEVELS = {
  ban: 50,
  events: { 'm.room.name': 50 },
  events_default: 0,
  invite: 0,
  kick: 50,
  notifications: { room: 50 },
  redact: 50,
  state_default: 50,
  users: { '@a:s': 100 },
  users_default: 0,
};
const ALIASES = { aliases: ['#a:s'], other: 1 };
const HISTORY = { history_visibility: 'shared', other: 1 };
const REDACTION = { redacts: '$x:s', reason: 'spam' };
const TOPIC = { topic: 'gone' };

const pick = (o: JsonObject, keys: string[]): JsonObject => Object.fromEntries(keys.filter((k) => k in o).map((k) => [k, o[k]!]));
const PL_V1 = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

/** [algorithm, type, content, expected content]: one row per rule of each algorithm. */
const TABLE: Array<[string, string, JsonObject, JsonObject]> = [
  ['v1', 'm.room.member', MEMBER, { membership: 'invite' }],
  ['v1', 'm.room.create', CREATE, { creator: '@a:s' }],
  ['v1', 'm.room.join_rules', JOIN_RULES, { join_rule: 'restricted' }],
  ['v1', 'm.room.power_levels', POWER_LEVELS, pick(POWER_LEVELS, PL_V1)],
  ['v1', 'm.room.aliases', ALIASES, { aliases: ['#a:s'] }],
  ['v1', 'm.room.history_visibility', HISTORY, { history_visibility: 'shared' }],
  ['v1', 'm.room.redaction', REDACTION, {}],
  ['v1', 'm.room.topic', TOPIC, {}],

  ['v6', 'm.room.member', MEMBER, { membership: 'invite' }],
  ['v6', 'm.room.create', CREATE, { creator: '@a:s' }],
  ['v6', 'm.room.join_rules', JOIN_RULES, { join_rule: 'restricted' }],
  ['v6', 'm.room.power_levels', POWER_LEVELS, pick(POWER_LEVELS, PL_V1)],
  ['v6', 'm.room.aliases', ALIASES, {}],
  ['v6', 'm.room.history_visibility', HISTORY, { history_visibility: 'shared' }],
  ['v6', 'm.room.redaction', REDACTION, {}],

  ['v8', 'm.room.member', MEMBER, { membership: 'invite' }],
  ['v8', 'm.room.create', CREATE, { creator: '@a:s' }],
  ['v8', 'm.room.join_rules', JOIN_RULES, { join_rule: 'restricted', allow: JOIN_RULES.allow }],
  ['v8', 'm.room.power_levels', POWER_LEVELS, pick(POWER_LEVELS, PL_V1)],
  ['v8', 'm.room.aliases', ALIASES, {}],
  ['v8', 'm.room.history_visibility', HISTORY, { history_visibility: 'shared' }],

  ['v9', 'm.room.member', MEMBER, { membership: 'invite', join_authorised_via_users_server: '@a:s' }],
  ['v9', 'm.room.create', CREATE, { creator: '@a:s' }],
  ['v9', 'm.room.join_rules', JOIN_RULES, { join_rule: 'restricted', allow: JOIN_RULES.allow }],
  ['v9', 'm.room.power_levels', POWER_LEVELS, pick(POWER_LEVELS, PL_V1)],
  ['v9', 'm.room.aliases', ALIASES, {}],
  ['v9', 'm.room.redaction', REDACTION, {}],

  [
    'v11',
    'm.room.member',
    MEMBER,
    { membership: 'invite', join_authorised_via_users_server: '@a:s', third_party_invite: { signed: MEMBER.third_party_invite.signed } },
  ],
  ['v11', 'm.room.member', { membership: 'join', third_party_invite: { display_name: 'd' } }, { membership: 'join', third_party_invite: {} }],
  ['v11', 'm.room.member', { membership: 'join', third_party_invite: 'odd' }, { membership: 'join' }],
  ['v11', 'm.room.create', CREATE, CREATE],
  ['v11', 'm.room.join_rules', JOIN_RULES, { join_rule: 'restricted', allow: JOIN_RULES.allow }],
  ['v11', 'm.room.power_levels', POWER_LEVELS, pick(POWER_LEVELS, [...PL_V1, 'invite'])],
  ['v11', 'm.room.aliases', ALIASES, {}],
  ['v11', 'm.room.history_visibility', HISTORY, { history_visibility: 'shared' }],
  ['v11', 'm.room.redaction', REDACTION, { redacts: '$x:s' }],
  ['v11', 'm.room.topic', TOPIC, {}],
];

describe('redaction: content, per algorithm', () => {
  it.each(TABLE)('%s: %s', (alg, type, content, expected) => {
    for (const rv of ROOM_VERSIONS.values()) {
      if (rv.redaction !== alg) continue;
      expect(redactEvent(event(type, content), rv).content).toEqual(expected);
    }
  });

  it('every room version maps to the algorithm the spec gives it', () => {
    const byVersion = Object.fromEntries([...ROOM_VERSIONS.values()].map((rv) => [rv.id, rv.redaction]));
    expect(byVersion).toEqual({
      '1': 'v1', '2': 'v1', '3': 'v1', '4': 'v1', '5': 'v1',
      '6': 'v6', '7': 'v6',
      '8': 'v8',
      '9': 'v9', '10': 'v9',
      '11': 'v11', '12': 'v11',
    });
  });

  it('versions sharing an algorithm redact identically (v3 as v1, v7 as v6, v10 as v9, v12 as v11)', () => {
    const pairs: Array<[string, string]> = [['1', '2'], ['1', '3'], ['1', '4'], ['1', '5'], ['6', '7'], ['9', '10'], ['11', '12']];
    for (const [a, b] of pairs) {
      for (const [, type, content] of TABLE) {
        expect(redactEvent(event(type, content), v(b))).toEqual(redactEvent(event(type, content), v(a)));
      }
    }
  });

  it('algorithms differ exactly where the spec changed them', () => {
    const differs = (type: string, content: JsonObject, a: string, b: string) =>
      JSON.stringify(redactEvent(event(type, content), v(a))) !== JSON.stringify(redactEvent(event(type, content), v(b)));
    expect(differs('m.room.aliases', ALIASES, '5', '6')).toBe(true);
    expect(differs('m.room.join_rules', JOIN_RULES, '7', '8')).toBe(true);
    expect(differs('m.room.member', MEMBER, '8', '9')).toBe(true);
    expect(differs('m.room.power_levels', POWER_LEVELS, '10', '11')).toBe(true);
    expect(differs('m.room.join_rules', JOIN_RULES, '6', '7')).toBe(false);
  });
});
