import type { Db } from '../../db/index.js';
import { parseUserId } from '../../events/ids.js';
import type { JsonObject } from '../../events/types.js';
import { invalidParam, missingParam, type Requester } from '../../http/index.js';
import type { Log, LogMessage, Topic } from '../../log/index.js';
import type { Logger } from '../../logger.js';
import { KEY_CHANGE_TOPIC, type DeviceListUpdate, type FederationKeysAPI, type KeyChangeOutput, type RemoteKeysAPI, type SigningKeyUpdate, type SyncKeysAPI } from './api.js';
import { RemoteDeviceLists, type RemoteUserKeys } from './remote.js';
import { KeyStorage, USERKEYS_MIGRATIONS, type ChangeRow } from './storage.js';
import { checkDeviceKeys, checkSignedKey, crossSigningPublicKey, invalidSignature, sameSignedContent, verifyWith, type crossSigningKeySchema, type deviceKeysSchema, type keyMapSchema } from './validate.js';
import type { z } from 'zod';

export { KEY_CHANGE_TOPIC, type KeyChangeOutput, type RemoteKeysAPI, type SyncKeysAPI, type FederationKeysAPI } from './api.js';

export interface KeyServerDeps {
  db: Db;
  log: Log;
  logger: Logger;
  serverName: string;
  /** The user API's devices (display names in /keys/query, existence checks). */
  devices: { device(userId: string, deviceId: string): { display_name?: string } | undefined };
  /** Whether a remote user shares a room with this server: only then does their server
   * send us their device list updates, so only then are their keys cached. */
  tracked(userId: string): boolean;
}

export interface UploadBody {
  device_keys?: JsonObject & z.infer<typeof deviceKeysSchema>;
  one_time_keys?: z.infer<typeof keyMapSchema>;
  fallback_keys?: z.infer<typeof keyMapSchema>;
}

type CrossSigningKey = z.infer<typeof crossSigningKeySchema>;
export type CrossSigningType = 'master' | 'self_signing' | 'user_signing';
const CROSS_SIGNING_TYPES: readonly CrossSigningType[] = ['master', 'self_signing', 'user_signing'];

function messageOf(r: ChangeRow, serverName: string): LogMessage<KeyChangeOutput> {
  const value: KeyChangeOutput = { userId: r.user_id, kind: r.kind };
  if (r.device_id !== null) value.deviceId = r.device_id;
  if (r.deleted) value.deleted = true;
  if (parseUserId(r.user_id)?.serverName !== serverName) value.remote = true;
  return { topic: KEY_CHANGE_TOPIC, offset: r.id, key: r.user_id, value };
}

function algorithmOf(keyId: string): string {
  return keyId.slice(0, keyId.indexOf(':'));
}

/**
 * The E2EE key server of the user API: device keys, one-time and fallback keys,
 * cross-signing keys and signatures. Every change of a local user's keys is a row of
 * `uk_changes`, published on the durable `key-change` topic after it commits.
 */
export class KeyServer implements SyncKeysAPI, FederationKeysAPI {
  readonly store: KeyStorage;
  /** Federation sets these; until then remote users are reported in `failures`. */
  remote: RemoteKeysAPI = {};
  readonly remoteLists: RemoteDeviceLists;
  private readonly topic: Topic<KeyChangeOutput>;
  private published: number;

  constructor(private readonly deps: KeyServerDeps) {
    deps.db.migrate('userkeys', USERKEYS_MIGRATIONS);
    this.store = new KeyStorage(deps.db.raw);
    this.remoteLists = new RemoteDeviceLists(this.store);
    this.published = this.store.changeHead();
    this.topic = deps.log.topic<KeyChangeOutput>(KEY_CHANGE_TOPIC, {
      durable: true,
      replay: { read: (after, limit) => this.store.changesAfter(after, limit).map((r) => messageOf(r, deps.serverName)), head: () => this.store.changeHead() },
    });
  }

  /** Publishes committed changes not yet on the topic, in order. */
  flushChanges(): void {
    for (;;) {
      const rows = this.store.changesAfter(this.published, 500);
      for (const r of rows) {
        const m = messageOf(r, this.deps.serverName);
        this.topic.publish(m.key, m.value, m.offset);
        this.published = r.id;
      }
      if (rows.length < 500) return;
    }
  }

  private isLocal(userId: string): boolean {
    return parseUserId(userId)?.serverName === this.deps.serverName;
  }

  private tx<T>(fn: () => T): T {
    const out = this.deps.db.transaction(fn);
    this.flushChanges();
    return out;
  }

  // ---- upload ----

  upload(r: Requester, body: UploadBody): { one_time_key_counts: Record<string, number> } {
    const { userId, deviceId } = r;
    let ed25519: string | undefined;
    if (body.device_keys) ed25519 = checkDeviceKeys(body.device_keys, userId, deviceId);
    else {
      const stored = this.store.deviceKeys(userId, deviceId);
      if (stored) ed25519 = (JSON.parse(stored) as { keys: Record<string, string> }).keys[`ed25519:${deviceId}`];
    }
    for (const [id, v] of Object.entries(body.one_time_keys ?? {})) checkSignedKey(id, v, userId, deviceId, ed25519);
    for (const [id, v] of Object.entries(body.fallback_keys ?? {})) checkSignedKey(id, v, userId, deviceId, ed25519);
    this.tx(() => {
      if (body.device_keys) {
        const json = JSON.stringify(body.device_keys);
        const old = this.store.deviceKeys(userId, deviceId);
        if (old !== json) {
          this.store.putDeviceKeys(userId, deviceId, json);
          this.store.addChange(userId, deviceId, 'device');
        }
      }
      for (const [id, v] of Object.entries(body.one_time_keys ?? {})) {
        const alg = algorithmOf(id);
        const json = JSON.stringify(v);
        const old = this.store.oneTimeKey(userId, deviceId, alg, id);
        if (old !== undefined && old !== json) throw invalidParam(`One time key ${id} already exists with different content`);
        this.store.insertOneTimeKey(userId, deviceId, alg, id, json);
      }
      // Per algorithm, the newest fallback key replaces the one before it.
      for (const [id, v] of Object.entries(body.fallback_keys ?? {})) this.store.putFallbackKey(userId, deviceId, algorithmOf(id), id, JSON.stringify(v));
    });
    return { one_time_key_counts: this.oneTimeKeyCounts(userId, deviceId) };
  }

  // ---- query ----

  /** A stored key with the signatures uploaded for it since. */
  private withSignatures(targetUser: string, targetKey: string, json: string): JsonObject {
    const obj = JSON.parse(json) as JsonObject & { signatures?: Record<string, Record<string, string>> };
    const sigs = { ...(obj.signatures ?? {}) };
    for (const s of this.store.signatures(targetUser, targetKey)) sigs[s.signer_user] = { ...sigs[s.signer_user], [s.signer_key_id]: s.signature };
    obj.signatures = sigs;
    return obj;
  }

  private crossSigning(userId: string, type: CrossSigningType): JsonObject | undefined {
    const k = this.store.crossSigningKey(userId, type);
    return k && this.withSignatures(userId, k.public_key, k.key_json);
  }

  queryLocalKeys(deviceKeys: Record<string, string[]>, requesterUserId?: string): JsonObject {
    const device_keys: Record<string, Record<string, JsonObject>> = {};
    const master_keys: Record<string, JsonObject> = {};
    const self_signing_keys: Record<string, JsonObject> = {};
    const user_signing_keys: Record<string, JsonObject> = {};
    for (const [userId, wanted] of Object.entries(deviceKeys)) {
      if (!this.isLocal(userId)) continue;
      const want = new Set(wanted);
      const out: Record<string, JsonObject> = {};
      for (const row of this.store.allDeviceKeys(userId)) {
        if (want.size > 0 && !want.has(row.device_id)) continue;
        const k = this.withSignatures(userId, row.device_id, row.key_json);
        const name = this.deps.devices.device(userId, row.device_id)?.display_name;
        k.unsigned = name === undefined ? {} : { device_display_name: name };
        out[row.device_id] = k;
      }
      device_keys[userId] = out;
      const master = this.crossSigning(userId, 'master');
      if (master) master_keys[userId] = master;
      const ss = this.crossSigning(userId, 'self_signing');
      if (ss) self_signing_keys[userId] = ss;
      if (requesterUserId === userId) {
        const us = this.crossSigning(userId, 'user_signing');
        if (us) user_signing_keys[userId] = us;
      }
    }
    return { device_keys, master_keys, self_signing_keys, user_signing_keys } as JsonObject;
  }

  async query(r: Requester, deviceKeys: Record<string, string[]>, timeoutMs: number): Promise<JsonObject> {
    const out = this.queryLocalKeys(deviceKeys, r.userId) as Record<string, Record<string, JsonObject>>;
    const failures: Record<string, JsonObject> = {};
    const fill = (userId: string, keys: RemoteUserKeys) => {
      const want = new Set(deviceKeys[userId]);
      out.device_keys![userId] = Object.fromEntries(Object.entries(keys.device_keys).filter(([d]) => want.size === 0 || want.has(d))) as JsonObject;
      if (keys.master_key) out.master_keys![userId] = keys.master_key;
      if (keys.self_signing_key) out.self_signing_keys![userId] = keys.self_signing_key;
    };
    const byServer = new Map<string, Record<string, string[]>>();
    for (const userId of Object.keys(deviceKeys)) {
      const server = parseUserId(userId)?.serverName;
      if (server === undefined || server === this.deps.serverName) continue;
      const cached = this.deps.tracked(userId) ? this.remoteLists.fresh(userId) : undefined;
      if (cached) fill(userId, cached);
      // All devices, so that what is cached is the whole list.
      else (byServer.get(server) ?? byServer.set(server, {}).get(server)!)[userId] = [];
    }
    await Promise.all(
      [...byServer].map(async ([server, users]) => {
        if (!this.remote.queryKeys) {
          failures[server] = { status: 503, message: 'Federation is not available' };
          return;
        }
        try {
          const res = (await this.remote.queryKeys(server, users, timeoutMs)) as Record<string, unknown>;
          const part = (name: string, u: string): JsonObject | undefined => {
            const all = res[name];
            const v = typeof all === 'object' && all !== null ? (all as Record<string, unknown>)[u] : undefined;
            return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
          };
          // Only the users asked for: what a server says of others is dropped.
          for (const u of Object.keys(users)) {
            const devices = part('device_keys', u);
            if (!devices) continue;
            const keys: RemoteUserKeys = { device_keys: devices as Record<string, JsonObject> };
            const master = part('master_keys', u);
            const ssk = part('self_signing_keys', u);
            if (master) keys.master_key = master;
            if (ssk) keys.self_signing_key = ssk;
            if (this.deps.tracked(u)) this.remoteLists.put(u, keys);
            fill(u, keys);
          }
        } catch (err) {
          failures[server] = { status: 503, message: (err as Error).message };
        }
      }),
    );
    return { ...out, failures } as JsonObject;
  }

  // ---- claim ----

  claimLocalKeys(oneTimeKeys: Record<string, Record<string, string>>): JsonObject {
    const out: Record<string, Record<string, Record<string, JsonObject | string>>> = {};
    this.deps.db.transaction(() => {
      for (const [userId, devices] of Object.entries(oneTimeKeys)) {
        if (!this.isLocal(userId)) continue;
        for (const [deviceId, algorithm] of Object.entries(devices)) {
          const k = this.store.takeOneTimeKey(userId, deviceId, algorithm) ?? this.store.useFallbackKey(userId, deviceId, algorithm);
          if (!k) continue;
          ((out[userId] ??= {})[deviceId] ??= {})[k.key_id] = JSON.parse(k.key_json) as JsonObject | string;
        }
      }
    });
    return out as JsonObject;
  }

  async claim(oneTimeKeys: Record<string, Record<string, string>>, timeoutMs: number): Promise<JsonObject> {
    const one_time_keys = this.claimLocalKeys(oneTimeKeys) as Record<string, JsonObject>;
    const failures: Record<string, JsonObject> = {};
    const byServer = new Map<string, Record<string, Record<string, string>>>();
    for (const [userId, devices] of Object.entries(oneTimeKeys)) {
      const server = parseUserId(userId)?.serverName;
      if (server === undefined || server === this.deps.serverName) continue;
      (byServer.get(server) ?? byServer.set(server, {}).get(server)!)[userId] = devices;
    }
    await Promise.all(
      [...byServer].map(async ([server, users]) => {
        if (!this.remote.claimKeys) {
          failures[server] = { status: 503, message: 'Federation is not available' };
          return;
        }
        try {
          const res = (await this.remote.claimKeys(server, users, timeoutMs)) as { one_time_keys?: Record<string, JsonObject> };
          for (const [u, v] of Object.entries(res.one_time_keys ?? {})) if (u in users) one_time_keys[u] = v;
        } catch (err) {
          failures[server] = { status: 503, message: (err as Error).message };
        }
      }),
    );
    return { one_time_keys, failures } as JsonObject;
  }

  // ---- cross-signing ----

  /** Whether uploading `keys` needs UIA: not for the first master key, nor for keys that
   * are already stored as they are (clients retry). */
  crossSigningNeedsAuth(userId: string, keys: Partial<Record<CrossSigningType, CrossSigningKey>>): boolean {
    if (!this.store.crossSigningKey(userId, 'master')) return false;
    return CROSS_SIGNING_TYPES.some((t) => {
      const k = keys[t];
      if (!k) return false;
      const old = this.store.crossSigningKey(userId, t);
      return !old || !sameSignedContent(JSON.parse(old.key_json) as object, k);
    });
  }

  uploadCrossSigning(userId: string, keys: Partial<Record<CrossSigningType, CrossSigningKey>>): void {
    const pubs: Partial<Record<CrossSigningType, string>> = {};
    for (const t of CROSS_SIGNING_TYPES) {
      const k = keys[t];
      if (!k) continue;
      if (k.user_id !== userId) throw invalidParam(`${t}_key is for another user`);
      if (!k.usage.includes(t)) throw invalidParam(`${t}_key must have usage ${t}`);
      pubs[t] = crossSigningPublicKey(k);
    }
    const masterPub = pubs.master ?? this.store.crossSigningKey(userId, 'master')?.public_key;
    for (const t of ['self_signing', 'user_signing'] as const) {
      const k = keys[t];
      if (!k) continue;
      if (masterPub === undefined) throw missingParam('No master key is available to check the signature with');
      if (!verifyWith(k, userId, `ed25519:${masterPub}`, masterPub)) throw invalidSignature(`${t}_key is not signed by the master key`);
    }
    this.tx(() => {
      for (const t of CROSS_SIGNING_TYPES) {
        const k = keys[t];
        if (k) this.store.putCrossSigningKey(userId, t, pubs[t]!, JSON.stringify(k));
      }
      this.store.addChange(userId, null, 'signing');
    });
  }

  /** POST /keys/signatures/upload: checks each new signature by the requester and stores it. */
  uploadSignatures(r: Requester, body: Record<string, Record<string, JsonObject>>): { failures: Record<string, Record<string, JsonObject>> } {
    const failures: Record<string, Record<string, JsonObject>> = {};
    const fail = (u: string, k: string, errcode: string, error: string) => ((failures[u] ??= {})[k] = { errcode, error });
    const signerKey = (keyId: string): { pub: string; kind: string } | undefined => {
      const id = keyId.startsWith('ed25519:') ? keyId.slice(8) : undefined;
      if (id === undefined) return undefined;
      const dev = this.store.deviceKeys(r.userId, id);
      if (dev) {
        const pub = (JSON.parse(dev) as { keys: Record<string, string> }).keys[`ed25519:${id}`];
        return pub === undefined ? undefined : { pub, kind: 'device' };
      }
      const cs = this.store.crossSigningKeyByPublic(r.userId, id);
      return cs ? { pub: id, kind: cs.key_type } : undefined;
    };
    this.tx(() => {
      for (const [targetUser, keys] of Object.entries(body)) {
        for (const [targetKey, signed] of Object.entries(keys)) {
          if (typeof signed !== 'object' || signed === null || Array.isArray(signed)) {
            fail(targetUser, targetKey, 'M_BAD_JSON', 'Expected a signed key object');
            continue;
          }
          const dev = this.store.deviceKeys(targetUser, targetKey);
          const cs = dev === undefined ? this.store.crossSigningKeyByPublic(targetUser, targetKey) : undefined;
          const stored = dev ?? cs?.key_json;
          if (stored === undefined) {
            fail(targetUser, targetKey, 'M_NOT_FOUND', 'Unknown key');
            continue;
          }
          if (!sameSignedContent(JSON.parse(stored) as object, signed)) {
            fail(targetUser, targetKey, 'M_INVALID_PARAM', 'The signed object differs from the stored key');
            continue;
          }
          const mine = ((signed as { signatures?: unknown }).signatures as Record<string, Record<string, unknown>> | undefined)?.[r.userId] ?? {};
          const already = (JSON.parse(stored) as { signatures?: Record<string, Record<string, string>> }).signatures?.[r.userId] ?? {};
          let added = false;
          for (const [keyId, sig] of Object.entries(mine)) {
            if (typeof sig !== 'string' || already[keyId] === sig) continue;
            const signer = signerKey(keyId);
            // Own devices are signed by the self-signing key; another user's master by the user-signing key.
            const allowed = targetUser === r.userId ? signer !== undefined : signer?.kind === 'user_signing';
            if (!signer || !allowed || !verifyWith(signed, r.userId, keyId, signer.pub)) {
              fail(targetUser, targetKey, 'M_INVALID_SIGNATURE', `Invalid signature ${keyId}`);
              continue;
            }
            this.store.putSignature(targetUser, targetKey, r.userId, keyId, sig);
            added = true;
          }
          if (added && this.isLocal(targetUser)) this.store.addChange(targetUser, dev !== undefined ? targetKey : null, dev !== undefined ? 'device' : 'signing');
        }
      }
    });
    return { failures };
  }

  /** Federation: a remote user's devices or cross-signing keys changed (an incoming
   * `m.device_list_update` or `m.signing_key_update`). Local users who share a room with
   * them see it in `device_lists.changed` and query again (through `remote.queryKeys`). */
  remoteKeysChanged(userId: string, kind: 'device' | 'signing', deviceId?: string): void {
    if (this.isLocal(userId) || parseUserId(userId) === undefined) return;
    this.tx(() => {
      this.remoteLists.markStale(userId);
      this.store.addChange(userId, deviceId ?? null, kind);
    });
  }

  receiveDeviceListUpdate(origin: string, edu: DeviceListUpdate): boolean {
    if (parseUserId(edu.user_id)?.serverName !== origin || origin === this.deps.serverName) return false;
    this.tx(() => {
      this.remoteLists.deviceListUpdate(edu);
      this.store.addChange(edu.user_id, edu.device_id, 'device', edu.deleted === true);
    });
    return true;
  }

  receiveSigningKeyUpdate(origin: string, edu: SigningKeyUpdate): boolean {
    if (parseUserId(edu.user_id)?.serverName !== origin || origin === this.deps.serverName) return false;
    this.tx(() => {
      this.remoteLists.signingKeyUpdate(edu);
      this.store.addChange(edu.user_id, null, 'signing');
    });
    return true;
  }

  // ---- devices ----

  /** A device was created (inside the user API's transaction). */
  deviceAdded(userId: string, deviceId: string): void {
    this.store.addChange(userId, deviceId, 'device');
    queueMicrotask(() => this.flushChanges());
  }

  /** A device was deleted: its keys go, and its owner's device list changed. Runs inside the
   * user API's transaction; the change is published once that commits. */
  deleteDevice(userId: string, deviceId: string, existed = true): void {
    if (this.store.deleteDevice(userId, deviceId) || existed) this.store.addChange(userId, deviceId, 'device', true);
    queueMicrotask(() => this.flushChanges());
  }

  userDevices(userId: string): { stream_id: number; devices: JsonObject[]; master_key?: JsonObject; self_signing_key?: JsonObject } {
    const q = this.queryLocalKeys({ [userId]: [] }) as Record<string, Record<string, JsonObject>>;
    const devices = Object.entries((q.device_keys![userId] ?? {}) as Record<string, JsonObject>).map(([device_id, keys]) => {
      const name = this.deps.devices.device(userId, device_id)?.display_name;
      const { unsigned: _u, ...k } = keys;
      return name === undefined ? { device_id, keys: k } : { device_id, keys: k, device_display_name: name };
    });
    const out: { stream_id: number; devices: JsonObject[]; master_key?: JsonObject; self_signing_key?: JsonObject } = { stream_id: this.store.changeHead(), devices: devices as JsonObject[] };
    if (q.master_keys![userId]) out.master_key = q.master_keys![userId];
    if (q.self_signing_keys![userId]) out.self_signing_key = q.self_signing_keys![userId];
    return out;
  }

  previousChange(userId: string, id: number): number | undefined {
    return this.store.previousChange(userId, id);
  }

  // ---- SyncKeysAPI ----

  changeHead(): number {
    return this.store.changeHead();
  }

  changedUsers(after: number, upTo: number): string[] {
    return this.store.changedUsers(after, upTo);
  }

  oneTimeKeyCounts(userId: string, deviceId: string): Record<string, number> {
    return { signed_curve25519: 0, ...this.store.oneTimeKeyCounts(userId, deviceId) };
  }

  unusedFallbackKeyTypes(userId: string, deviceId: string): string[] {
    return this.store.unusedFallbackKeyTypes(userId, deviceId);
  }
}

