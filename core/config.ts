import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import envPaths from 'env-paths';
import { LOG_LEVELS, type LogLevel } from './logger.js';

export type RegistrationMode = 'open' | 'shared-secret' | 'closed';

export interface AxonConfig {
  /** The node's data folder: database, identity key, config file. */
  dataDir: string;
  http: { host: string; port: number };
  logLevel: LogLevel;
  registration: RegistrationMode;
  registrationSharedSecret?: string;
  /** When any is set, registration needs one of these (the m.login.registration_token stage). */
  registrationTokens: string[];
  /** Largest JSON request body the client API accepts, in bytes. */
  maxBodyBytes: number;
  /** Largest media upload, in bytes. */
  maxUploadBytes: number;
  /** How many bytes of other nodes' media to keep (the oldest go first). */
  remoteMediaCacheBytes: number;
  /** Requests per second per client on rate-limited endpoints (burst 5x); 0 turns it off. */
  rateLimit: number;
  /** libp2p: listen multiaddrs (empty: TCP and WS on all interfaces, port 0), bootstrap peers
   * (multiaddrs with /p2p/), LAN discovery by mDNS, and whether to serve as a circuit relay. */
  p2p: { listen: string[]; peers: string[]; mdns: boolean; relay: boolean };
  /** Presence (online/unavailable/offline with timers); off: accepted and ignored. */
  presence: boolean;
  /** TURN servers handed to clients for calls: their URIs and either a shared secret (TURN
   * REST credentials, as coturn's use-auth-secret checks them) or a fixed username and
   * password. Absent: clients get no TURN server. */
  turn?: TurnConfig;
  /** Presence timer lengths in ms (tests shorten them; not a CLI setting). */
  presenceTimers?: { idleMs?: number; offlineMs?: number; activeMs?: number };
}

export interface TurnConfig {
  uris: string[];
  sharedSecret?: string;
  username?: string;
  password?: string;
  /** How long credentials last, in seconds. */
  ttlSeconds: number;
}

/** A configuration mistake: the CLI prints the message and exits with code 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The name of the optional config file inside the data folder. */
export const CONFIG_FILE = 'config.json';

export function defaultDataDir(): string {
  return envPaths('axon', { suffix: '' }).data;
}

/** Every setting, as a CLI flag and as a key of config.json (same names). */
const OPTIONS = {
  data: { type: 'string' },
  http: { type: 'string' },
  'log-level': { type: 'string' },
  registration: { type: 'string' },
  'registration-shared-secret': { type: 'string' },
  'registration-token': { type: 'string', multiple: true },
  'max-body-bytes': { type: 'string' },
  'max-upload-bytes': { type: 'string' },
  'remote-media-cache-bytes': { type: 'string' },
  'rate-limit': { type: 'string' },
  p2p: { type: 'string', multiple: true },
  peer: { type: 'string', multiple: true },
  mdns: { type: 'boolean' },
  relay: { type: 'boolean' },
  presence: { type: 'boolean' },
  'turn-uri': { type: 'string', multiple: true },
  'turn-shared-secret': { type: 'string' },
  'turn-username': { type: 'string' },
  'turn-password': { type: 'string' },
  'turn-ttl': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

/** Settings that take a list (repeatable flags; a string or a list of strings in the file). */
const LIST_KEYS = ['registration-token', 'p2p', 'peer', 'turn-uri'] as const;
type ListKey = (typeof LIST_KEYS)[number];
/** On/off settings (`--mdns`/`--no-mdns`; true/false in the file). */
const BOOLEAN_KEYS = ['mdns', 'relay', 'presence'] as const;
type BooleanKey = (typeof BOOLEAN_KEYS)[number];

type Settings = Partial<Record<Exclude<keyof typeof OPTIONS, 'help' | 'version' | ListKey | BooleanKey>, string>> &
  Partial<Record<ListKey, string[]>> &
  Partial<Record<BooleanKey, boolean>>;

export const USAGE = `Usage: axon [options]

  --data DIR                          data folder (default: ${defaultDataDir()})
  --http HOST:PORT                    client API address (default 127.0.0.1:8008; port 0 picks a free one)
  --log-level LEVEL                   ${LOG_LEVELS.join('|')} (default warn)
  --registration MODE                 open|shared-secret|closed (default open)
  --registration-shared-secret S      secret for /_synapse/admin/v1/register
  --registration-token T              registration needs this token (repeatable)
  --max-body-bytes N                  largest JSON request body (default 8388608)
  --max-upload-bytes N                largest media upload (default 52428800)
  --remote-media-cache-bytes N        other nodes' media kept, oldest dropped first (default 1073741824)
  --rate-limit N                      requests/s per client when sending, creating rooms,
                                      registering or logging in (burst 5x; 0 = off; default 10)
  --p2p MULTIADDR                     libp2p listen address (repeatable; default
                                      /ip4/0.0.0.0/tcp/0 and /ip4/0.0.0.0/tcp/0/ws;
                                      add /p2p-circuit to be reachable through relays)
  --peer MULTIADDR                    bootstrap peer, ending in /p2p/<peer id> (repeatable)
  --no-mdns                           do not discover peers on the LAN by mDNS
  --relay                             serve as a circuit relay for peers behind NAT
  --no-presence                       do not track or share presence (online/offline)
  --turn-uri URI                      TURN server for calls, e.g. turn:turn.example:3478?transport=udp
                                      (repeatable); with --turn-shared-secret S (coturn's
                                      static-auth-secret) or --turn-username U --turn-password P
  --turn-ttl SECONDS                  how long TURN credentials last (default 86400)
  -h, --help                          this text
  -v, --version                       print the version

Settings may also be given in DATA/${CONFIG_FILE} with the same names as keys (mdns,
relay and presence as true/false, p2p, peer and turn-uri as lists); flags win.`;

export function parseHostPort(s: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(s);
  if (!m) throw new ConfigError(`--http must be HOST:PORT, got "${s}"`);
  const port = Number(m[2]);
  if (port > 65535) throw new ConfigError(`--http port out of range: ${m[2]}`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function readConfigFile(dataDir: string): Settings {
  const file = path.join(dataDir, CONFIG_FILE);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    // A missing or unusable data folder is reported when the node starts, with exit code 1.
    if (['ENOENT', 'ENOTDIR'].includes((e as NodeJS.ErrnoException).code ?? '')) return {};
    throw new ConfigError(`cannot read ${file}: ${(e as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new ConfigError(`${file} is not valid JSON`);
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new ConfigError(`${file} must hold a JSON object`);
  const out: Settings = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!(k in OPTIONS) || k === 'help' || k === 'version' || k === 'data') throw new ConfigError(`${file}: unknown setting "${k}"`);
    if ((LIST_KEYS as readonly string[]).includes(k)) {
      const list = Array.isArray(v) ? v : [v];
      if (!list.every((t) => typeof t === 'string')) throw new ConfigError(`${file}: "${k}" must be a string or a list of strings`);
      out[k as ListKey] = list as string[];
      continue;
    }
    if ((BOOLEAN_KEYS as readonly string[]).includes(k)) {
      if (typeof v !== 'boolean') throw new ConfigError(`${file}: "${k}" must be true or false`);
      out[k as BooleanKey] = v;
      continue;
    }
    if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigError(`${file}: "${k}" must be a string`);
    (out as Record<string, string>)[k] = String(v);
  }
  return out;
}

export type CliResult = { kind: 'run'; config: AxonConfig } | { kind: 'help' } | { kind: 'version' };

/** Parses CLI flags, merged over DATA/config.json. Throws ConfigError on any mistake. */
export function parseCli(argv: string[]): CliResult {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false, allowNegative: true }));
  } catch (e) {
    throw new ConfigError((e as Error).message.split('\n')[0]!);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  const dataDir = path.resolve((values.data as string | undefined) ?? defaultDataDir());
  const file = readConfigFile(dataDir);
  const flags = Object.fromEntries(Object.entries(values).filter(([k, v]) => v !== undefined && k !== 'help' && k !== 'version')) as Settings;
  return { kind: 'run', config: buildConfig(dataDir, { ...file, ...flags }) };
}

function buildConfig(dataDir: string, s: Settings): AxonConfig {
  const logLevel = (s['log-level'] ?? 'warn') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const registration = (s.registration ?? 'open') as RegistrationMode;
  if (!['open', 'shared-secret', 'closed'].includes(registration)) {
    throw new ConfigError('--registration must be open, shared-secret or closed');
  }
  const secret = s['registration-shared-secret'];
  if (registration === 'shared-secret' && !secret) {
    throw new ConfigError('--registration shared-secret needs --registration-shared-secret');
  }
  const maxBody = Number(s['max-body-bytes'] ?? 8 * 1024 * 1024);
  if (!Number.isInteger(maxBody) || maxBody < 1024) throw new ConfigError('--max-body-bytes must be an integer >= 1024');
  const maxUpload = Number(s['max-upload-bytes'] ?? 50 * 1024 * 1024);
  if (!Number.isInteger(maxUpload) || maxUpload < 1024) throw new ConfigError('--max-upload-bytes must be an integer >= 1024');
  const remoteMedia = Number(s['remote-media-cache-bytes'] ?? 1024 * 1024 * 1024);
  if (!Number.isInteger(remoteMedia) || remoteMedia < 0) throw new ConfigError('--remote-media-cache-bytes must be an integer >= 0');
  if ((s['registration-token'] ?? []).some((t) => t.length === 0 || t.length > 64 || !/^[A-Za-z0-9._~-]+$/.test(t))) {
    throw new ConfigError('--registration-token must be 1 to 64 characters of A-Z a-z 0-9 . _ ~ -');
  }
  const rateLimit = Number(s['rate-limit'] ?? 10);
  if (!Number.isFinite(rateLimit) || rateLimit < 0) throw new ConfigError('--rate-limit must be a number >= 0');
  const listen = (s.p2p ?? []).map((a) => parseMultiaddr('--p2p', a));
  const peers = (s.peer ?? []).map((a) => parseMultiaddr('--peer', a));
  for (const p of peers) {
    const id = multiaddr(p).getComponents().findLast((c) => c.name === 'p2p')?.value;
    if (!id || !isPeerId(id)) throw new ConfigError(`--peer must end in /p2p/<peer id>, got "${p}"`);
  }
  const turn = turnConfig(s);
  return {
    dataDir,
    rateLimit,
    http: parseHostPort(s.http ?? '127.0.0.1:8008'),
    logLevel,
    registration,
    registrationSharedSecret: secret,
    registrationTokens: s['registration-token'] ?? [],
    maxBodyBytes: maxBody,
    maxUploadBytes: maxUpload,
    remoteMediaCacheBytes: remoteMedia,
    p2p: { listen, peers, mdns: s.mdns ?? true, relay: s.relay ?? false },
    presence: s.presence ?? true,
    ...(turn ? { turn } : {}),
  };
}

function turnConfig(s: Settings): TurnConfig | undefined {
  const uris = s['turn-uri'] ?? [];
  const secret = s['turn-shared-secret'];
  const username = s['turn-username'];
  const password = s['turn-password'];
  const ttlSeconds = Number(s['turn-ttl'] ?? 86400);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 60) throw new ConfigError('--turn-ttl must be an integer >= 60');
  if (uris.length === 0) {
    if (secret !== undefined || username !== undefined || password !== undefined) throw new ConfigError('TURN credentials need --turn-uri');
    return undefined;
  }
  for (const u of uris) if (!/^(turns?|stun):\S+$/.test(u)) throw new ConfigError(`--turn-uri must be a turn:, turns: or stun: URI, got "${u}"`);
  if (secret !== undefined && (username !== undefined || password !== undefined)) throw new ConfigError('--turn-shared-secret and --turn-username/--turn-password exclude each other');
  if (secret === undefined && (username === undefined || password === undefined)) throw new ConfigError('--turn-uri needs --turn-shared-secret, or --turn-username and --turn-password');
  return { uris, ttlSeconds, ...(secret !== undefined ? { sharedSecret: secret } : { username, password }) };
}

function isPeerId(s: string): boolean {
  try {
    peerIdFromString(s);
    return true;
  } catch {
    return false;
  }
}

function parseMultiaddr(flag: string, s: string): string {
  try {
    return multiaddr(s).toString();
  } catch {
    throw new ConfigError(`${flag} must be a multiaddr, got "${s}"`);
  }
}

/** A config for tests and embedding: a data folder and defaults for the rest. */
export function defaultConfig(dataDir: string, overrides: Partial<AxonConfig> = {}): AxonConfig {
  return { ...buildConfig(path.resolve(dataDir), {}), ...overrides };
}
