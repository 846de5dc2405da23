/** The key server's interface for other components (sync, federation). */
import type { JsonObject } from '../../events/types.js';

export const KEY_CHANGE_TOPIC = 'key-change';

/** An entry on the durable `key-change` topic (replayed from `uk_changes`): a local user's
 * device keys (`kind: 'device'`, with the device; `deleted` when it went away) or
 * cross-signing keys (`kind: 'signing'`) changed. Federation turns these into
 * `m.device_list_update` / `m.signing_key_update` EDUs. */
export interface KeyChangeOutput {
  userId: string;
  kind: 'device' | 'signing';
  deviceId?: string;
  deleted?: boolean;
  /** A remote user's keys changed (federation told us): for /sync only, never sent on. */
  remote?: boolean;
}

/** An `m.device_list_update` EDU's content. */
export interface DeviceListUpdate {
  user_id: string;
  device_id: string;
  stream_id: number;
  prev_id?: number[];
  deleted?: boolean;
  keys?: JsonObject;
  device_display_name?: string;
}

/** An `m.signing_key_update` EDU's content. */
export interface SigningKeyUpdate {
  user_id: string;
  master_key?: JsonObject;
  self_signing_key?: JsonObject;
}

/** What federation fills in for users on other servers. Each is optional: while unset,
 * remote users land in `failures` of /keys/query and /keys/claim. */
export interface RemoteKeysAPI {
  /** POST /_matrix/federation/v1/user/keys/query to `server`; resolves the response body. */
  queryKeys?(server: string, deviceKeys: Record<string, string[]>, timeoutMs: number): Promise<JsonObject>;
  /** POST /_matrix/federation/v1/user/keys/claim to `server`; resolves the response body. */
  claimKeys?(server: string, oneTimeKeys: Record<string, Record<string, string>>, timeoutMs: number): Promise<JsonObject>;
}

/** What /sync reads from the key server. */
export interface SyncKeysAPI {
  /** The highest key-change position (the sync token's device-list slot). */
  changeHead(): number;
  /** Users whose keys changed in positions (after, upTo]. */
  changedUsers(after: number, upTo: number): string[];
  oneTimeKeyCounts(userId: string, deviceId: string): Record<string, number>;
  unusedFallbackKeyTypes(userId: string, deviceId: string): string[];
}

/** What the federation receiver answers from (GET /user/devices, POST /user/keys/*). */
export interface FederationKeysAPI {
  /** Local users' device keys and cross-signing keys, as /keys/query's response. */
  queryLocalKeys(deviceKeys: Record<string, string[]>, requesterUserId?: string): JsonObject;
  /** Claims local one-time (else fallback) keys, as /keys/claim's `one_time_keys`. */
  claimLocalKeys(oneTimeKeys: Record<string, Record<string, string>>): JsonObject;
  /** The user's key-change position before `id` (an `m.device_list_update`'s `prev_id`),
   * undefined when `id` is their first. */
  previousChange(userId: string, id: number): number | undefined;
  /** An incoming `m.device_list_update` from `origin`: applied to the cached list (or
   * marks it stale for a resync), and local users sharing a room see the change in sync.
   * False when the user is not from `origin`. */
  receiveDeviceListUpdate(origin: string, edu: DeviceListUpdate): boolean;
  /** An incoming `m.signing_key_update`, likewise. */
  receiveSigningKeyUpdate(origin: string, edu: SigningKeyUpdate): boolean;
  /** A local user's devices with keys, for GET /user/devices/{userId}. */
  userDevices(userId: string): { stream_id: number; devices: JsonObject[]; master_key?: JsonObject; self_signing_key?: JsonObject };
}
