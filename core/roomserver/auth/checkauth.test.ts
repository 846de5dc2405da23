import { describe, expect, it } from 'vitest';
import { encodeBase64, generateKeyPair, signJson } from '../../crypto/index.js';
import type { RoomVersion } from '../../events/roomversions.js';
import type { JsonObject, RoomEvent } from '../../events/types.js';
import { checkAuthEventsSelection } from './authevents.js';
import { checkAuth } from './checkauth.js';
import { AUTH_RULE_NAMES, ruleOutcomes, specRuleNumber, type AuthRule, type RuleOutcome } from './rules.js';
import { ALICE, BOB, CAROL, DAVE, MOD, MOD2, TestRoom, standardPowerLevels, standardRoom, version, type EventSpec } from './testutil.js';
import type { AuthOptions, AuthResult } from './types.js';

/**
 * Table-driven tests of the authorisation rules. Each row names the rule it covers and whether
 * that rule allows or rejects; it runs in every room version where the rule exists (and the
 * row's `when` holds). The coverage test at the end checks that every rule of every version has
 * a row for each way it can decide.
 */

const VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

interface Row {
  rule: AuthRule;
  expect: RuleOutcome;
  name: string;
  when?: (v: RoomVersion) => boolean;
  run: (v: string) => AuthResult;
}

function check(room: TestRoom, spec: EventSpec, options?: AuthOptions): AuthResult {
  return checkAuth(room.build(spec), room.state(), options);
}

function msg(sender: string): EventSpec {
  return { type: 'm.room.message', sender, content: { msgtype: 'm.text', body: 'hi' } };
}

function member(sender: string, target: string, membership: string, extra: JsonObject = {}): EventSpec {
  return { type: 'm.room.member', sender, stateKey: target, content: { membership, ...extra } };
}

function pl(room: TestRoom, sender: string, change: (c: JsonObject) => void): AuthResult {
  const content = structuredClone(standardPowerLevels(room.version));
  change(content);
  return check(room, { type: 'm.room.power_levels', sender, stateKey: '', content });
}

function users(c: JsonObject): JsonObject {
  return c.users as JsonObject;
}

function events(c: JsonObject): JsonObject {
  return c.events as JsonObject;
}

/** A create event as the version formats it, with `edit` applied to its parts. */
function createEvent(v: string, edit: (spec: EventSpec) => void = () => {}): RoomEvent {
  const room = new TestRoom(v);
  const spec: EventSpec = {
    type: 'm.room.create',
    sender: ALICE,
    stateKey: '',
    content: { ...room.create.content },
    prevEvents: [],
    eventId: room.create.eventId,
    roomId: room.version.roomIdFromCreate ? null : room.roomId,
  };
  edit(spec);
  return room.build(spec);
}

/** Auth events of a standard room's message from bob, as the selection algorithm picks them. */
function selection(v: string, edit: (room: TestRoom, picked: RoomEvent[]) => RoomEvent[], rejected?: (ev: RoomEvent) => boolean): AuthResult {
  const room = standardRoom(v);
  const state = room.state();
  const picked = [state.get('m.room.power_levels', '')!, state.get('m.room.member', BOB)!];
  if (!room.version.roomIdFromCreate) picked.unshift(room.create);
  const authEvents = edit(room, picked);
  const event = room.build({ ...msg(BOB), authEvents: authEvents.map((e) => e.eventId) });
  const isRejected = rejected && ((id: string) => authEvents.some((e) => e.eventId === id && rejected(e)));
  return checkAuthEventsSelection(event, authEvents, isRejected);
}

const keyPair = generateKeyPair();
const otherKeyPair = generateKeyPair();

/** A room where alice made an m.room.third_party_invite with `token`, and the invite's signed object. */
function tpiRoom(v: string, publicKeys: JsonObject, tpiSender = ALICE): TestRoom {
  const room = standardRoom(v);
  room.add({ type: 'm.room.third_party_invite', sender: tpiSender, stateKey: 'tok', content: { display_name: 'c...', ...publicKeys } });
  return room;
}

function signed(mxid: string, token: string, key = keyPair): JsonObject {
  return signJson({ mxid, token, sender: ALICE }, 'id.example', key) as JsonObject;
}

const pubKey = (): string => encodeBase64(keyPair.publicKey);

const ROWS: Row[] = [
  // ---- create ----
  { rule: 'create.prev_events', expect: 'reject', name: 'create event with prev_events', run: (v) => checkAuth(createEvent(v, (s) => (s.prevEvents = ['$earlier:a.example'])), new TestRoom(v).state()) },
  { rule: 'create.room_id_domain', expect: 'reject', name: "room id on another server than the sender's", run: (v) => checkAuth(createEvent(v, (s) => (s.roomId = '!room:other.example')), new TestRoom(v).state()) },
  { rule: 'create.room_id_domain', expect: 'reject', name: 'room id without a domain', run: (v) => checkAuth(createEvent(v, (s) => (s.roomId = '!nodomain')), new TestRoom(v).state()) },
  { rule: 'create.room_id_present', expect: 'reject', name: 'v12 create event with a room_id', run: (v) => checkAuth(createEvent(v, (s) => (s.roomId = '!room:a.example')), new TestRoom(v).state()) },
  { rule: 'create.room_version', expect: 'reject', name: 'unknown content.room_version', run: (v) => checkAuth(createEvent(v, (s) => (s.content!.room_version = '99')), new TestRoom(v).state()) },
  { rule: 'create.room_version', expect: 'reject', name: 'non-string content.room_version', run: (v) => checkAuth(createEvent(v, (s) => (s.content!.room_version = 5)), new TestRoom(v).state()) },
  { rule: 'create.creator', expect: 'reject', name: 'content without creator', run: (v) => checkAuth(createEvent(v, (s) => delete s.content!.creator), new TestRoom(v).state()) },
  { rule: 'create.additional_creators', expect: 'reject', name: 'additional_creators holds an invalid user ID', run: (v) => checkAuth(createEvent(v, (s) => (s.content!.additional_creators = [BOB, 'bob'])), new TestRoom(v).state()) },
  { rule: 'create.additional_creators', expect: 'reject', name: 'additional_creators is not an array', run: (v) => checkAuth(createEvent(v, (s) => (s.content!.additional_creators = BOB)), new TestRoom(v).state()) },
  { rule: 'create.additional_creators', expect: 'reject', name: 'additional_creators holds a non-string', run: (v) => checkAuth(createEvent(v, (s) => (s.content!.additional_creators = [7])), new TestRoom(v).state()) },
  { rule: 'create.allow', expect: 'allow', name: 'well-formed create event', run: (v) => checkAuth(createEvent(v), new TestRoom(v).state()) },
  { rule: 'create.allow', expect: 'allow', name: 'create event without room_version', run: (v) => checkAuth(createEvent(v, (s) => delete s.content!.room_version), new TestRoom(v).state()) },
  { rule: 'create.allow', expect: 'allow', name: 'v11+: no creator needed', when: (v) => v.implicitCreator, run: (v) => checkAuth(createEvent(v, (s) => delete s.content!.creator), new TestRoom(v).state()) },
  { rule: 'create.allow', expect: 'allow', name: 'v12: valid additional_creators', when: (v) => v.privilegedCreators, run: (v) => checkAuth(createEvent(v, (s) => (s.content!.additional_creators = [BOB, '@old:x.example'])), new TestRoom(v).state()) },

  // ---- v12 room id ----
  { rule: 'room_id.create', expect: 'reject', name: "room id is not the create event's id", run: (v) => check(standardRoom(v), { ...msg(BOB), roomId: '!someotherroom' }) },
  {
    rule: 'room_id.create',
    expect: 'reject',
    name: 'state has no create event',
    run: (v) => {
      const room = standardRoom(v);
      room.remove('m.room.create', '');
      return check(room, msg(BOB));
    },
  },

  // ---- auth_events (checkAuthEventsSelection) ----
  { rule: 'auth_events.duplicate', expect: 'reject', name: 'two power levels events', run: (v) => selection(v, (room, picked) => [...picked, room.add({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: {} })]) },
  { rule: 'auth_events.duplicate', expect: 'reject', name: 'one event listed twice', run: (v) => {
      const room = standardRoom(v);
      const pl = room.state().get('m.room.power_levels', '')!;
      const member = room.state().get('m.room.member', BOB)!;
      const event = room.build({ ...msg(BOB), authEvents: [pl.eventId, pl.eventId, member.eventId] });
      return checkAuthEventsSelection(event, [pl, member]);
    } },
  { rule: 'auth_events.unexpected', expect: 'reject', name: 'join rules cited by a message', run: (v) => selection(v, (room, picked) => [...picked, room.state().get('m.room.join_rules', '')!]) },
  { rule: 'auth_events.unexpected', expect: 'reject', name: "another user's member event cited by a message", run: (v) => selection(v, (room, picked) => [...picked, room.state().get('m.room.member', MOD)!]) },
  { rule: 'auth_events.unexpected', expect: 'reject', name: 'a message event cited', run: (v) => selection(v, (room, picked) => [...picked, room.add(msg(ALICE))]) },
  { rule: 'auth_events.unexpected', expect: 'reject', name: 'v12: the create event cited', when: (v) => v.roomIdFromCreate, run: (v) => selection(v, (room, picked) => [room.create, ...picked]) },
  { rule: 'auth_events.unexpected', expect: 'reject', name: 'a listed auth event not supplied', run: (v) => {
      const room = standardRoom(v);
      const pl = room.state().get('m.room.power_levels', '')!;
      return checkAuthEventsSelection(room.build({ ...msg(BOB), authEvents: [pl.eventId, '$missing'] }), [pl]);
    } },
  { rule: 'auth_events.rejected', expect: 'reject', name: 'the cited power levels event was rejected', run: (v) => selection(v, (_room, picked) => picked, (e) => e.type === 'm.room.power_levels') },
  { rule: 'auth_events.no_create', expect: 'reject', name: 'no create event cited', run: (v) => selection(v, (_room, picked) => picked.filter((e) => e.type !== 'm.room.create')) },
  { rule: 'auth_events.no_create', expect: 'reject', name: 'checkAuth with state lacking the create event', run: (v) => {
      const room = standardRoom(v);
      room.remove('m.room.create', '');
      return check(room, msg(BOB));
    } },
  { rule: 'auth_events.room_id', expect: 'reject', name: 'cited event from another room', run: (v) => selection(v, (room, picked) => [
      ...picked.filter((e) => e.type !== 'm.room.power_levels'),
      room.build({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: {}, roomId: '!elsewhere:a.example' }),
    ]) },
  { rule: 'auth_events.room_id', expect: 'reject', name: "checkAuth with another room's create event", when: (v) => !v.roomIdFromCreate, run: (v) => check(standardRoom(v), { ...msg(BOB), roomId: '!other:a.example' }) },

  // ---- m.federate ----
  { rule: 'federate', expect: 'reject', name: 'other server in a non-federating room', run: (v) => check(standardRoom(v, { createContent: { 'm.federate': false } }), msg(BOB)) },
  { rule: 'federate', expect: 'reject', name: 'other server joining a non-federating public room', run: (v) => check(standardRoom(v, { joinRule: 'public', createContent: { 'm.federate': false } }), member(CAROL, CAROL, 'join')) },
  { rule: 'allow', expect: 'allow', name: "creator's server in a non-federating room", run: (v) => check(standardRoom(v, { createContent: { 'm.federate': false } }), msg(ALICE)) },
  { rule: 'allow', expect: 'allow', name: 'm.federate true lets other servers in', run: (v) => check(standardRoom(v, { createContent: { 'm.federate': true } }), msg(BOB)) },

  // ---- m.room.aliases (v1–5) ----
  { rule: 'aliases.state_key', expect: 'reject', name: 'aliases without state_key', run: (v) => check(standardRoom(v), { type: 'm.room.aliases', sender: BOB, content: { aliases: [] } }) },
  { rule: 'aliases.domain', expect: 'reject', name: "state_key is not the sender's server", run: (v) => check(standardRoom(v), { type: 'm.room.aliases', sender: BOB, stateKey: 'a.example', content: { aliases: [] } }) },
  { rule: 'aliases.allow', expect: 'allow', name: 'any server for its own domain, even without membership', run: (v) => check(standardRoom(v), { type: 'm.room.aliases', sender: CAROL, stateKey: 'c.example', content: { aliases: ['#x:c.example'] } }) },
  { rule: 'sender_joined', expect: 'reject', name: 'v6+: aliases are ordinary state events', when: (v) => !v.specialCaseAliasesAuth, run: (v) => check(standardRoom(v), { type: 'm.room.aliases', sender: CAROL, stateKey: 'c.example', content: { aliases: [] } }) },
  { rule: 'event.power', expect: 'reject', name: 'v6+: aliases need the state level', when: (v) => !v.specialCaseAliasesAuth, run: (v) => check(standardRoom(v), { type: 'm.room.aliases', sender: BOB, stateKey: 'b.example', content: { aliases: [] } }) },

  // ---- member: format and signature ----
  { rule: 'member.format', expect: 'reject', name: 'no membership in content', run: (v) => check(standardRoom(v), { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { displayname: 'b' } }) },
  { rule: 'member.format', expect: 'reject', name: 'no state_key', run: (v) => check(standardRoom(v), { type: 'm.room.member', sender: BOB, content: { membership: 'join' } }) },
  { rule: 'member.authorised_via_signature', expect: 'reject', name: "no signature from the authoriser's server", run: (v) => check(standardRoom(v, { joinRule: 'restricted' }), { ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD }) }) },
  { rule: 'member.authorised_via_signature', expect: 'reject', name: 'the signature verifier says no', run: (v) => check(
      standardRoom(v, { joinRule: 'restricted' }),
      { ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD }), signatures: { 'c.example': { 'ed25519:a': 'x' }, 'b.example': { 'ed25519:a': 'x' } } },
      { isSignedByServer: (_e, server) => server !== 'b.example' },
    ) },
  { rule: 'member.authorised_via_signature', expect: 'reject', name: 'key is not a user ID', run: (v) => check(standardRoom(v, { joinRule: 'public' }), member(CAROL, CAROL, 'join', { join_authorised_via_users_server: 'b.example' })) },
  { rule: 'member.authorised_via_signature', expect: 'reject', name: 'applies to any membership (a leave)', run: (v) => check(standardRoom(v), member(BOB, BOB, 'leave', { join_authorised_via_users_server: MOD2 })) },

  // ---- member: join ----
  { rule: 'member.join.creator', expect: 'allow', name: "creator's join right after the create event", run: (v) => {
      const room = new TestRoom(v);
      return check(room, { ...member(ALICE, ALICE, 'join'), prevEvents: [room.create.eventId] });
    } },
  { rule: 'member.join.creator', expect: 'allow', name: 'v1–10: the creator is content.creator, not the sender', when: (v) => !v.implicitCreator, run: (v) => {
      const room = new TestRoom(v, { creator: BOB });
      return check(room, { ...member(BOB, BOB, 'join'), prevEvents: [room.create.eventId] });
    } },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'v11+: content.creator is ignored', when: (v) => v.implicitCreator, run: (v) => {
      const room = new TestRoom(v, { creator: BOB });
      return check(room, { ...member(BOB, BOB, 'join'), prevEvents: [room.create.eventId] });
    } },
  { rule: 'member.join.otherwise', expect: 'reject', name: "creator's first join with another prev event", run: (v) => {
      const room = new TestRoom(v);
      return check(room, { ...member(ALICE, ALICE, 'join'), prevEvents: [room.create.eventId, '$other:a.example'] });
    } },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'v12: an additional creator is not the creator of rule 5.3.1', when: (v) => v.privilegedCreators, run: (v) => {
      const room = new TestRoom(v, { additional_creators: [BOB] });
      return check(room, { ...member(BOB, BOB, 'join'), prevEvents: [room.create.eventId] });
    } },
  { rule: 'member.join.sender', expect: 'reject', name: 'joining someone else', run: (v) => check(standardRoom(v, { joinRule: 'public' }), member(ALICE, CAROL, 'join')) },
  { rule: 'member.join.banned', expect: 'reject', name: 'banned user joins a public room', run: (v) => check(standardRoom(v, { joinRule: 'public', members: { [CAROL]: 'ban' } }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.invite', expect: 'allow', name: 'invited user joins an invite room', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'invite' } }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.invite', expect: 'allow', name: 'joined user updates their member event', run: (v) => check(standardRoom(v), member(BOB, BOB, 'join', { displayname: 'Bob' })) },
  { rule: 'member.join.invite', expect: 'allow', name: 'no join rules event means invite', run: (v) => {
      const room = standardRoom(v, { members: { [CAROL]: 'invite' } });
      room.remove('m.room.join_rules', '');
      return check(room, member(CAROL, CAROL, 'join'));
    } },
  { rule: 'member.join.invite', expect: 'allow', name: 'v7+: invited user joins a knock room', when: (v) => v.knock, run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'invite' } }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'v1–6: knock join rule is unknown', when: (v) => !v.knock, run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'invite' } }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'uninvited user joins an invite room', run: (v) => check(standardRoom(v), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'knocked user joins a knock room', when: (v) => v.knock, run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'knock' } }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'private join rule', run: (v) => check(standardRoom(v, { joinRule: 'private' }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'v1–7: restricted join rule is unknown', when: (v) => !v.restrictedJoins, run: (v) => check(standardRoom(v, { joinRule: 'restricted' }), member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD })) },
  { rule: 'member.join.otherwise', expect: 'reject', name: 'v8–9: knock_restricted join rule is unknown', when: (v) => v.restrictedJoins && !v.knockRestricted, run: (v) => check(standardRoom(v, { joinRule: 'knock_restricted' }), { ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD }), signatures: { 'c.example': { 'ed25519:a': 'x' }, 'b.example': { 'ed25519:a': 'x' } } }) },
  { rule: 'member.join.restricted.member', expect: 'allow', name: 'invited user joins a restricted room', run: (v) => check(standardRoom(v, { joinRule: 'restricted', members: { [CAROL]: 'invite' } }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.restricted.member', expect: 'allow', name: 'v10+: invited user joins a knock_restricted room', when: (v) => v.knockRestricted, run: (v) => check(standardRoom(v, { joinRule: 'knock_restricted', members: { [CAROL]: 'invite' } }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.restricted.authoriser', expect: 'reject', name: 'no join_authorised_via_users_server', run: (v) => check(standardRoom(v, { joinRule: 'restricted' }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.restricted.authoriser', expect: 'reject', name: 'authoriser is not joined', run: (v) => check(standardRoom(v, { joinRule: 'restricted', members: { [DAVE]: 'invite' } }), { ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: DAVE }), signatures: { 'c.example': { 'ed25519:a': 'x' }, 'd.example': { 'ed25519:a': 'x' } } }) },
  { rule: 'member.join.restricted.authoriser', expect: 'reject', name: 'authoriser is below the invite level', run: (v) => {
      const content = standardPowerLevels(version(v));
      content.invite = 50;
      return check(standardRoom(v, { joinRule: 'restricted', powerLevels: content }), { ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: BOB }), signatures: { 'c.example': { 'ed25519:a': 'x' }, 'b.example': { 'ed25519:a': 'x' } } });
    } },
  { rule: 'member.join.restricted.allow', expect: 'allow', name: 'authorised by a joined user who may invite', run: (v) => check(standardRoom(v, { joinRule: 'restricted' }), { ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD }), signatures: { 'c.example': { 'ed25519:a': 'x' }, 'b.example': { 'ed25519:a': 'x' } } }) },
  { rule: 'member.join.restricted.allow', expect: 'allow', name: 'v10+: knock_restricted room, authorised', when: (v) => v.knockRestricted, run: (v) => check(standardRoom(v, { joinRule: 'knock_restricted' }), { ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD }), signatures: { 'c.example': { 'ed25519:a': 'x' }, 'b.example': { 'ed25519:a': 'x' } } }) },
  { rule: 'member.join.restricted.allow', expect: 'allow', name: 'with a signature verifier that accepts', run: (v) => check(standardRoom(v, { joinRule: 'restricted' }), member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD }), { isSignedByServer: (_e, server) => server === 'b.example' }) },
  { rule: 'member.join.public', expect: 'allow', name: 'anyone joins a public room', run: (v) => check(standardRoom(v, { joinRule: 'public' }), member(CAROL, CAROL, 'join')) },
  { rule: 'member.join.public', expect: 'allow', name: 'user who left rejoins a public room', run: (v) => check(standardRoom(v, { joinRule: 'public', members: { [CAROL]: 'leave' } }), member(CAROL, CAROL, 'join')) },

  // ---- member: invite with third_party_invite ----
  { rule: 'member.invite.tpi.banned', expect: 'reject', name: 'invited user is banned', run: (v) => {
      const room = tpiRoom(v, { public_key: pubKey() });
      room.member(CAROL, 'ban', ALICE);
      return check(room, member(ALICE, CAROL, 'invite', { third_party_invite: { display_name: 'c', signed: signed(CAROL, 'tok') } }));
    } },
  { rule: 'member.invite.tpi.signed', expect: 'reject', name: 'no signed property', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { display_name: 'c' } })) },
  { rule: 'member.invite.tpi.signed', expect: 'reject', name: 'third_party_invite is not an object', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: 'tok' })) },
  { rule: 'member.invite.tpi.mxid_token', expect: 'reject', name: 'signed without token', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: { mxid: CAROL, signatures: {} } } })) },
  { rule: 'member.invite.tpi.mxid_token', expect: 'reject', name: 'signed without mxid', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: { token: 'tok', signatures: {} } } })) },
  { rule: 'member.invite.tpi.mxid', expect: 'reject', name: 'mxid is not the state_key', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: signed(DAVE, 'tok') } })) },
  { rule: 'member.invite.tpi.event', expect: 'reject', name: 'no m.room.third_party_invite for the token', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: signed(CAROL, 'other') } })) },
  { rule: 'member.invite.tpi.event', expect: 'reject', name: 'token is not a string', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: { mxid: CAROL, token: 5, signatures: {} } } })) },
  { rule: 'member.invite.tpi.sender', expect: 'reject', name: 'sender did not make the third party invite', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(MOD, CAROL, 'invite', { third_party_invite: { signed: signed(CAROL, 'tok') } })) },
  { rule: 'member.invite.tpi.signature', expect: 'allow', name: 'signed with public_key', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { display_name: 'c', signed: signed(CAROL, 'tok') } })) },
  { rule: 'member.invite.tpi.signature', expect: 'allow', name: 'signed with a key from public_keys', run: (v) => check(
      tpiRoom(v, { public_key: encodeBase64(otherKeyPair.publicKey), public_keys: [{ public_key: 'not base64!' }, { public_key: pubKey(), key_validity_url: 'https://id.example/v' }] }),
      member(ALICE, CAROL, 'invite', { third_party_invite: { signed: signed(CAROL, 'tok') } }),
    ) },
  { rule: 'member.invite.tpi.signature', expect: 'allow', name: 'sender need not be joined', run: (v) => {
      const room = tpiRoom(v, { public_key: pubKey() }, CAROL);
      return check(room, member(CAROL, DAVE, 'invite', { third_party_invite: { signed: signed(DAVE, 'tok') } }));
    } },
  { rule: 'member.invite.tpi.otherwise', expect: 'reject', name: 'signed by a key the invite does not list', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: signed(CAROL, 'tok', otherKeyPair) } })) },
  { rule: 'member.invite.tpi.otherwise', expect: 'reject', name: 'signed content altered after signing', run: (v) => {
      const s = signed(CAROL, 'tok');
      s.sender = BOB;
      return check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: s } }));
    } },
  { rule: 'member.invite.tpi.otherwise', expect: 'reject', name: 'no signatures', run: (v) => check(tpiRoom(v, { public_key: pubKey() }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: { mxid: CAROL, token: 'tok' } } })) },
  { rule: 'member.invite.tpi.otherwise', expect: 'reject', name: 'invite event has no usable public key', run: (v) => check(tpiRoom(v, { public_key: 'not base64!', public_keys: 'x' }), member(ALICE, CAROL, 'invite', { third_party_invite: { signed: signed(CAROL, 'tok') } })) },

  // ---- member: invite ----
  { rule: 'member.invite.sender_joined', expect: 'reject', name: 'inviter not in the room', run: (v) => check(standardRoom(v), member(CAROL, DAVE, 'invite')) },
  { rule: 'member.invite.sender_joined', expect: 'reject', name: 'inviter only invited', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'invite' } }), member(CAROL, DAVE, 'invite')) },
  { rule: 'member.invite.target', expect: 'reject', name: 'target already joined', run: (v) => check(standardRoom(v), member(ALICE, BOB, 'invite')) },
  { rule: 'member.invite.target', expect: 'reject', name: 'target banned', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'ban' } }), member(ALICE, CAROL, 'invite')) },
  { rule: 'member.invite.power', expect: 'allow', name: 'member at the invite level (0)', run: (v) => check(standardRoom(v), member(BOB, CAROL, 'invite')) },
  { rule: 'member.invite.power', expect: 'allow', name: 're-inviting an invited user', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'invite' } }), member(BOB, CAROL, 'invite')) },
  { rule: 'member.invite.power', expect: 'allow', name: 'inviting a user who knocked', when: (v) => v.knock, run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'knock' } }), member(MOD, CAROL, 'invite')) },
  { rule: 'member.invite.otherwise', expect: 'reject', name: 'member below the invite level', run: (v) => {
      const content = standardPowerLevels(version(v));
      content.invite = 50;
      return check(standardRoom(v, { powerLevels: content }), member(BOB, CAROL, 'invite'));
    } },

  // ---- member: leave ----
  { rule: 'member.leave.self', expect: 'allow', name: 'joined user leaves', run: (v) => check(standardRoom(v), member(BOB, BOB, 'leave')) },
  { rule: 'member.leave.self', expect: 'allow', name: 'invited user rejects the invite', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'invite' } }), member(CAROL, CAROL, 'leave')) },
  { rule: 'member.leave.self', expect: 'allow', name: 'v7+: knocking user withdraws the knock', when: (v) => v.knock, run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'knock' } }), member(CAROL, CAROL, 'leave')) },
  { rule: 'member.leave.self', expect: 'reject', name: 'v1–6: knock is not a membership one can leave', when: (v) => !v.knock, run: (v) => check(standardRoom(v, { members: { [CAROL]: 'knock' } }), member(CAROL, CAROL, 'leave')) },
  { rule: 'member.leave.self', expect: 'reject', name: 'user who is not in the room leaves', run: (v) => check(standardRoom(v), member(CAROL, CAROL, 'leave')) },
  { rule: 'member.leave.self', expect: 'reject', name: 'banned user unbans themselves', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'ban' } }), member(CAROL, CAROL, 'leave')) },
  { rule: 'member.leave.sender_joined', expect: 'reject', name: 'kicker not in the room', run: (v) => check(standardRoom(v), member(CAROL, BOB, 'leave')) },
  { rule: 'member.leave.banned', expect: 'reject', name: 'unban by a kicker below the ban level', run: (v) => {
      const content = standardPowerLevels(version(v));
      content.ban = 75;
      return check(standardRoom(v, { powerLevels: content, members: { [CAROL]: 'ban' } }), member(MOD, CAROL, 'leave'));
    } },
  { rule: 'member.leave.kick', expect: 'allow', name: 'moderator kicks a member', run: (v) => check(standardRoom(v), member(MOD, BOB, 'leave')) },
  { rule: 'member.leave.kick', expect: 'allow', name: 'moderator unbans', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'ban' } }), member(MOD, CAROL, 'leave')) },
  { rule: 'member.leave.kick', expect: 'allow', name: 'moderator revokes an invite', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'invite' } }), member(MOD, CAROL, 'leave')) },
  { rule: 'member.leave.kick', expect: 'allow', name: 'creator kicks a moderator', run: (v) => check(standardRoom(v), member(ALICE, MOD, 'leave')) },
  { rule: 'member.leave.otherwise', expect: 'reject', name: 'member below the kick level', run: (v) => check(standardRoom(v), member(BOB, CAROL, 'leave')) },
  { rule: 'member.leave.otherwise', expect: 'reject', name: 'kicking an equal', run: (v) => check(standardRoom(v), member(MOD, MOD2, 'leave')) },
  { rule: 'member.leave.otherwise', expect: 'reject', name: 'kicking a higher user', run: (v) => check(standardRoom(v), member(MOD, ALICE, 'leave')) },
  { rule: 'member.leave.otherwise', expect: 'reject', name: 'v12: creator cannot kick another creator', when: (v) => v.privilegedCreators, run: (v) => {
      const room = standardRoom(v, { createContent: { additional_creators: [CAROL] }, members: { [CAROL]: 'join' } });
      return check(room, member(ALICE, CAROL, 'leave'));
    } },

  // ---- member: ban ----
  { rule: 'member.ban.sender_joined', expect: 'reject', name: 'banner not in the room', run: (v) => check(standardRoom(v), member(CAROL, BOB, 'ban')) },
  { rule: 'member.ban.power', expect: 'allow', name: 'moderator bans a member', run: (v) => check(standardRoom(v), member(MOD, BOB, 'ban')) },
  { rule: 'member.ban.power', expect: 'allow', name: 'moderator bans a user never in the room', run: (v) => check(standardRoom(v), member(MOD, DAVE, 'ban')) },
  { rule: 'member.ban.power', expect: 'allow', name: 'v12: creator bans anyone else', when: (v) => v.privilegedCreators, run: (v) => {
      const content = standardPowerLevels(version(v));
      users(content)[BOB] = 9007199254740991;
      return check(standardRoom(v, { powerLevels: content }), member(ALICE, BOB, 'ban'));
    } },
  { rule: 'member.ban.otherwise', expect: 'reject', name: 'member below the ban level', run: (v) => check(standardRoom(v), member(BOB, CAROL, 'ban')) },
  { rule: 'member.ban.otherwise', expect: 'reject', name: 'banning an equal', run: (v) => check(standardRoom(v), member(MOD, MOD2, 'ban')) },
  { rule: 'member.ban.otherwise', expect: 'reject', name: 'v12: nobody outranks a creator', when: (v) => v.privilegedCreators, run: (v) => {
      const content = standardPowerLevels(version(v));
      users(content)[MOD] = 9007199254740991;
      return check(standardRoom(v, { powerLevels: content }), member(MOD, ALICE, 'ban'));
    } },

  // ---- member: knock (v7+) ----
  { rule: 'member.knock.join_rule', expect: 'reject', name: 'knock on an invite room', run: (v) => check(standardRoom(v), member(CAROL, CAROL, 'knock')) },
  { rule: 'member.knock.join_rule', expect: 'reject', name: 'knock on a public room', run: (v) => check(standardRoom(v, { joinRule: 'public' }), member(CAROL, CAROL, 'knock')) },
  { rule: 'member.knock.join_rule', expect: 'reject', name: 'v7–9: knock_restricted is not a knock rule', when: (v) => !v.knockRestricted, run: (v) => check(standardRoom(v, { joinRule: 'knock_restricted' }), member(CAROL, CAROL, 'knock')) },
  { rule: 'member.knock.sender', expect: 'reject', name: 'knock on behalf of another user', run: (v) => check(standardRoom(v, { joinRule: 'knock' }), member(BOB, CAROL, 'knock')) },
  { rule: 'member.knock.membership', expect: 'allow', name: 'outsider knocks on a knock room', run: (v) => check(standardRoom(v, { joinRule: 'knock' }), member(CAROL, CAROL, 'knock')) },
  { rule: 'member.knock.membership', expect: 'allow', name: 'v10+: outsider knocks on a knock_restricted room', when: (v) => v.knockRestricted, run: (v) => check(standardRoom(v, { joinRule: 'knock_restricted' }), member(CAROL, CAROL, 'knock')) },
  { rule: 'member.knock.membership', expect: 'allow', name: 'user who left knocks again', run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'leave' } }), member(CAROL, CAROL, 'knock')) },
  { rule: 'member.knock.otherwise', expect: 'reject', name: 'joined user knocks', run: (v) => check(standardRoom(v, { joinRule: 'knock' }), member(BOB, BOB, 'knock')) },
  { rule: 'member.knock.otherwise', expect: 'reject', name: 'invited user knocks', run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'invite' } }), member(CAROL, CAROL, 'knock')) },
  { rule: 'member.knock.otherwise', expect: 'reject', name: 'banned user knocks', run: (v) => check(standardRoom(v, { joinRule: 'knock', members: { [CAROL]: 'ban' } }), member(CAROL, CAROL, 'knock')) },

  // ---- member: unknown ----
  { rule: 'member.unknown', expect: 'reject', name: 'unknown membership string', run: (v) => check(standardRoom(v), member(BOB, BOB, 'dance')) },
  { rule: 'member.unknown', expect: 'reject', name: 'membership is not a string', run: (v) => check(standardRoom(v), { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 5 } }) },
  { rule: 'member.unknown', expect: 'reject', name: 'v1–6: knock is unknown', when: (v) => !v.knock, run: (v) => check(standardRoom(v, { joinRule: 'knock' }), member(CAROL, CAROL, 'knock')) },

  // ---- sender membership ----
  { rule: 'sender_joined', expect: 'reject', name: 'outsider sends a message', run: (v) => check(standardRoom(v), msg(CAROL)) },
  { rule: 'sender_joined', expect: 'reject', name: 'invited user sends a message', run: (v) => check(standardRoom(v, { members: { [CAROL]: 'invite' } }), msg(CAROL)) },
  { rule: 'sender_joined', expect: 'reject', name: 'user who left sends state', run: (v) => check(standardRoom(v, { members: { [MOD]: 'leave' } }), { type: 'm.room.topic', sender: MOD, stateKey: '', content: { topic: 't' } }) },

  // ---- m.room.third_party_invite ----
  { rule: 'third_party_invite.invite_level', expect: 'allow', name: 'member at the invite level', run: (v) => check(standardRoom(v), { type: 'm.room.third_party_invite', sender: BOB, stateKey: 'tok', content: { public_key: 'k' } }) },
  { rule: 'third_party_invite.invite_level', expect: 'allow', name: 'invite level wins over the state level', run: (v) => {
      const content = standardPowerLevels(version(v));
      events(content)['m.room.third_party_invite'] = 100;
      return check(standardRoom(v, { powerLevels: content }), { type: 'm.room.third_party_invite', sender: BOB, stateKey: 'tok', content: {} });
    } },
  { rule: 'third_party_invite.invite_level', expect: 'reject', name: 'member below the invite level', run: (v) => {
      const content = standardPowerLevels(version(v));
      content.invite = 10;
      return check(standardRoom(v, { powerLevels: content }), { type: 'm.room.third_party_invite', sender: BOB, stateKey: 'tok', content: {} });
    } },

  // ---- required power level ----
  { rule: 'event.power', expect: 'reject', name: 'state event below state_default', run: (v) => check(standardRoom(v), { type: 'm.room.topic', sender: BOB, stateKey: '', content: { topic: 't' } }) },
  { rule: 'event.power', expect: 'reject', name: 'message type with its own level', run: (v) => {
      const content = standardPowerLevels(version(v));
      events(content)['m.room.message'] = 10;
      return check(standardRoom(v, { powerLevels: content }), msg(BOB));
    } },
  { rule: 'event.power', expect: 'reject', name: 'message below events_default', run: (v) => {
      const content = standardPowerLevels(version(v));
      content.events_default = 1;
      return check(standardRoom(v, { powerLevels: content }), msg(BOB));
    } },
  { rule: 'event.power', expect: 'reject', name: 'no power levels event: state needs 50', run: (v) => check(standardRoom(v, { powerLevels: null }), { type: 'm.room.topic', sender: BOB, stateKey: '', content: {} }) },
  { rule: 'event.power', expect: 'reject', name: 'tombstone needs its own level', run: (v) => check(standardRoom(v), { type: 'm.room.tombstone', sender: MOD, stateKey: '', content: {} }) },
  { rule: 'event.power', expect: 'reject', name: 'v3+: redaction below its event level', when: (v) => v.eventIdFormat !== 'v1', run: (v) => {
      const content = standardPowerLevels(version(v));
      events(content)['m.room.redaction'] = 50;
      return check(standardRoom(v, { powerLevels: content }), { type: 'm.room.redaction', sender: BOB, redacts: '$x', content: {} });
    } },
  { rule: 'allow', expect: 'allow', name: 'moderator sends a state event at state_default', run: (v) => check(standardRoom(v), { type: 'm.room.topic', sender: MOD, stateKey: '', content: { topic: 't' } }) },
  { rule: 'allow', expect: 'allow', name: 'no power levels event: creator sends state', run: (v) => check(standardRoom(v, { powerLevels: null }), { type: 'm.room.topic', sender: ALICE, stateKey: '', content: {} }) },
  { rule: 'allow', expect: 'allow', name: 'no power levels event: anyone sends messages', run: (v) => check(standardRoom(v, { powerLevels: null }), msg(BOB)) },
  { rule: 'allow', expect: 'allow', name: 'ordinary member sends a message', run: (v) => check(standardRoom(v), msg(BOB)) },
  { rule: 'allow', expect: 'allow', name: 'v3+: redaction of another server\'s event, no redact level needed', when: (v) => v.eventIdFormat !== 'v1', run: (v) => check(standardRoom(v), { type: 'm.room.redaction', sender: BOB, redacts: '$someone-else', content: {} }) },
  { rule: 'allow', expect: 'allow', name: 'v12: additional creator sends a tombstone', when: (v) => v.privilegedCreators, run: (v) => check(standardRoom(v, { createContent: { additional_creators: [BOB] } }), { type: 'm.room.tombstone', sender: BOB, stateKey: '', content: {} }) },

  // ---- state_key starting with @ ----
  { rule: 'state_key.user', expect: 'reject', name: "state_key is another user's ID", run: (v) => check(standardRoom(v), { type: 'org.example.status', sender: MOD, stateKey: BOB, content: {} }) },
  { rule: 'allow', expect: 'allow', name: "state_key is the sender's own ID", run: (v) => check(standardRoom(v), { type: 'org.example.status', sender: MOD, stateKey: MOD, content: {} }) },

  // ---- power levels: format ----
  { rule: 'power_levels.values', expect: 'reject', name: 'v10+: string ban level', when: (v) => v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (c.ban = '50')) },
  { rule: 'power_levels.values', expect: 'reject', name: 'v10+: string users_default', when: (v) => v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (c.users_default = '0')) },
  { rule: 'power_levels.values', expect: 'reject', name: 'non-numeric string', run: (v) => pl(standardRoom(v), ALICE, (c) => (c.kick = 'fifty')) },
  { rule: 'power_levels.values', expect: 'reject', name: 'decimal string', run: (v) => pl(standardRoom(v), ALICE, (c) => (c.kick = '50.5')) },
  { rule: 'power_levels.values', expect: 'reject', name: 'boolean', run: (v) => pl(standardRoom(v), ALICE, (c) => (c.redact = true)) },
  { rule: 'power_levels.values', expect: 'reject', name: 'null', run: (v) => pl(standardRoom(v), ALICE, (c) => (c.invite = null)) },
  { rule: 'power_levels.values', expect: 'reject', name: 'v6+: float', when: (v) => v.strictCanonicalJson, run: (v) => pl(standardRoom(v), ALICE, (c) => (c.state_default = 50.5)) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v1–9: stringy values ("50", " +100 ", "000100")', when: (v) => !v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => {
      c.ban = '50';
      c.kick = ' +50 ';
      c.events_default = '000';
    }) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v1–5: float values are truncated', when: (v) => !v.strictCanonicalJson, run: (v) => pl(standardRoom(v), ALICE, (c) => (c.ban = 50.57)) },
  { rule: 'power_levels.maps', expect: 'reject', name: 'v10+: string in events', when: (v) => v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (events(c)['m.room.name'] = '50')) },
  { rule: 'power_levels.maps', expect: 'reject', name: 'v10+: string in notifications', when: (v) => v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (c.notifications = { room: '50' })) },
  { rule: 'power_levels.maps', expect: 'reject', name: 'events is not an object', run: (v) => pl(standardRoom(v), ALICE, (c) => (c.events = [50])) },
  { rule: 'power_levels.maps', expect: 'reject', name: 'v6+: notifications is not an object', when: (v) => v.notificationsPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (c.notifications = 50)) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v1–5: notifications are not checked', when: (v) => !v.notificationsPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (c.notifications = 'x')) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v1–9: stringy values in events and notifications', when: (v) => !v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => {
      events(c)['m.room.name'] = '50';
      c.notifications = { room: '20' };
    }) },
  { rule: 'power_levels.users', expect: 'reject', name: 'users key is not a user ID', run: (v) => pl(standardRoom(v), ALICE, (c) => (users(c)['bob'] = 10)) },
  { rule: 'power_levels.users', expect: 'reject', name: 'users value is not a number', run: (v) => pl(standardRoom(v), ALICE, (c) => (users(c)[BOB] = 'ten')) },
  { rule: 'power_levels.users', expect: 'reject', name: 'users is not an object', run: (v) => pl(standardRoom(v), ALICE, (c) => (c.users = 'everyone')) },
  { rule: 'power_levels.users', expect: 'reject', name: 'v10+: users value is an integer string', when: (v) => v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (users(c)[BOB] = '10')) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v1–9: users value is an integer string', when: (v) => !v.integerPowerLevels, run: (v) => pl(standardRoom(v), ALICE, (c) => (users(c)[BOB] = '10')) },
  { rule: 'power_levels.creators', expect: 'reject', name: 'the create sender is listed in users', run: (v) => pl(standardRoom(v), ALICE, (c) => (users(c)[ALICE] = 100)) },
  { rule: 'power_levels.creators', expect: 'reject', name: 'an additional creator is listed in users', run: (v) => pl(standardRoom(v, { createContent: { additional_creators: [CAROL] }, members: { [CAROL]: 'join' } }), ALICE, (c) => (users(c)[CAROL] = 0)) },
  { rule: 'power_levels.creators', expect: 'reject', name: 'even in the first power levels event', run: (v) => check(standardRoom(v, { powerLevels: null }), { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100 } } }) },

  // ---- power levels: changes ----
  { rule: 'power_levels.initial', expect: 'allow', name: 'first power levels event may set anything', run: (v) => check(standardRoom(v, { powerLevels: null }), { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [BOB]: 1000 }, ban: 1000, events: { 'm.room.name': 1000 } } }) },
  { rule: 'event.power', expect: 'reject', name: 'first power levels event still needs state_default', run: (v) => check(standardRoom(v, { powerLevels: null }), { type: 'm.room.power_levels', sender: BOB, stateKey: '', content: {} }) },
  { rule: 'power_levels.top_level', expect: 'reject', name: 'raising ban above own level', run: (v) => pl(standardRoom(v), MOD, (c) => (c.ban = 51)) },
  { rule: 'power_levels.top_level', expect: 'reject', name: 'lowering a level that is above own level', run: (v) => {
      const content = standardPowerLevels(version(v));
      content.kick = 75;
      const room = standardRoom(v, { powerLevels: content });
      return pl(room, MOD, (c) => (c.kick = 40));
    } },
  { rule: 'power_levels.top_level', expect: 'reject', name: 'removing a level that is above own level', run: (v) => {
      const content = standardPowerLevels(version(v));
      content.redact = 75;
      const room = standardRoom(v, { powerLevels: content });
      return pl(room, MOD, (c) => delete c.redact);
    } },
  { rule: 'power_levels.top_level', expect: 'reject', name: 'adding a level above own level', run: (v) => {
      const content = standardPowerLevels(version(v));
      delete content.ban;
      return pl(standardRoom(v, { powerLevels: content }), MOD, (c) => (c.ban = 60));
    } },
  { rule: 'power_levels.allow', expect: 'allow', name: 'changing levels within own level', run: (v) => pl(standardRoom(v), MOD, (c) => {
      c.kick = 40;
      c.state_default = 50;
      c.users_default = 10;
    }) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'removing a level within own level (explicit values compared)', run: (v) => pl(standardRoom(v), MOD, (c) => delete c.kick) },
  { rule: 'power_levels.events_current', expect: 'reject', name: 'lowering an event level above own level', run: (v) => pl(standardRoom(v), MOD, (c) => (events(c)['m.room.tombstone'] = 50)) },
  { rule: 'power_levels.events_current', expect: 'reject', name: 'removing an event level above own level', run: (v) => pl(standardRoom(v), MOD, (c) => delete events(c)['m.room.tombstone']) },
  { rule: 'power_levels.events_current', expect: 'reject', name: 'v6+: lowering a notification level above own level', when: (v) => v.notificationsPowerLevels, run: (v) => {
      const content = standardPowerLevels(version(v));
      content.notifications = { room: 100 };
      return pl(standardRoom(v, { powerLevels: content }), MOD, (c) => (c.notifications = { room: 0 }));
    } },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v1–5: notification levels are not protected', when: (v) => !v.notificationsPowerLevels, run: (v) => {
      const content = standardPowerLevels(version(v));
      content.notifications = { room: 100 };
      return pl(standardRoom(v, { powerLevels: content }), MOD, (c) => (c.notifications = { room: 0 }));
    } },
  { rule: 'power_levels.events_new', expect: 'reject', name: 'raising an event level above own level', run: (v) => pl(standardRoom(v), MOD, (c) => (events(c)['m.room.power_levels'] = 60)) },
  { rule: 'power_levels.events_new', expect: 'reject', name: 'adding an event level above own level', run: (v) => pl(standardRoom(v), MOD, (c) => (events(c)['m.room.name'] = 51)) },
  { rule: 'power_levels.events_new', expect: 'reject', name: 'v6+: adding a notification level above own level', when: (v) => v.notificationsPowerLevels, run: (v) => pl(standardRoom(v), MOD, (c) => (c.notifications = { room: 50, 'org.example': 75 })) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'adding event and notification levels at own level', run: (v) => pl(standardRoom(v), MOD, (c) => {
      events(c)['m.room.name'] = 50;
      c.notifications = { room: 50, 'org.example': 50 };
    }) },
  { rule: 'power_levels.users_current', expect: 'reject', name: 'demoting an equal', run: (v) => pl(standardRoom(v), MOD, (c) => (users(c)[MOD2] = 0)) },
  { rule: 'power_levels.users_current', expect: 'reject', name: 'removing an equal', run: (v) => pl(standardRoom(v), MOD, (c) => delete users(c)[MOD2]) },
  { rule: 'power_levels.users_current', expect: 'reject', name: 'demoting a higher user', when: (v) => !v.privilegedCreators, run: (v) => pl(standardRoom(v), MOD, (c) => (users(c)[ALICE] = 0)) },
  { rule: 'power_levels.users_new', expect: 'reject', name: 'promoting above own level', run: (v) => pl(standardRoom(v), MOD, (c) => (users(c)[BOB] = 51)) },
  { rule: 'power_levels.users_new', expect: 'reject', name: 'raising own level', run: (v) => pl(standardRoom(v), MOD, (c) => (users(c)[MOD] = 51)) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'promoting to own level', run: (v) => pl(standardRoom(v), MOD, (c) => (users(c)[BOB] = 50)) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'demoting oneself', run: (v) => pl(standardRoom(v), MOD, (c) => (users(c)[MOD] = 0)) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'unchanged content', run: (v) => pl(standardRoom(v), MOD, () => {}) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v12: a creator may change anything', when: (v) => v.privilegedCreators, run: (v) => pl(standardRoom(v), ALICE, (c) => {
      users(c)[MOD] = 9007199254740991;
      c.ban = 9007199254740991;
    }) },
  { rule: 'power_levels.allow', expect: 'allow', name: 'v1–9: stringy current levels compared as numbers', when: (v) => !v.integerPowerLevels, run: (v) => {
      const content = standardPowerLevels(version(v));
      users(content)[MOD] = '50';
      users(content)[BOB] = ' 10 ';
      return pl(standardRoom(v, { powerLevels: content }), MOD, (c) => (users(c)[BOB] = 20));
    } },

  // ---- redaction (v1, v2) ----
  { rule: 'redaction.redact_level', expect: 'allow', name: "moderator redacts another server's event", run: (v) => check(standardRoom(v), { type: 'm.room.redaction', sender: MOD, redacts: '$x:a.example', content: {} }) },
  { rule: 'redaction.same_domain', expect: 'allow', name: 'member redacts an event from their own server', run: (v) => check(standardRoom(v), { type: 'm.room.redaction', sender: BOB, redacts: '$x:b.example', content: {} }) },
  { rule: 'redaction.otherwise', expect: 'reject', name: "member redacts another server's event", run: (v) => check(standardRoom(v), { type: 'm.room.redaction', sender: BOB, redacts: '$x:a.example', content: {} }) },
  { rule: 'redaction.otherwise', expect: 'reject', name: 'redaction without redacts', run: (v) => check(standardRoom(v), { type: 'm.room.redaction', sender: BOB, content: {} }) },
];

function applies(row: Row, v: RoomVersion): boolean {
  return specRuleNumber(row.rule, v) !== undefined && (row.when?.(v) ?? true);
}

describe('auth rules', () => {
  for (const id of VERSIONS) {
    const v = version(id);
    describe(`room version ${id}`, () => {
      for (const row of ROWS.filter((r) => applies(r, v))) {
        it(`${specRuleNumber(row.rule, v)} ${row.rule} ${row.expect}s: ${row.name}`, () => {
          const result = row.run(id);
          expect(result.allowed ? 'allow' : 'reject', JSON.stringify(result)).toBe(row.expect);
          // checkAuthEventsSelection's pass carries no rule; every other result names its rule.
          if (!result.allowed || result.rule !== undefined) expect(result.rule).toBe(row.rule);
        });
      }
    });
  }
});

describe('rule coverage', () => {
  for (const id of VERSIONS) {
    it(`room version ${id}: every rule has a row for each way it decides`, () => {
      const v = version(id);
      const missing: string[] = [];
      for (const rule of AUTH_RULE_NAMES) {
        if (specRuleNumber(rule, v) === undefined) continue;
        for (const outcome of ruleOutcomes(rule)) {
          if (!ROWS.some((r) => r.rule === rule && r.expect === outcome && applies(r, v))) missing.push(`${rule} ${outcome}`);
        }
      }
      expect(missing).toEqual([]);
    });
  }
});

describe('checkAuthEventsSelection passes', () => {
  for (const id of VERSIONS) {
    it(`v${id}: the selected auth events of a message`, () => {
      expect(selection(id, (_room, picked) => picked)).toEqual({ allowed: true });
    });
    it(`v${id}: a subset of the selection (no power levels event yet)`, () => {
      expect(selection(id, (_room, picked) => picked.filter((e) => e.type !== 'm.room.power_levels'))).toEqual({ allowed: true });
    });
    it(`v${id}: a restricted join citing the authoriser's membership`, () => {
      const room = standardRoom(id, { joinRule: 'restricted' });
      const state = room.state();
      const picked = [state.get('m.room.power_levels', '')!, state.get('m.room.join_rules', '')!, state.get('m.room.member', MOD)!];
      if (!room.version.roomIdFromCreate) picked.push(room.create);
      const event = room.build({ ...member(CAROL, CAROL, 'join', { join_authorised_via_users_server: MOD }), authEvents: picked.map((e) => e.eventId) });
      const result = checkAuthEventsSelection(event, picked);
      expect(result.allowed).toBe(room.version.restrictedJoins);
    });
    it(`v${id}: a create event needs no auth events`, () => {
      expect(checkAuthEventsSelection(createEvent(id), [])).toEqual({ allowed: true });
    });
  }
});
