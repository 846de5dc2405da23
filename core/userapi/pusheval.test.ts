import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../events/types.js';
import { conditionMatches, evaluatePushRules, globMatches, memberCountMatches, propertyAt, splitPropertyPath, type PushContext, type PushEvent } from './pusheval.js';
import { defaultPushRules, type PushRuleSet } from './pushrules.js';

const ME = '@me:x';
const ROOM = '!r:x';
const ctx = (over: Partial<PushContext> = {}): PushContext => ({
  userId: ME,
  displayName: 'Alice',
  roomMemberCount: 5,
  senderPowerLevel: 0,
  notificationPowerLevels: {},
  ...over,
});
const ev = (type: string, content: JsonObject, extra: Partial<PushEvent> = {}): PushEvent => ({ type, content, sender: '@bob:x', room_id: ROOM, ...extra });
const msg = (body: string, extra: JsonObject = {}) => ev('m.room.message', { msgtype: 'm.text', body, ...extra });

describe('predefined rules', () => {
  const rules = defaultPushRules(ME);
  it.each<[string, PushEvent, Partial<PushContext>, string | undefined, boolean, boolean]>([
    ['suppress_notices', msg('hi', { msgtype: 'm.notice' }), {}, '.m.rule.suppress_notices', false, false],
    ['invite_for_me', ev('m.room.member', { membership: 'invite' }, { state_key: ME }), {}, '.m.rule.invite_for_me', true, false],
    ['member_event (invite for someone else)', ev('m.room.member', { membership: 'invite' }, { state_key: '@other:x' }), {}, '.m.rule.member_event', false, false],
    ['member_event (join)', ev('m.room.member', { membership: 'join' }, { state_key: '@bob:x' }), {}, '.m.rule.member_event', false, false],
    ['is_user_mention', msg('hey', { 'm.mentions': { user_ids: ['@z:x', ME] } }), {}, '.m.rule.is_user_mention', true, true],
    ['is_user_mention needs the exact id', msg('hey', { 'm.mentions': { user_ids: ['@me:xx'] } }), {}, '.m.rule.message', true, false],
    ['is_room_mention with power', msg('@room', { 'm.mentions': { room: true } }), { senderPowerLevel: 50 }, '.m.rule.is_room_mention', true, true],
    ['is_room_mention without power', msg('@room', { 'm.mentions': { room: true } }), { senderPowerLevel: 49 }, '.m.rule.message', true, false],
    ['is_room_mention with lowered level', msg('@room', { 'm.mentions': { room: true } }), { notificationPowerLevels: { room: 0 } }, '.m.rule.is_room_mention', true, true],
    ['is_room_mention needs boolean true', msg('@room', { 'm.mentions': { room: 'true' } }), { senderPowerLevel: 100 }, '.m.rule.message', true, false],
    ['tombstone', ev('m.room.tombstone', { body: 'bye' }, { state_key: '' }), {}, '.m.rule.tombstone', true, true],
    ['tombstone needs state_key ""', ev('m.room.tombstone', { body: 'bye' }), {}, undefined, false, false],
    ['reaction', ev('m.reaction', {}), {}, '.m.rule.reaction', false, false],
    ['server_acl', ev('m.room.server_acl', {}, { state_key: '' }), {}, '.m.rule.room.server_acl', false, false],
    ['suppress_edits', msg('* fix', { 'm.relates_to': { rel_type: 'm.replace', event_id: '$e' } }), {}, '.m.rule.suppress_edits', false, false],
    ['call', ev('m.call.invite', {}), {}, '.m.rule.call', true, false],
    ['encrypted_room_one_to_one', ev('m.room.encrypted', {}), { roomMemberCount: 2 }, '.m.rule.encrypted_room_one_to_one', true, false],
    ['room_one_to_one', msg('hi'), { roomMemberCount: 2 }, '.m.rule.room_one_to_one', true, false],
    ['message', msg('hi'), {}, '.m.rule.message', true, false],
    ['encrypted', ev('m.room.encrypted', {}), { roomMemberCount: 3 }, '.m.rule.encrypted', true, false],
    ['no rule for other events', ev('m.room.topic', { topic: 't' }, { state_key: '' }), {}, undefined, false, false],
  ])('%s', (_n, event, c, ruleId, notify, highlight) => {
    const r = evaluatePushRules(rules, event, ctx(c));
    expect(r?.ruleId).toBe(ruleId);
    if (ruleId) {
      expect(r!.notify).toBe(notify);
      expect(r!.highlight).toBe(highlight);
    }
  });

  it('.m.rule.master when enabled silences everything, even a mention', () => {
    const set = defaultPushRules(ME);
    set.override[0] = { ...set.override[0]!, enabled: true };
    const r = evaluatePushRules(set, msg('hey', { 'm.mentions': { user_ids: [ME] } }), ctx());
    expect(r).toEqual({ ruleId: '.m.rule.master', actions: [], notify: false, highlight: false });
  });

  it('call carries the ring sound; invite_for_me the default sound', () => {
    expect(evaluatePushRules(rules, ev('m.call.invite', {}), ctx())!.actions).toEqual(['notify', { set_tweak: 'sound', value: 'ring' }]);
    expect(evaluatePushRules(rules, ev('m.room.member', { membership: 'invite' }, { state_key: ME }), ctx())!.actions).toContainEqual({ set_tweak: 'sound', value: 'default' });
  });
});

describe('rule kinds and order', () => {
  const set = (over: Partial<PushRuleSet>): PushRuleSet => ({ override: [], content: [], room: [], sender: [], underride: [], ...over });
  const rule = (rule_id: string, extra: JsonObject, actions: JsonObject['actions'] = ['notify']): JsonObject => ({ rule_id, enabled: true, default: false, actions, ...extra });

  it('checks override, content, room, sender, underride in that order', () => {
    const all = set({
      underride: [rule('u', { conditions: [] })],
      sender: [rule('@bob:x', {})],
      room: [rule(ROOM, {})],
      content: [rule('c', { pattern: 'cake' })],
      override: [rule('o', { conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'tea' }] })],
    });
    expect(evaluatePushRules(all, msg('tea and cake'), ctx())!.ruleId).toBe('o');
    expect(evaluatePushRules(all, msg('cake'), ctx())!.ruleId).toBe('c');
    expect(evaluatePushRules(all, msg('pie'), ctx())!.ruleId).toBe(ROOM);
    expect(evaluatePushRules(all, msg('pie', {}), ctx())!.ruleId).toBe(ROOM);
    expect(evaluatePushRules(all, { ...msg('pie'), room_id: '!other:x' }, ctx())!.ruleId).toBe('@bob:x');
    expect(evaluatePushRules(all, { ...msg('pie'), room_id: '!other:x', sender: '@carol:x' }, ctx())!.ruleId).toBe('u');
  });

  it('skips disabled rules and takes the first match within a kind', () => {
    const s = set({ content: [rule('a', { pattern: 'x', enabled: false }), rule('b', { pattern: 'x' }), rule('c', { pattern: 'x' })] });
    expect(evaluatePushRules(s, msg('x'), ctx())!.ruleId).toBe('b');
  });

  it('content rules need a pattern and a string body', () => {
    const s = set({ content: [rule('nopat', {}), rule('p', { pattern: '*' })] });
    expect(evaluatePushRules(s, ev('m.room.message', { body: 5 }), ctx())).toBeUndefined();
    expect(evaluatePushRules(s, msg('any'), ctx())!.ruleId).toBe('p');
  });

  it('a rule with an unknown condition kind never matches; no conditions always matches', () => {
    const s = set({ override: [rule('weird', { conditions: [{ kind: 'org.example.future' }] })], underride: [rule('all', {})] });
    expect(evaluatePushRules(s, msg('x'), ctx())!.ruleId).toBe('all');
  });

  it('strips dont_notify/coalesce and reads highlight values', () => {
    const s = set({ override: [rule('o', { conditions: [] }, ['dont_notify', 'coalesce', { set_tweak: 'highlight', value: false }])] });
    expect(evaluatePushRules(s, msg('x'), ctx())).toEqual({ ruleId: 'o', actions: [{ set_tweak: 'highlight', value: false }], notify: false, highlight: false });
  });
});

describe('conditions', () => {
  const match = (cond: JsonObject, event: PushEvent = msg('hello'), c: Partial<PushContext> = {}) => conditionMatches(cond, event, ctx(c));

  it.each<[string, string, boolean, boolean]>([
    ['lunc?*', 'Lunch plans', false, true],
    ['lunc?*', 'LUNCH', false, true],
    ['lunc?*', ' lunch', false, false],
    ['lunc?*', 'lunc', false, false],
    ['a.c', 'abc', false, false],
    ['a(b', 'A(B', false, true],
    ['', '', false, true],
    ['*', '', false, true],
    ['m.room.*', 'm.room.message', false, true],
    ['m.room', 'm.room.message', false, false],
    ['?', 'é', false, true],
    ['ex*ple', 'An example event.', true, true],
    ['ex*ple', 'exple', true, true],
    ['ex*ple', 'An exciting triple-whammy', true, true],
    ['cake', 'cupcake', true, false],
    ['cake', 'cakes', true, false],
    ['cake', 'I like CAKE!', true, true],
    ['cake', 'cake_', true, false],
    ['foo', 'line\nfoo\nbar', true, true],
  ])('glob %j on %j (words=%s) → %s', (pattern, value, words, expected) => {
    expect(globMatches(pattern, value, words)).toBe(expected);
  });

  it('event_match: whole value except for content.body, strings only', () => {
    expect(match({ kind: 'event_match', key: 'type', pattern: 'm.room.message' })).toBe(true);
    expect(match({ kind: 'event_match', key: 'type', pattern: 'm.room' })).toBe(false);
    expect(match({ kind: 'event_match', key: 'content.body', pattern: 'hel*' })).toBe(true);
    expect(match({ kind: 'event_match', key: 'content.body', pattern: 'ell' })).toBe(false);
    expect(match({ kind: 'event_match', key: 'content.missing', pattern: '*' })).toBe(false);
    expect(match({ kind: 'event_match', key: 'content.n', pattern: '*' }, ev('t', { n: 1 }))).toBe(false);
    expect(match({ kind: 'event_match', key: 'content.x', pattern: '*' }, ev('t', { x: null }))).toBe(false);
    expect(match({ kind: 'event_match', key: 'type' })).toBe(false);
    expect(match({ kind: 'event_match', pattern: '*' })).toBe(false);
  });

  it('dotted keys with escapes', () => {
    expect(splitPropertyPath('content.m\\.relates_to.rel_type')).toEqual(['content', 'm.relates_to', 'rel_type']);
    expect(splitPropertyPath('content.m\\\\foo')).toEqual(['content', 'm\\foo']);
    expect(splitPropertyPath('content.a\\xb')).toEqual(['content', 'a\\xb']);
    expect(splitPropertyPath('a..b')).toEqual(['a', '', 'b']);
    const e = ev('t', { 'm.relates_to': { rel_type: 'x' }, m: { relates_to: { rel_type: 'y' } }, 'm\\foo': 'bs', 'a\\xb': 'lit' });
    expect(propertyAt(e, 'content.m\\.relates_to.rel_type')).toBe('x');
    expect(propertyAt(e, 'content.m.relates_to.rel_type')).toBe('y');
    expect(propertyAt(e, 'content.m\\\\foo')).toBe('bs');
    expect(propertyAt(e, 'content.a\\xb')).toBe('lit');
    expect(propertyAt(e, 'content.m\\.relates_to.rel_type.deeper')).toBeUndefined();
    expect(propertyAt(ev('t', { arr: ['a'] }), 'content.arr.0')).toBeUndefined();
    expect(propertyAt(ev('t', {}), 'content.toString')).toBeUndefined();
  });

  it('event_property_is: exact scalar values, no casting', () => {
    const e = ev('m.room.create', { 'm.federate': true, n: 3, s: 'true', z: null, f: 1.5, o: {} });
    expect(match({ kind: 'event_property_is', key: 'content.m\\.federate', value: true }, e)).toBe(true);
    expect(match({ kind: 'event_property_is', key: 'content.m\\.federate', value: 'true' }, e)).toBe(false);
    expect(match({ kind: 'event_property_is', key: 'content.m\\.federate', value: 1 }, e)).toBe(false);
    expect(match({ kind: 'event_property_is', key: 'content.n', value: 3 }, e)).toBe(true);
    expect(match({ kind: 'event_property_is', key: 'content.s', value: 'TRUE' }, e)).toBe(false);
    expect(match({ kind: 'event_property_is', key: 'content.z', value: null }, e)).toBe(true);
    expect(match({ kind: 'event_property_is', key: 'content.missing', value: null }, e)).toBe(false);
    expect(match({ kind: 'event_property_is', key: 'content.f', value: 1.5 }, e)).toBe(false);
    expect(match({ kind: 'event_property_is', key: 'content.o', value: {} }, e)).toBe(false);
    expect(match({ kind: 'event_property_is', key: 'content.n' }, e)).toBe(false);
  });

  it('event_property_contains: arrays only, exact elements', () => {
    const e = ev('m.room.canonical_alias', { alt_aliases: ['#somewhere:example.org', '#myroom:example.com', 7, null, ['#nested:x']], s: '#myroom:example.com' });
    const c = (value: JsonObject['value'], key = 'content.alt_aliases') => match({ kind: 'event_property_contains', key, value }, e);
    expect(c('#myroom:example.com')).toBe(true);
    expect(c(':example.com')).toBe(false);
    expect(c(7)).toBe(true);
    expect(c(null)).toBe(true);
    expect(c('#nested:x')).toBe(false);
    expect(c('#myroom:example.com', 'content.s')).toBe(false);
    expect(c('x', 'content.missing')).toBe(false);
  });

  it('contains_display_name: word-bounded, case-insensitive, literal', () => {
    const dn = (body: string, displayName?: string) =>
      match({ kind: 'contains_display_name' }, msg(body), displayName === undefined ? {} : { displayName });
    expect(dn('hi alice!')).toBe(true);
    expect(dn('hi Alice')).toBe(true);
    expect(dn('malice')).toBe(false);
    expect(dn('alice_b')).toBe(false);
    expect(dn('hey a.b', 'a.b')).toBe(true);
    expect(dn('hey axb', 'a.b')).toBe(false);
    expect(dn('hey Al*', 'Al*')).toBe(true);
    expect(dn('hi', '')).toBe(false);
    expect(match({ kind: 'contains_display_name' }, ev('m.room.message', {}))).toBe(false);
  });

  it.each<[string, number, boolean]>([
    ['2', 2, true],
    ['2', 3, false],
    ['==2', 2, true],
    ['<10', 9, true],
    ['<10', 10, false],
    ['<=10', 10, true],
    ['>2', 3, true],
    ['>2', 2, false],
    ['>=2', 2, true],
    ['=2', 2, false],
    ['', 0, false],
    ['two', 2, false],
    [' 2', 2, false],
    ['-1', 0, false],
  ])('room_member_count is=%j with %d members → %s', (is, count, expected) => {
    expect(memberCountMatches(is, count)).toBe(expected);
    expect(match({ kind: 'room_member_count', is }, msg('x'), { roomMemberCount: count })).toBe(expected);
  });

  it('room_member_count without is never matches', () => {
    expect(match({ kind: 'room_member_count' })).toBe(false);
  });

  it('sender_notification_permission: notifications level, default 50', () => {
    const snp = (c: Partial<PushContext>, key: string | null = 'room') => match(key === null ? { kind: 'sender_notification_permission' } : { kind: 'sender_notification_permission', key }, msg('x'), c);
    expect(snp({ senderPowerLevel: 50 })).toBe(true);
    expect(snp({ senderPowerLevel: 49 })).toBe(false);
    expect(snp({ senderPowerLevel: 10, notificationPowerLevels: { room: 10 } })).toBe(true);
    expect(snp({ senderPowerLevel: 99, notificationPowerLevels: { room: 100 } })).toBe(false);
    expect(snp({ senderPowerLevel: 50 }, 'custom')).toBe(true);
    expect(snp({ senderPowerLevel: 100 }, null)).toBe(false);
  });
});

describe('one memo shared by all recipients of an event', () => {
  // Users whose rules differ only where the user matters: their id, name and own rules.
  const users = ['@me:x', '@alice:x', '@carol:x', '@dave:x'];
  const names: Record<string, string> = { '@me:x': 'Alice', '@alice:x': 'Bob', '@carol:x': 'Carol', '@dave:x': 'Dan' };
  const ruleSets = new Map<string, PushRuleSet>(users.map((u) => [u, defaultPushRules(u)]));
  // The one condition that depends on the user, not the event: each user's own copy.
  for (const set of ruleSets.values()) set.override.unshift({ rule_id: 'name', enabled: true, conditions: [{ kind: 'contains_display_name' }], actions: ['notify'] });
  ruleSets.get('@carol:x')!.content.unshift({ rule_id: 'cake', enabled: true, pattern: 'cake', actions: ['notify', { set_tweak: 'highlight' }] });
  ruleSets.get('@dave:x')!.override.unshift({ rule_id: 'mute', enabled: true, conditions: [{ kind: 'event_match', key: 'room_id', pattern: ROOM }], actions: [] });
  const events: Array<[string, PushEvent]> = [
    ['a plain message', msg('lunch?')],
    ['a mention of one user', msg('hey', { 'm.mentions': { user_ids: ['@alice:x'] } })],
    ['a display name in the body', msg('Carol, Alice: look')],
    ['a content rule of one user', msg('cake for everyone')],
    ['an invite', ev('m.room.member', { membership: 'invite' }, { state_key: '@carol:x' })],
    ['a notice', msg('bot', { msgtype: 'm.notice' })],
  ];
  it.each(events)('%s: the same outcome for each user as without the memo', (_n, event) => {
    const memo = new Map<number, boolean>();
    for (const u of users) {
      const c = ctx({ userId: u, displayName: names[u] });
      expect(evaluatePushRules(ruleSets.get(u)!, event, c, memo)?.ruleId).toBe(evaluatePushRules(ruleSets.get(u)!, event, c)?.ruleId);
    }
  });

  it('tells users apart where the user matters', () => {
    const memo = new Map<number, boolean>();
    const ruleOf = (u: string, e: PushEvent) => evaluatePushRules(ruleSets.get(u)!, e, ctx({ userId: u, displayName: names[u] }), memo)?.ruleId;
    const mention = msg('hey', { 'm.mentions': { user_ids: ['@alice:x'] } });
    expect(users.map((u) => ruleOf(u, mention))).toEqual(['.m.rule.message', '.m.rule.is_user_mention', '.m.rule.message', 'mute']);
    const named = msg('Carol, Alice: look');
    const memo2 = new Map<number, boolean>();
    expect(users.map((u) => evaluatePushRules(ruleSets.get(u)!, named, ctx({ userId: u, displayName: names[u] }), memo2)?.ruleId)).toEqual([
      'name',
      '.m.rule.message',
      'name',
      'mute',
    ]);
  });
});
