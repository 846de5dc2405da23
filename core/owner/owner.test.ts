import { afterEach, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, registerUser, startTestNode } from '../test/node.js';
import { LoginTokens } from '../userapi/logintokens.js';
import { DESKTOP_DEVICE_ID } from './index.js';

const nodes: AxonNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function start() {
  const t = await startTestNode();
  nodes.push(t.node);
  return t;
}

const login = (url: string, body: unknown) =>
  fetch(`${url}/_matrix/client/v3/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

describe('the owner account', () => {
  it('exists after start as an admin with no password', async () => {
    const { node, url } = await start();
    expect(node.owner.userId).toBe(`@owner:${node.serverName}`);
    expect(node.users.accountExists(node.owner.userId)).toBe(true);
    const res = await login(url, { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'owner' }, password: '' });
    expect(res.status).toBe(403);
    expect(await node.owner.ensure()).toBe(false);
  });

  it('logs in once through the login link (m.login.token)', async () => {
    const { node, url } = await start();
    const flows = (await (await fetch(`${url}/_matrix/client/v3/login`)).json()) as { flows: Array<{ type: string }> };
    expect(flows.flows.map((f) => f.type)).toContain('m.login.token');

    const link = node.owner.loginLink(url);
    const m = /^(http:\/\/127\.0\.0\.1:\d+)\/#login_token=([\w-]+)$/.exec(link);
    expect(m?.[1]).toBe(url);
    const first = await login(url, { type: 'm.login.token', token: m![2] });
    expect(first.status).toBe(200);
    const session = (await first.json()) as { user_id: string; access_token: string };
    expect(session.user_id).toBe(node.owner.userId);
    const whoami = await clientCall(url, 'GET', '/account/whoami', session.access_token);
    expect(whoami.body.user_id).toBe(node.owner.userId);

    const again = await login(url, { type: 'm.login.token', token: m![2] });
    expect(again.status).toBe(403);
    expect(((await again.json()) as { errcode: string }).errcode).toBe('M_FORBIDDEN');
  });

  it('rejects unknown and missing tokens with the spec errcodes', async () => {
    const { url } = await start();
    const unknown = await login(url, { type: 'm.login.token', token: 'nope' });
    expect(unknown.status).toBe(403);
    const missing = await login(url, { type: 'm.login.token' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { errcode: string }).errcode).toBe('M_MISSING_PARAM');
  });

  it('gives the desktop app one device whose older tokens stop working', async () => {
    const { node, url } = await start();
    const a = node.owner.desktopSession();
    expect(a.deviceId).toBe(DESKTOP_DEVICE_ID);
    expect((await clientCall(url, 'GET', '/account/whoami', a.accessToken)).status).toBe(200);
    const b = node.owner.desktopSession();
    expect((await clientCall(url, 'GET', '/account/whoami', a.accessToken)).status).toBe(401);
    expect((await clientCall(url, 'GET', '/account/whoami', b.accessToken)).body.device_id).toBe(DESKTOP_DEVICE_ID);
    expect(node.users.devices(node.owner.userId).filter((d) => d.device_id === DESKTOP_DEVICE_ID)).toHaveLength(1);
  });

  it('does not make a registered user the owner', async () => {
    const { node, url } = await start();
    const alice = await registerUser(url, 'alice');
    expect(node.owner.is({ userId: alice.user_id, deviceId: alice.device_id, isAdmin: false })).toBe(false);
  });
});

describe('login tokens', () => {
  it('expire', () => {
    let now = 1000;
    const tokens = new LoginTokens(() => now);
    const { token } = tokens.issue('@owner:x', 60_000);
    now += 60_000;
    expect(tokens.consume(token)).toBeUndefined();
    const second = tokens.issue('@owner:x', 60_000);
    now += 59_999;
    expect(tokens.consume(second.token)).toBe('@owner:x');
  });
});
