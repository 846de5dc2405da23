import type { JsonObject } from '../../events/types.js';
import type { DeviceListUpdate, SigningKeyUpdate } from './api.js';
import type { KeyStorage } from './storage.js';

/** What the key server keeps of a remote user: the parts of a /keys/query answer. */
export interface RemoteUserKeys {
  device_keys: Record<string, JsonObject>;
  master_key?: JsonObject;
  self_signing_key?: JsonObject;
}

/**
 * Remote device lists, as Synapse's device list updater keeps them: a user's keys are cached
 * only while they share a room with us (their server then sends us every change). An update
 * that follows the one we hold is applied; one that does not (a gap in `prev_id`) marks the
 * list stale, and the next query fetches it again in full.
 */
export class RemoteDeviceLists {
  constructor(private readonly store: KeyStorage) {}

  /** The cached keys if they are fresh. */
  fresh(userId: string): RemoteUserKeys | undefined {
    const row = this.store.remoteKeys(userId);
    return row && !row.stale ? (JSON.parse(row.keys_json) as RemoteUserKeys) : undefined;
  }

  /** A full answer from the user's server, with its stream position when known (GET
   * /user/devices gives one, /user/keys/query does not). */
  put(userId: string, keys: RemoteUserKeys, streamId: number | null = null): void {
    this.store.putRemoteKeys(userId, JSON.stringify(keys), streamId);
  }

  forget(userId: string): void {
    this.store.deleteRemoteKeys(userId);
  }

  markStale(userId: string): void {
    this.store.markRemoteStale(userId);
  }

  /** Applies a device list update in order, or marks the list stale when one is missing. */
  deviceListUpdate(u: DeviceListUpdate): void {
    const row = this.store.remoteKeys(u.user_id);
    if (!row || row.stale) return;
    // After a full fetch the position is unknown, so nothing can be shown to follow it.
    const seen = row.stream_id;
    const follows = seen !== null && (u.prev_id ?? []).every((p) => p <= seen);
    if (!follows) {
      this.store.markRemoteStale(u.user_id);
      return;
    }
    const keys = JSON.parse(row.keys_json) as RemoteUserKeys;
    if (u.deleted) delete keys.device_keys[u.device_id];
    else if (u.keys) keys.device_keys[u.device_id] = { ...u.keys, unsigned: u.device_display_name === undefined ? {} : { device_display_name: u.device_display_name } };
    this.store.putRemoteKeys(u.user_id, JSON.stringify(keys), u.stream_id);
  }

  signingKeyUpdate(u: SigningKeyUpdate): void {
    const row = this.store.remoteKeys(u.user_id);
    if (!row || row.stale) return;
    const keys = JSON.parse(row.keys_json) as RemoteUserKeys;
    if (u.master_key) keys.master_key = u.master_key;
    if (u.self_signing_key) keys.self_signing_key = u.self_signing_key;
    this.store.putRemoteKeys(u.user_id, JSON.stringify(keys), row.stream_id);
  }
}
