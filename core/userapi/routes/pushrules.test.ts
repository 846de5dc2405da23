import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../db/index.js';
import { HttpApp } from '../../http/index.js';
import { tmpDir } from '../../test/fixtures.js';
import { evaluatePushRules } from '../pusheval.js';
import { PushRuleStore } from '../pushstore.js';
import type { PushRuleSet } from '../pushrules.js';
import { pushRuleEndpoints } from './pushrules.js';

const USERS: Record<string, string> = { alice: '@alice:x', bob: '@bob:x' };
const P = '/_matrix/client/v3/pushrules';

let dir: string;
let db: Db;
let store: PushRuleStore;
let server: Server;
let base: string;
const changes: [string, PushRuleSet][] = [];

beforeAll(async () => {
  dir = tmpDir('axon-pushrules-');
  db = openDatabase(path.join(dir, 'axon.db'));
  store = new PushRuleStore(db, { onChange: (u, r) => changes.push([u, r]) });
  const app = new HttpApp({
    logger: pino({ level: 'silent' }),
    maxBody: 64 * 1024,
    authenticate: (t) => (USERS[t] ? { userId: USERS[t]!, deviceId: 'D', isAdmin: false } : undefined),
  });
  app.add(...pushRuleEndpoints(store));
  server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, p: string, body?: unknown, token = 'alice') {
  const res = await fetch(base + p, {
    method,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const ids = (rules: { rule_id?: unknown }[]) => rules.map((r) => r.rule_id);

describe('/pushrules', () => {
  it('GET returns the default rule set, by scope, kind and rule', async () => {
    const all = await call('GET', `${P}/`);
    expect(all.status).toBe(200);
    expect(ids(all.json.global.override)[0]).toBe('.m.rule.master');
    expect((await call('GET', `${P}/global/`)).json.underride.length).toBe(5);
    const ov = await call('GET', `${P}/global/override`);
    expect(ov.status).toBe(200);
    expect(ids(ov.json)).toContain('.m.rule.invite_for_me');
    expect((await call('GET', `${P}/global/content/`)).json).toEqual([]);
    const one = await call('GET', `${P}/global/override/.m.rule.invite_for_me`);
    expect(one.json.conditions[2]).toEqual({ key: 'state_key', kind: 'event_match', pattern: '@alice:x' });
    expect((await call('GET', `${P}/global/underride/.m.rule.call/enabled`)).json).toEqual({ enabled: true });
    expect((await call('GET', `${P}/global/underride/.m.rule.message/actions`)).json).toEqual({ actions: ['notify'] });
  });

  it('PUT creates user rules first in their kind, enabled, with before/after', async () => {
    changes.length = 0;
    expect((await call('PUT', `${P}/global/content/cake`, { pattern: 'cake', actions: ['notify', { set_tweak: 'sound', value: 'cakealarm.wav' }] })).status).toBe(200);
    expect(changes.map((c) => c[0])).toEqual(['@alice:x']);
    expect(await call('GET', `${P}/global/content/cake`)).toEqual({
      status: 200,
      json: { rule_id: 'cake', default: false, enabled: true, pattern: 'cake', actions: ['notify', { set_tweak: 'sound', value: 'cakealarm.wav' }] },
    });
    await call('PUT', `${P}/global/content/pie`, { pattern: 'pie', actions: [] });
    expect(ids((await call('GET', `${P}/global/content`)).json)).toEqual(['pie', 'cake']);
    await call('PUT', `${P}/global/content/lie?before=cake`, { pattern: 'cake*lie', actions: ['notify'] });
    expect(ids((await call('GET', `${P}/global/content`)).json)).toEqual(['pie', 'lie', 'cake']);
    await call('PUT', `${P}/global/content/tart?after=cake`, { pattern: 'tart', actions: [] });
    expect(ids((await call('GET', `${P}/global/content`)).json)).toEqual(['pie', 'lie', 'cake', 'tart']);
    await call('PUT', `${P}/global/content/tart?before=pie&after=cake`, { pattern: 'tart', actions: [] });
    expect(ids((await call('GET', `${P}/global/content`)).json)).toEqual(['tart', 'pie', 'lie', 'cake']);
    // An update without before/after keeps its place and its enabled state.
    await call('PUT', `${P}/global/content/lie/enabled`, { enabled: false });
    await call('PUT', `${P}/global/content/lie`, { pattern: 'lies', actions: ['dont_notify'] });
    expect(ids((await call('GET', `${P}/global/content`)).json)).toEqual(['tart', 'pie', 'lie', 'cake']);
    expect((await call('GET', `${P}/global/content/lie`)).json).toMatchObject({ pattern: 'lies', enabled: false, actions: [] });
    // Bob does not see Alice's rules.
    expect((await call('GET', `${P}/global/content`, undefined, 'bob')).json).toEqual([]);
  });

  it('override user rules sit after .m.rule.master and before the other defaults', async () => {
    const r = await call('PUT', `${P}/global/override/beer`, {
      conditions: [{ kind: 'event_match', key: 'content.body', pattern: 'beer' }, { kind: 'room_member_count', is: '<=10' }],
      actions: ['notify', { set_tweak: 'sound', value: 'beeroclock.wav' }],
    });
    expect(r.status).toBe(200);
    const ov = ids((await call('GET', `${P}/global/override`)).json);
    expect(ov.slice(0, 3)).toEqual(['.m.rule.master', 'beer', '.m.rule.suppress_notices']);
    await call('PUT', `${P}/global/underride/u1`, { actions: ['notify'] });
    const un = (await call('GET', `${P}/global/underride`)).json;
    expect(un[0]).toEqual({ rule_id: 'u1', default: false, enabled: true, conditions: [], actions: ['notify'] });
    await call('PUT', `${P}/global/room/!r:x`, { actions: [] });
    await call('PUT', `${P}/global/sender/@spam:x`, { actions: [] });
    expect((await call('GET', `${P}/global/room/!r:x`)).json).toEqual({ rule_id: '!r:x', default: false, enabled: true, actions: [] });
    expect((await call('GET', `${P}/global/sender/%40spam%3Ax`)).status).toBe(200);
  });

  it('enabled and actions of server-default rules are stored per user', async () => {
    expect((await call('PUT', `${P}/global/override/.m.rule.master/enabled`, { enabled: true })).status).toBe(200);
    expect((await call('GET', `${P}/global/override/.m.rule.master/enabled`)).json).toEqual({ enabled: true });
    expect((await call('GET', `${P}/global/override/.m.rule.master/enabled`, undefined, 'bob')).json).toEqual({ enabled: false });
    const rules = store.rules('@alice:x');
    expect(evaluatePushRules(rules, { type: 'm.room.message', content: { body: 'hi' }, sender: '@c:x', room_id: '!q:x' }, { userId: '@alice:x', roomMemberCount: 3, senderPowerLevel: 0, notificationPowerLevels: {} })!.ruleId).toBe('.m.rule.master');
    await call('PUT', `${P}/global/override/.m.rule.master/enabled`, { enabled: false });

    expect((await call('PUT', `${P}/global/underride/.m.rule.message/actions`, { actions: ['notify', { set_tweak: 'highlight' }] })).status).toBe(200);
    expect((await call('GET', `${P}/global/underride/.m.rule.message/actions`)).json).toEqual({ actions: ['notify', { set_tweak: 'highlight' }] });
    expect((await call('GET', `${P}/global/underride/.m.rule.message`)).json.enabled).toBe(true);
    expect((await call('PUT', `${P}/global/content/cake/actions`, { actions: ['coalesce', 'notify'] })).status).toBe(200);
    expect((await call('GET', `${P}/global/content/cake/actions`)).json).toEqual({ actions: ['notify'] });
  });

  it('DELETE removes user rules only', async () => {
    expect((await call('DELETE', `${P}/global/content/pie`)).status).toBe(200);
    expect((await call('GET', `${P}/global/content/pie`)).status).toBe(404);
    expect(await call('DELETE', `${P}/global/content/pie`)).toMatchObject({ status: 404, json: { errcode: 'M_NOT_FOUND' } });
    expect(await call('DELETE', `${P}/global/override/.m.rule.master`)).toMatchObject({ status: 404, json: { errcode: 'M_NOT_FOUND' } });
    expect((await call('GET', `${P}/global/override/.m.rule.master`)).status).toBe(200);
  });

  it('rules survive reopening the database', () => {
    const again = new PushRuleStore(db);
    expect(ids(again.rules('@alice:x').content)).toEqual(['tart', 'lie', 'cake']);
  });

  it.each<[string, string, string, unknown, number, string]>([
    ['unknown kind', 'GET', `${P}/global/nope/x`, undefined, 400, 'M_INVALID_PARAM'],
    ['unknown rule', 'GET', `${P}/global/override/nope`, undefined, 404, 'M_NOT_FOUND'],
    ['unknown rule enabled', 'GET', `${P}/global/override/nope/enabled`, undefined, 404, 'M_NOT_FOUND'],
    ['rule in the wrong kind', 'GET', `${P}/global/content/.m.rule.master`, undefined, 404, 'M_NOT_FOUND'],
    ['PUT of a dotted rule id', 'PUT', `${P}/global/override/.m.rule.master`, { actions: [] }, 400, 'M_INVALID_PARAM'],
    ['PUT of a rule id with a slash', 'PUT', `${P}/global/room/a%2Fb`, { actions: [] }, 400, 'M_INVALID_PARAM'],
    ['PUT of a rule id with a backslash', 'PUT', `${P}/global/room/a%5Cb`, { actions: [] }, 400, 'M_INVALID_PARAM'],
    ['unknown before', 'PUT', `${P}/global/content/x?before=ghost`, { pattern: 'x', actions: [] }, 400, 'M_UNKNOWN'],
    ['unknown after', 'PUT', `${P}/global/content/x?after=ghost`, { pattern: 'x', actions: [] }, 400, 'M_UNKNOWN'],
    ['before a server-default rule', 'PUT', `${P}/global/override/x?before=.m.rule.master`, { actions: [] }, 400, 'M_INVALID_PARAM'],
    ['content rule without pattern', 'PUT', `${P}/global/content/x`, { actions: [] }, 400, 'M_MISSING_PARAM'],
    ['missing actions', 'PUT', `${P}/global/room/!r:x`, {}, 400, 'M_MISSING_PARAM'],
    ['actions not an array', 'PUT', `${P}/global/room/!r:x`, { actions: 'notify' }, 400, 'M_BAD_JSON'],
    ['unknown string action', 'PUT', `${P}/global/room/!r:x`, { actions: ['shout'] }, 400, 'M_BAD_JSON'],
    ['object action without set_tweak', 'PUT', `${P}/global/room/!r:x`, { actions: [{ value: 1 }] }, 400, 'M_BAD_JSON'],
    ['condition without kind', 'PUT', `${P}/global/override/x`, { actions: [], conditions: [{ key: 'type' }] }, 400, 'M_MISSING_PARAM'],
    ['event_match without pattern', 'PUT', `${P}/global/override/x`, { actions: [], conditions: [{ kind: 'event_match', key: 'type' }] }, 400, 'M_BAD_JSON'],
    ['bad member count', 'PUT', `${P}/global/override/x`, { actions: [], conditions: [{ kind: 'room_member_count', is: 'lots' }] }, 400, 'M_BAD_JSON'],
    ['compound condition value', 'PUT', `${P}/global/override/x`, { actions: [], conditions: [{ kind: 'event_property_is', key: 'a', value: [1] }] }, 400, 'M_BAD_JSON'],
    ['pattern not a string', 'PUT', `${P}/global/content/x`, { pattern: 5, actions: [] }, 400, 'M_BAD_JSON'],
    ['not JSON', 'PUT', `${P}/global/content/x`, '{', 400, 'M_NOT_JSON'],
    ['enabled not boolean', 'PUT', `${P}/global/override/.m.rule.master/enabled`, { enabled: 'yes' }, 400, 'M_BAD_JSON'],
    ['enabled of unknown rule', 'PUT', `${P}/global/override/nope/enabled`, { enabled: true }, 404, 'M_NOT_FOUND'],
    ['actions of unknown rule', 'PUT', `${P}/global/override/nope/actions`, { actions: [] }, 404, 'M_NOT_FOUND'],
    ['actions missing', 'PUT', `${P}/global/underride/.m.rule.call/actions`, {}, 400, 'M_MISSING_PARAM'],
    ['no token', 'GET', `${P}/`, undefined, 401, 'M_UNKNOWN_TOKEN'],
  ])('%s', async (_name, method, p, body, status, errcode) => {
    const r = await call(method, p, body, _name === 'no token' ? 'nobody' : 'alice');
    expect(r.status).toBe(status);
    expect(r.json.errcode).toBe(errcode);
  });

  it('keeps unknown condition kinds (they never match) and accepts all known kinds', async () => {
    const conditions = [
      { kind: 'org.example.future', foo: 1 },
      { kind: 'event_property_is', key: 'content.m\\.x', value: null },
      { kind: 'event_property_contains', key: 'content.tags', value: 'a' },
      { kind: 'contains_display_name' },
      { kind: 'sender_notification_permission', key: 'room' },
      { kind: 'room_member_count', is: '>=2' },
    ];
    expect((await call('PUT', `${P}/global/override/future`, { actions: ['notify'], conditions })).status).toBe(200);
    expect((await call('GET', `${P}/global/override/future`)).json.conditions).toEqual(conditions);
  });
});
