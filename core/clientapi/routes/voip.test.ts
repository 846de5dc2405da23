import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AxonNode } from '../../node.js';
import { clientCall, registerUser, startTestNode } from '../../test/node.js';
import { expectMatchesSpec, specMissing } from '../../test/openapi.js';

const nodes: AxonNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function start(overrides: Parameters<typeof startTestNode>[0] = {}) {
  const { node, url } = await startTestNode(overrides);
  nodes.push(node);
  return { node, url, alice: await registerUser(url, 'alice') };
}

describe('GET /voip/turnServer', () => {
  it('gives TURN REST credentials under a shared secret, which a TURN server can check', async () => {
    const { url, alice } = await start({ turn: { uris: ['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349'], sharedSecret: 's3cret', ttlSeconds: 3600 } });
    const before = Math.floor(Date.now() / 1000);
    const r = await clientCall(url, 'GET', '/voip/turnServer', alice.access_token);
    expect(r.status).toBe(200);
    if (!specMissing) expectMatchesSpec('get', '/voip/turnServer', 200, r.body);
    expect(r.body.uris).toEqual(['turn:turn.example:3478?transport=udp', 'turns:turn.example:5349']);
    expect(r.body.ttl).toBe(3600);
    const [expiry, user] = (r.body.username as string).split(/:(.*)/s);
    expect(user).toBe(alice.user_id);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + 3600);
    // What coturn computes from its static-auth-secret.
    expect(r.body.password).toBe(createHmac('sha1', 's3cret').update(r.body.username as string).digest('base64'));
    expect((await clientCall(url, 'GET', '/voip/turnServer', 'nope')).body.errcode).toBe('M_UNKNOWN_TOKEN');
  });

  it('gives a fixed username and password as configured', async () => {
    const { url, alice } = await start({ turn: { uris: ['turn:t.example'], username: 'u', password: 'p', ttlSeconds: 86400 } });
    const r = await clientCall(url, 'GET', '/voip/turnServer', alice.access_token);
    expect(r.body).toEqual({ username: 'u', password: 'p', uris: ['turn:t.example'], ttl: 86400 });
  });

  it('answers {} without TURN, as Synapse does, so that clients set up no TURN server', async () => {
    const { url, alice } = await start();
    expect(await clientCall(url, 'GET', '/voip/turnServer', alice.access_token)).toEqual({ status: 200, body: {} });
  });
});

describe('third-party lookup without bridges', () => {
  it('lists no protocols, finds nothing for one, and reverse lookups are empty', async () => {
    const { url, alice } = await start();
    const t = alice.access_token;
    const protocols = await clientCall(url, 'GET', '/thirdparty/protocols', t);
    expect(protocols).toEqual({ status: 200, body: {} });
    if (!specMissing) expectMatchesSpec('get', '/thirdparty/protocols', 200, protocols.body);
    for (const path of ['/thirdparty/protocol/irc', '/thirdparty/location/irc?searchFields=x', '/thirdparty/user/irc']) {
      const r = await clientCall(url, 'GET', path, t);
      expect(r.status).toBe(404);
      expect(r.body.errcode).toBe('M_NOT_FOUND');
    }
    if (!specMissing) expectMatchesSpec('get', '/thirdparty/protocol/{protocol}', 404, (await clientCall(url, 'GET', '/thirdparty/protocol/irc', t)).body);
    const location = await clientCall(url, 'GET', `/thirdparty/location?alias=${encodeURIComponent('#a:b')}`, t);
    expect(location).toEqual({ status: 200, body: [] });
    if (!specMissing) expectMatchesSpec('get', '/thirdparty/location', 200, location.body);
    expect(await clientCall(url, 'GET', `/thirdparty/user?userid=${encodeURIComponent(alice.user_id)}`, t)).toEqual({ status: 200, body: [] });
    expect((await clientCall(url, 'GET', '/thirdparty/user', t)).body.errcode).toBe('M_MISSING_PARAM');
    expect((await clientCall(url, 'GET', '/thirdparty/protocols', 'nope')).status).toBe(401);
  });
});
