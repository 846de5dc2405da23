import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { sha256 as sha256Bytes } from '../crypto/hash.js';
import type { Db } from '../db/index.js';
import { parseUserId } from '../events/ids.js';
import type { JsonObject } from '../events/types.js';
import { MatrixError, forbidden, type ClientInfo, type Endpoint, type Requester } from '../http/index.js';
import type { LogMessage, Log, Topic } from '../log/index.js';
import type { Logger } from '../logger.js';
import { LruCache } from '../lru.js';
import type { RoomserverAPI } from '../roomserver/api.js';
import { ACCOUNT_DATA_TOPIC, type AccountDataOutput, type Profile, type UserAPI } from './api.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { USERAPI_MIGRATIONS, UserApiStorage, type DeviceRow } from './storage.js';
import { OpenIdTokens } from './openid.js';
import { LastSeen, clientIp } from './lastseen.js';
import { ProfileFields } from './profilefields.js';
import { UiaSessions } from './uia.js';
import { LoginTokens } from './logintokens.js';
import { accountDataEndpoints } from './routes/accountdata.js';
import { accountEndpoints } from './routes/account.js';
import { adminEndpoints } from './routes/admin.js';
import { deviceEndpoints } from './routes/devices.js';
import { filterEndpoints } from './routes/filters.js';
import { loginEndpoints } from './routes/login.js';
import { profileEndpoints } from './routes/profile.js';
import { registerEndpoints } from './routes/register.js';
import { KeyServer } from './keys/index.js';
import { KeyBackup } from './keys/backup.js';
import { keyEndpoints } from './keys/routes.js';

export type RegistrationMode = 'open' | 'shared-secret' | 'closed';

export interface UserApiConfig {
  registration: RegistrationMode;
  registrationSharedSecret?: string;
  /** When any is set, registration needs one of them (m.login.registration_token). */
  registrationTokens?: string[];
  /** Lifetime of access tokens issued with a refresh token (default one hour). */
  accessTokenLifetimeMs?: number;
}

export interface UserApiDeps {
  db: Db;
  log: Log;
  logger: Logger;
  serverName: string;
  config: UserApiConfig;
  roomserver: RoomserverAPI;
}

export interface LoginResult {
  user_id: string;
  access_token: string;
  device_id: string;
  home_server: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

export interface DeviceInfo {
  device_id: string;
  display_name?: string;
  last_seen_ip?: string;
  last_seen_ts?: number;
}

interface CachedToken {
  requester: Requester;
  expiresTs: number | null;
}

// The user-id grammar's localpart characters (spec: "User Identifiers").
const LOCALPART = /^[a-z0-9._=\-/+]+$/;
const NONCE_TTL_MS = 60_000;
const DEFAULT_TOKEN_LIFETIME_MS = 60 * 60_000;

export function sha256(token: string): string {
  return Buffer.from(sha256Bytes(token)).toString('base64url');
}

function newToken(): string {
  return randomBytes(32).toString('base64url');
}

function newDeviceId(): string {
  // Ten upper-case letters, like Synapse's device ids.
  const bytes = randomBytes(10);
  return Array.from(bytes, (b) => String.fromCharCode(65 + (b % 26))).join('');
}

/** Accounts, devices, access tokens, profiles, account data and filters (Dendrite's userapi). */
export class UserApi implements UserAPI {
  readonly serverName: string;
  /** Looks up another server's user (federation sets it). */
  remoteProfile: ((userId: string) => Promise<Profile | undefined>) | undefined;
  readonly storage: UserApiStorage;
  readonly uia = new UiaSessions();
  /** One-time m.login.token tokens (the owner's login link). */
  readonly loginTokens = new LoginTokens();
  readonly config: UserApiConfig;
  readonly logger: Logger;
  readonly roomserver: RoomserverAPI;
  /** The E2EE key server and server-side key backup. */
  readonly keys: KeyServer;
  readonly keyBackup: KeyBackup;
  private readonly deviceDeletedHooks: Array<(userId: string, deviceId: string) => void> = [];
  private readonly db: Db;
  private readonly tokens = new LruCache<string, CachedToken>(10_000);
  /** Access token → its stored hash, for tokens in use: every request presents one, and
   * hashing it cost more than the rest of the lookup. What a token is never changes, so
   * logging out needs only `tokens` cleared. */
  private readonly tokenHashes = new LruCache<string, string>(10_000);
  private readonly nonces = new Map<string, number>();
  private readonly topic: Topic<AccountDataOutput>;
  private readonly openIdTokens: OpenIdTokens;
  private readonly lastSeen: LastSeen;
  /** Profile fields other than the display name and avatar. */
  readonly profileFields: ProfileFields;

  constructor(deps: UserApiDeps) {
    deps.db.migrate('userapi', USERAPI_MIGRATIONS);
    this.db = deps.db;
    this.storage = new UserApiStorage(deps.db.raw);
    this.serverName = deps.serverName;
    this.config = deps.config;
    this.logger = deps.logger;
    this.roomserver = deps.roomserver;
    this.keys = new KeyServer({ db: deps.db, log: deps.log, logger: deps.logger, serverName: deps.serverName, devices: this, tracked: (u) => deps.roomserver.roomsForUser(u, 'join').length > 0 });
    this.keyBackup = new KeyBackup(deps.db, this.keys.store);
    this.openIdTokens = new OpenIdTokens(deps.db);
    this.lastSeen = new LastSeen(deps.db);
    this.profileFields = new ProfileFields(deps.db);
    this.topic = deps.log.topic<AccountDataOutput>(ACCOUNT_DATA_TOPIC, {
      durable: true,
      replay: {
        read: (after, limit) => this.storage.streamAfter(after, limit).map((r) => this.streamMessage(r.id, r.user_id, r.room_id, r.type)),
        head: () => this.storage.streamHead(),
      },
    });
  }

  private streamMessage(id: number, userId: string, roomId: string, type: string): LogMessage<AccountDataOutput> {
    const value: AccountDataOutput = roomId === '' ? { userId, type } : { userId, roomId, type };
    return { topic: ACCOUNT_DATA_TOPIC, offset: id, key: userId, value };
  }

  // ---- UserAPI ----

  requestOpenIdToken(userId: string): { token: string; expiresIn: number } {
    return this.openIdTokens.create(userId);
  }

  openIdUser(token: string): string | undefined {
    return this.openIdTokens.userOf(token);
  }

  authenticate(accessToken: string): Requester | undefined {
    const hash = this.tokenHash(accessToken);
    let hit = this.tokens.get(hash);
    if (!hit) {
      const row = this.storage.token(hash);
      if (!row) return undefined;
      hit = { requester: { userId: row.user_id, deviceId: row.device_id, isAdmin: row.is_admin === 1 }, expiresTs: row.expires_ts };
      this.tokens.set(hash, hit);
      // Only tokens that exist are remembered: random ones cannot crowd out the real.
      this.tokenHashes.set(accessToken, hash);
    }
    if (hit.expiresTs !== null && hit.expiresTs <= Date.now()) return undefined;
    return { ...hit.requester };
  }

  private tokenHash(accessToken: string): string {
    return this.tokenHashes.get(accessToken) ?? sha256(accessToken);
  }

  /** The HTTP layer's authenticator: like authenticate, but an access token that has only
   * expired gets `M_UNKNOWN_TOKEN` with `soft_logout: true`, so the client refreshes it and
   * keeps its session (and keys); an unknown or logged-out token leaves the caller to answer
   * `soft_logout: false`. */
  authenticateRequest(accessToken: string, client?: ClientInfo): Requester | undefined {
    const requester = this.authenticate(accessToken);
    if (requester) {
      if (client) this.lastSeen.note(requester.userId, requester.deviceId, { ts: Date.now(), ip: clientIp(client.ip), ...(client.userAgent ? { userAgent: client.userAgent } : {}) });
      return requester;
    }
    const hash = this.tokenHash(accessToken);
    const expiresTs = this.tokens.get(hash)?.expiresTs ?? this.storage.token(hash)?.expires_ts ?? null;
    if (expiresTs !== null && expiresTs <= Date.now()) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token expired', { soft_logout: true });
    return undefined;
  }

  accountExists(userId: string): boolean {
    const lp = this.localpartOf(userId);
    return lp !== undefined && this.storage.account(lp) !== undefined;
  }

  searchProfiles(term: string, limit: number): Array<{ userId: string } & Profile> {
    return this.storage.searchAccounts(this.serverName, term, limit).map((r) => ({
      userId: `@${r.localpart}:${this.serverName}`,
      ...(r.displayname !== null ? { displayname: r.displayname } : {}),
      ...(r.avatar_url !== null ? { avatar_url: r.avatar_url } : {}),
    }));
  }

  profile(userId: string): Profile | undefined {
    const lp = this.localpartOf(userId);
    const row = lp === undefined ? undefined : this.storage.account(lp);
    if (!row) return undefined;
    const p: Profile = {};
    if (row.displayname !== null) p.displayname = row.displayname;
    if (row.avatar_url !== null) p.avatar_url = row.avatar_url;
    return p;
  }

  accountData(userId: string, roomId: string | undefined, type: string): JsonObject | undefined {
    const raw = this.storage.accountData(userId, roomId ?? '', type);
    return raw === undefined ? undefined : (JSON.parse(raw) as JsonObject);
  }

  filter(userId: string, filterId: string): JsonObject | undefined {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(filterId)) return undefined;
    const raw = this.storage.filter(userId, Number(filterId));
    return raw === undefined ? undefined : (JSON.parse(raw) as JsonObject);
  }

  deviceIds(userId: string): string[] {
    return this.storage.devices(userId).map((d) => d.device_id);
  }

  // ---- accounts ----

  /** The localpart of a local user id, or undefined for a remote or malformed one. */
  localpartOf(userId: string): string | undefined {
    const u = parseUserId(userId);
    return u && u.serverName === this.serverName ? u.localpart : undefined;
  }

  userId(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  /** Lower-cases and checks a requested localpart; throws M_INVALID_USERNAME. */
  validateLocalpart(raw: string): string {
    const lp = raw.toLowerCase();
    if (!LOCALPART.test(lp)) throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID can only contain characters a-z, 0-9, or ._=-/+');
    if (Buffer.byteLength(this.userId(lp)) > 255) throw new MatrixError(400, 'M_INVALID_USERNAME', 'User ID is too long');
    return lp;
  }

  /** Throws M_USER_IN_USE when taken. */
  checkAvailable(localpart: string): void {
    if (this.storage.account(localpart)) throw new MatrixError(400, 'M_USER_IN_USE', 'User ID already taken');
  }

  /** A fresh localpart for a registration without a username. */
  generateLocalpart(): string {
    for (;;) {
      const lp = `u${randomBytes(6).toString('hex')}`;
      if (!this.storage.account(lp)) return lp;
    }
  }

  /** Creates an account with displayname = localpart (or the one given); returns its user id. */
  async createAccount(localpart: string, password: string | undefined, opts: { admin?: boolean; displayname?: string } = {}): Promise<string> {
    const hash = password === undefined ? null : await hashPassword(password);
    this.db.transaction(() => {
      this.checkAvailable(localpart);
      this.storage.insertAccount(localpart, hash, opts.admin ?? false, opts.displayname ?? localpart);
    });
    return this.userId(localpart);
  }

  /** Checks a password; false for unknown or deactivated accounts too. */
  async checkPassword(userId: string, password: string): Promise<boolean> {
    const lp = this.localpartOf(userId);
    const row = lp === undefined ? undefined : this.storage.account(lp);
    // Hash anyway so that unknown users take as long as wrong passwords.
    if (!row || row.deactivated) {
      await verifyPassword(password, 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
      return false;
    }
    return verifyPassword(password, row.password_hash);
  }

  isDeactivated(userId: string): boolean {
    const lp = this.localpartOf(userId);
    return lp !== undefined && this.storage.account(lp)?.deactivated === 1;
  }

  /** Resolves a login identifier (full id or bare localpart) to a local user id. */
  resolveUser(user: string): string | undefined {
    if (user.startsWith('@')) {
      const lp = this.localpartOf(user.toLowerCase());
      return lp === undefined ? undefined : this.userId(lp);
    }
    const lp = user.toLowerCase();
    return LOCALPART.test(lp) ? this.userId(lp) : undefined;
  }

  /** The m.login.password stage for an authenticated user. */
  passwordStage(userId: string): (stage: string, auth: Record<string, unknown>) => Promise<void> {
    return async (_stage, auth) => {
      const password = auth.password;
      if (typeof password !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing auth.password');
      let user: unknown = (auth.identifier as Record<string, unknown> | undefined)?.user ?? auth.user ?? userId;
      if (typeof user !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'auth.identifier.user must be a string');
      user = this.resolveUser(user);
      if (user !== userId) throw forbidden('Identifier does not match the logged-in user');
      if (!(await this.checkPassword(userId, password))) throw forbidden('Invalid password');
    };
  }

  async changePassword(userId: string, newPassword: string, logoutDevices: boolean, keepDevice: string): Promise<void> {
    const lp = this.localpartOf(userId)!;
    const hash = await hashPassword(newPassword);
    this.db.transaction(() => {
      this.storage.setPassword(lp, hash);
      if (logoutDevices) for (const d of this.storage.devices(userId)) if (d.device_id !== keepDevice) this.removeDevice(userId, d.device_id);
    });
  }

  /** Deactivates: no more logins, all devices gone, and the user leaves every joined room. */
  async deactivate(userId: string): Promise<void> {
    const lp = this.localpartOf(userId)!;
    this.db.transaction(() => {
      this.storage.deactivate(lp);
      for (const d of this.storage.devices(userId)) this.removeDevice(userId, d.device_id);
    });
    for (const roomId of this.roomserver.roomsForUser(userId, 'join')) {
      try {
        await this.roomserver.sendEvent({ roomId, sender: userId, type: 'm.room.member', stateKey: userId, content: { membership: 'leave' } });
      } catch (err) {
        this.logger.warn({ err, room_id: roomId, user_id: userId }, 'could not leave room on deactivation');
      }
    }
  }

  // ---- shared-secret registration (Synapse admin API) ----

  newNonce(): string {
    const now = Date.now();
    for (const [n, exp] of this.nonces) if (exp < now) this.nonces.delete(n);
    const nonce = randomBytes(16).toString('hex');
    this.nonces.set(nonce, now + NONCE_TTL_MS);
    return nonce;
  }

  /** Consumes a nonce; false when unknown or expired. */
  takeNonce(nonce: string): boolean {
    const exp = this.nonces.get(nonce);
    this.nonces.delete(nonce);
    return exp !== undefined && exp >= Date.now();
  }

  checkMac(secret: string, nonce: string, username: string, password: string, admin: boolean, mac: string): boolean {
    const h = createHmac('sha1', secret);
    h.update(nonce).update('\0').update(username).update('\0').update(password).update('\0').update(admin ? 'admin' : 'notadmin');
    const want = h.digest();
    if (!/^[0-9a-fA-F]{40}$/.test(mac)) return false;
    return timingSafeEqual(want, Buffer.from(mac, 'hex'));
  }

  // ---- devices and tokens ----

  /** Creates (or reuses) a device and issues an access token for it. */
  login(userId: string, opts: { deviceId?: string; displayName?: string; refresh?: boolean }): LoginResult {
    const deviceId = opts.deviceId ?? newDeviceId();
    const out = this.db.transaction(() => {
      // A new device changes the user's device list (room-mates and federation hear of it).
      if (!this.storage.device(userId, deviceId)) this.keys.deviceAdded(userId, deviceId);
      this.storage.insertDevice(userId, deviceId, opts.displayName ?? null);
      return this.issueToken(userId, deviceId, opts.refresh ?? false);
    });
    return { user_id: userId, device_id: deviceId, home_server: this.serverName, ...out };
  }

  private issueToken(userId: string, deviceId: string, refresh: boolean): { access_token: string; refresh_token?: string; expires_in_ms?: number } {
    const access = newToken();
    if (!refresh) {
      this.storage.insertToken(sha256(access), userId, deviceId, null, null);
      return { access_token: access };
    }
    const refreshToken = newToken();
    const lifetime = this.config.accessTokenLifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
    this.storage.insertToken(sha256(access), userId, deviceId, Date.now() + lifetime, sha256(refreshToken));
    return { access_token: access, refresh_token: refreshToken, expires_in_ms: lifetime };
  }

  /** Swaps a refresh token for a new access/refresh pair on the same device. */
  refresh(refreshToken: string): { access_token: string; refresh_token?: string; expires_in_ms?: number } {
    return this.db.transaction(() => {
      const row = this.storage.tokenByRefresh(sha256(refreshToken));
      if (!row || this.isDeactivated(row.user_id)) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown refresh token', { soft_logout: false });
      this.storage.deleteToken(row.token_hash);
      this.forget([row.token_hash]);
      return this.issueToken(row.user_id, row.device_id, true);
    });
  }

  /** Logs out: the device of the token is deleted with its tokens. */
  logout(requester: Requester): void {
    this.db.transaction(() => this.removeDevice(requester.userId, requester.deviceId));
  }

  logoutAll(userId: string): void {
    this.db.transaction(() => {
      for (const d of this.storage.devices(userId)) this.removeDevice(userId, d.device_id);
    });
  }

  deleteDevices(userId: string, deviceIds: string[]): void {
    this.db.transaction(() => {
      for (const id of deviceIds) this.removeDevice(userId, id);
    });
  }

  /** Deletes a device with its tokens, its E2EE keys and what hooks on (its to-device inbox).
   * Call inside a transaction. */
  private removeDevice(userId: string, deviceId: string): void {
    const existed = this.storage.device(userId, deviceId) !== undefined;
    this.forget(this.storage.deleteDevice(userId, deviceId));
    this.keys.deleteDevice(userId, deviceId, existed);
    for (const hook of this.deviceDeletedHooks) hook(userId, deviceId);
  }

  /** Runs `hook` in the transaction that deletes a device (the to-device inbox goes too). */
  onDeviceDeleted(hook: (userId: string, deviceId: string) => void): void {
    this.deviceDeletedHooks.push(hook);
  }

  private forget(hashes: string[]): void {
    for (const h of hashes) this.tokens.delete(h);
  }

  devices(userId: string): DeviceInfo[] {
    return this.storage.devices(userId).map((d) => deviceInfo(this.withSeen(userId, d)));
  }

  device(userId: string, deviceId: string): DeviceInfo | undefined {
    const d = this.storage.device(userId, deviceId);
    return d && deviceInfo(this.withSeen(userId, d));
  }

  /** A device row with what was noted of it since the last flush. */
  private withSeen(userId: string, d: DeviceRow): DeviceRow {
    const s = this.lastSeen.noted(userId, d.device_id);
    return s ? { ...d, last_seen_ts: s.ts, last_seen_ip: s.ip, last_seen_user_agent: s.userAgent ?? null } : d;
  }

  /** GET /admin/whois: each device's last connection (one session per device, as a device
   * is one login here). */
  whois(userId: string): { user_id: string; devices: Record<string, { sessions: Array<{ connections: Array<Record<string, unknown>> }> }> } {
    const devices: Record<string, { sessions: Array<{ connections: Array<Record<string, unknown>> }> }> = {};
    for (const row of this.storage.devices(userId)) {
      const d = this.withSeen(userId, row);
      const connection: Record<string, unknown> = {};
      if (d.last_seen_ip !== null) connection.ip = d.last_seen_ip;
      if (d.last_seen_ts !== null) connection.last_seen = d.last_seen_ts;
      if (d.last_seen_user_agent !== null) connection.user_agent = d.last_seen_user_agent;
      devices[d.device_id] = { sessions: [{ connections: Object.keys(connection).length > 0 ? [connection] : [] }] };
    }
    return { user_id: userId, devices };
  }

  /** Writes down what is noted in memory (last-seen records). */
  close(): void {
    this.lastSeen.close();
  }

  // ---- profiles ----

  /** Sets displayname or avatar_url and re-sends the user's join event in each joined room. */
  async setProfileField(userId: string, field: 'displayname' | 'avatar_url', value: string): Promise<void> {
    const lp = this.localpartOf(userId)!;
    const stored = value === '' ? null : value;
    if (field === 'displayname') this.storage.setDisplayname(lp, stored);
    else this.storage.setAvatarUrl(lp, stored);
    for (const roomId of this.roomserver.roomsForUser(userId, 'join')) {
      const current = this.roomserver.currentStateEvent(roomId, 'm.room.member', userId);
      if (!current || current.content.membership !== 'join') continue;
      const content: JsonObject = { ...current.content, membership: 'join' };
      if (stored === null) delete content[field];
      else content[field] = stored;
      try {
        await this.roomserver.sendEvent({ roomId, sender: userId, type: 'm.room.member', stateKey: userId, content });
      } catch (err) {
        this.logger.warn({ err, room_id: roomId, user_id: userId }, 'could not update member event after a profile change');
      }
    }
  }

  // ---- account data and filters ----

  /** Commits account data, then publishes it on the account-data topic. */
  putAccountData(userId: string, roomId: string | undefined, type: string, content: JsonObject): void {
    const id = this.db.transaction(() => this.storage.putAccountData(userId, roomId ?? '', type, JSON.stringify(content)));
    const m = this.streamMessage(id, userId, roomId ?? '', type);
    this.topic.publish(m.key, m.value, m.offset);
  }

  /** Read-modify-write of account data in one step (tags). */
  updateAccountData(userId: string, roomId: string | undefined, type: string, update: (old: JsonObject | undefined) => JsonObject): void {
    const id = this.db.transaction(() => {
      const old = this.accountData(userId, roomId, type);
      return this.storage.putAccountData(userId, roomId ?? '', type, JSON.stringify(update(old)));
    });
    const m = this.streamMessage(id, userId, roomId ?? '', type);
    this.topic.publish(m.key, m.value, m.offset);
  }

  addFilter(userId: string, filter: JsonObject): string {
    return String(this.storage.insertFilter(userId, JSON.stringify(filter)));
  }
}

function deviceInfo(d: DeviceRow): DeviceInfo {
  const out: DeviceInfo = { device_id: d.device_id };
  if (d.display_name !== null) out.display_name = d.display_name;
  if (d.last_seen_ip !== null) out.last_seen_ip = d.last_seen_ip;
  if (d.last_seen_ts !== null) out.last_seen_ts = d.last_seen_ts;
  return out;
}

/** Every client-server (and Synapse admin) endpoint the user API serves. */
export function userApiEndpoints(api: UserApi): Endpoint[] {
  return [
    ...registerEndpoints(api),
    ...adminEndpoints(api),
    ...loginEndpoints(api),
    ...accountEndpoints(api),
    ...deviceEndpoints(api),
    ...profileEndpoints(api),
    ...accountDataEndpoints(api),
    ...filterEndpoints(api),
    ...keyEndpoints(api),
  ];
}

export { ACCOUNT_DATA_TOPIC, type AccountDataOutput, type Profile, type UserAPI } from './api.js';
