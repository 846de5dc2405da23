import { createHmac } from 'node:crypto';
import { defaultConfig, type AxonConfig } from '../config.js';
import { createNode, type AxonNode } from '../node.js';
import { tmpDir } from './fixtures.js';

/** A real node on 127.0.0.1, port 0, in a temp data folder, with rate limits off. */
/** libp2p for test nodes: loopback only, no mDNS on the host's network. */
export const TEST_P2P = { listen: ['/ip4/127.0.0.1/tcp/0'], peers: [] as string[], mdns: false, relay: false };

export async function startTestNode(overrides: Partial<AxonConfig> = {}, dataDir = tmpDir('axon-node-')): Promise<{ node: AxonNode; url: string }> {
  const node = createNode(defaultConfig(dataDir, { http: { host: '127.0.0.1', port: 0 }, logLevel: (process.env.AXON_TEST_LOG as AxonConfig['logLevel'] | undefined) ?? 'silent', rateLimit: 0, p2p: TEST_P2P, ...overrides }));
  const { url } = await node.start();
  return { node, url };
}

/** Registers a user over HTTP with the UIA dummy stage, as a client does. */
export async function registerUser(url: string, username: string, password = 'correct horse battery'): Promise<{ user_id: string; access_token: string; device_id: string }> {
  const post = (body: unknown) =>
    fetch(`${url}/_matrix/client/v3/register`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const first = await post({ username, password });
  const { session } = (await first.json()) as { session: string };
  const res = await post({ username, password, auth: { type: 'm.login.dummy', session } });
  if (res.status !== 200) throw new Error(`register ${username}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { user_id: string; access_token: string; device_id: string };
}

export type RegisteredUser = Awaited<ReturnType<typeof registerUser>>;

/** A test node with users registered on it, in the order named. */
export async function startWithUsers(names: string[], overrides: Partial<AxonConfig> = {}): Promise<{ node: AxonNode; url: string; users: RegisteredUser[] }> {
  const { node, url } = await startTestNode(overrides);
  return { node, url, users: await Promise.all(names.map((n) => registerUser(url, n))) };
}

/** Registers a server admin through Synapse's shared-secret registration (the node needs
 * `registrationSharedSecret: secret`). */
export async function registerAdmin(url: string, secret: string, username = 'root', password = 'pw-root-pw'): Promise<RegisteredUser> {
  const path = `${url}/_synapse/admin/v1/register`;
  const { nonce } = (await (await fetch(path)).json()) as { nonce: string };
  const mac = createHmac('sha1', secret).update(`${nonce}\0${username}\0${password}\0admin`).digest('hex');
  const res = await fetch(path, { method: 'POST', body: JSON.stringify({ nonce, username, password, admin: true, mac }) });
  if (res.status !== 200) throw new Error(`register admin ${username}: ${res.status} ${await res.text()}`);
  return (await res.json()) as RegisteredUser;
}

/** A parsed JSON response body, loosely typed for assertions in tests. */
export type ResponseJson = Record<string, any>;

/** Calls a client-server endpoint (path under /_matrix/client/v3) as `token`'s user. */
export async function clientCall(url: string, method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: ResponseJson }> {
  const res = await fetch(`${url}/_matrix/client/v3${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as ResponseJson };
}

/** The node's loopback TCP multiaddr (with /p2p/), to give another node as a bootstrap peer. */
export function loopbackAddr(node: AxonNode): string {
  const a = node.status().multiaddrs.find((m) => m.startsWith('/ip4/127.0.0.1/tcp/') && !m.includes('/ws') && !m.includes('p2p-circuit'));
  if (!a) throw new Error('the node has no loopback libp2p address');
  return a;
}

/** Polls until `f` gives a truthy value (what crosses federation arrives asynchronously). */
export async function until<T>(f: () => Promise<T | undefined | false> | T | undefined | false, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
