import { afterEach, describe, expect, it } from 'vitest';
import type { AxonNode } from '../../node.js';
import { tmpDir } from '../../test/fixtures.js';
import { registerAdmin, registerUser, startTestNode } from '../../test/node.js';
import { expectMatchesSpec, specMissing } from '../../test/openapi.js';
import { clientIp } from '../lastseen.js';

const nodes: AxonNode[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.stop();
});

async function start(dataDir = tmpDir('axon-seen-')) {
  const { node, url } = await startTestNode({ registrationSharedSecret: 'shh' }, dataDir);
  nodes.push(node);
  return { node, url, dataDir };
}

const get = (url: string, path: string, token: string, userAgent?: string) =>
  fetch(`${url}/_matrix/client/v3${path}`, { headers: { Authorization: `Bearer ${token}`, ...(userAgent ? { 'User-Agent': userAgent } : {}) } }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, any>,
  }));

describe('devices: last seen', () => {
  it('a device shows when and from where it was last used, and whois shows the connection, also after a restart', async () => {
    const { node, url, dataDir } = await start();
    const alice = await registerUser(url, 'alice');
    const before = Date.now();
    expect((await get(url, '/account/whoami', alice.access_token, 'axon-test/1.0')).status).toBe(200);
    const after = Date.now();
    const devices = await get(url, '/devices', alice.access_token, 'axon-test/1.0');
    if (!specMissing) expectMatchesSpec('get', '/devices', 200, devices.body);
    const d = devices.body.devices.find((x: { device_id: string }) => x.device_id === alice.device_id);
    expect(d.last_seen_ip).toBe('127.0.0.1');
    expect(d.last_seen_ts).toBeGreaterThanOrEqual(before);
    expect(d.last_seen_ts).toBeLessThanOrEqual(Date.now());

    const whois = await get(url, `/admin/whois/${encodeURIComponent(alice.user_id)}`, alice.access_token, 'axon-test/1.0');
    expect(whois.status).toBe(200);
    if (!specMissing) expectMatchesSpec('get', '/v3/admin/whois/{userId}', 200, whois.body);
    expect(whois.body.user_id).toBe(alice.user_id);
    expect(whois.body.devices[alice.device_id].sessions[0].connections).toEqual([{ ip: '127.0.0.1', last_seen: expect.any(Number), user_agent: 'axon-test/1.0' }]);

    await node.stop();
    nodes.splice(nodes.indexOf(node), 1);
    const again = await start(dataDir);
    // Read without a request of alice's device in between: what the first run wrote down.
    const bob = await registerUser(again.url, 'bob');
    const admin = await registerAdmin(again.url, 'shh');
    const later = await get(again.url, `/admin/whois/${encodeURIComponent(alice.user_id)}`, admin.access_token);
    const seen = later.body.devices[alice.device_id].sessions[0].connections[0];
    expect(seen).toMatchObject({ ip: '127.0.0.1', user_agent: 'axon-test/1.0' });
    expect(seen.last_seen).toBeGreaterThanOrEqual(before);
    expect(seen.last_seen).toBeLessThanOrEqual(after + 1000);

    // Only the user and admins may look; unknown users are 404.
    const denied = await get(again.url, `/admin/whois/${encodeURIComponent(alice.user_id)}`, bob.access_token);
    expect([denied.status, denied.body.errcode]).toEqual([403, 'M_FORBIDDEN']);
    expect((await get(again.url, `/admin/whois/${encodeURIComponent(`@nobody:${again.node.serverName}`)}`, admin.access_token)).status).toBe(404);
  });

  it('writes an IPv4 client seen through a dual-stack socket as IPv4', () => {
    expect(clientIp('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientIp('2001:db8::1')).toBe('2001:db8::1');
    expect(clientIp('127.0.0.1')).toBe('127.0.0.1');
  });
});
