import { defaultConfig, type AxonConfig } from '../core/config.js';
import { encodeBase64, generateKeyPair, signJson } from '../core/crypto/index.js';
import { createNode } from '../core/node.js';
import { tmpDir } from '../core/test/fixtures.js';
import { stopAndRemove } from './cleanup.js';
import { TEST_P2P, registerUser } from '../core/test/node.js';
import { percentile, round } from './stats.js';

const USERS = 10;
const DEVICES_PER_USER = 10;
const CLAIM_ROUNDS = 50;
const QUERY_ROUNDS = 200;

/**
 * The key server through the HTTP API of a real node, 100 devices (10 users × 10) with
 * signed device keys and 50 one-time keys each: latency of /keys/query for all 100 devices
 * and of /keys/claim of one key from each of the 100 devices, p50 and p99.
 */
export async function keys(): Promise<Record<string, unknown>> {
  const node = createNode(defaultConfig(tmpDir('axon-bench-keys-'), { http: { host: '127.0.0.1', port: 0 }, logLevel: 'silent', rateLimit: 0, p2p: TEST_P2P } as Partial<AxonConfig>));
  const { url } = await node.start();
  const post = async (token: string, path: string, body: unknown) => {
    const res = await fetch(`${url}/_matrix/client/v3${path}`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    const out = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(out)}`);
    return out;
  };
  try {
    const querier = await registerUser(url, 'querier');
    const claimBody: Record<string, Record<string, string>> = {};
    const queryBody: Record<string, string[]> = {};
    for (let u = 0; u < USERS; u++) {
      const { user_id: userId } = await registerUser(url, `owner${u}`);
      queryBody[userId] = [];
      for (let d = 0; d < DEVICES_PER_USER; d++) {
        // Devices straight from the user API: 100 password logins would only time scrypt.
        const login = node.users.login(userId, {});
        const key = generateKeyPair(`ed25519:${login.device_id}`);
        const deviceKeys = signJson(
          {
            user_id: userId,
            device_id: login.device_id,
            algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
            keys: { [`curve25519:${login.device_id}`]: encodeBase64(generateKeyPair().publicKey), [`ed25519:${login.device_id}`]: encodeBase64(key.publicKey) },
          },
          userId,
          key,
        );
        const otks: Record<string, unknown> = {};
        for (let i = 0; i < CLAIM_ROUNDS; i++) otks[`signed_curve25519:k${String(i).padStart(4, '0')}`] = signJson({ key: encodeBase64(generateKeyPair().publicKey) }, userId, key);
        await post(login.access_token, '/keys/upload', { device_keys: deviceKeys, one_time_keys: otks });
        (claimBody[userId] ??= {})[login.device_id] = 'signed_curve25519';
      }
    }

    const timed = async (rounds: number, fn: () => Promise<unknown>) => {
      const samples: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t = performance.now();
        await fn();
        samples.push(performance.now() - t);
      }
      samples.sort((a, b) => a - b);
      return { samples: rounds, p50_ms: round(percentile(samples, 50)), p99_ms: round(percentile(samples, 99)) };
    };
    const query = await timed(QUERY_ROUNDS, async () => {
      const r = await post(querier.access_token, '/keys/query', { device_keys: queryBody });
      const n = Object.values(r.device_keys as Record<string, object>).reduce((s, d) => s + Object.keys(d).length, 0);
      if (n !== USERS * DEVICES_PER_USER) throw new Error(`query returned ${n} devices`);
    });
    const claim = await timed(CLAIM_ROUNDS, async () => {
      const r = await post(querier.access_token, '/keys/claim', { one_time_keys: claimBody });
      const n = Object.values(r.one_time_keys as Record<string, object>).reduce((s, d) => s + Object.keys(d).length, 0);
      if (n !== USERS * DEVICES_PER_USER) throw new Error(`claim returned ${n} keys`);
    });
    return { devices: USERS * DEVICES_PER_USER, keys_query_100_devices: query, keys_claim_100_devices: claim };
  } finally {
    await stopAndRemove(node);
  }
}
