/**
 * The user API's interface: accounts, devices, access tokens, profiles, account data and
 * filters. Other components import only this file.
 */
import type { JsonObject } from '../events/types.js';
import type { Requester } from '../http/endpoint.js';

export interface Profile {
  displayname?: string;
  avatar_url?: string;
}

/** An entry on the `account-data` topic (durable, replayed from the user API's table): the
 * user's account data of `type` (in `roomId`, or global when absent) changed. */
export interface AccountDataOutput {
  userId: string;
  roomId?: string;
  type: string;
}

export const ACCOUNT_DATA_TOPIC = 'account-data';

export interface UserAPI {
  /** Resolves an access token (stored hashed); undefined if unknown, expired or logged out. */
  authenticate(accessToken: string): Requester | undefined;
  /** Whether a local account exists (deactivated ones included). */
  accountExists(userId: string): boolean;
  /** A new OpenID token for a local user (POST /user/{userId}/openid/request_token). */
  requestOpenIdToken(userId: string): { token: string; expiresIn: number };
  /** The user an unexpired OpenID token was made for (federation's openid/userinfo). */
  openIdUser(token: string): string | undefined;
  profile(userId: string): Profile | undefined;
  /** Local, active accounts whose user id or display name contains `term` (any case), at
   * most `limit`: the local half of the user directory. */
  searchProfiles(term: string, limit: number): Array<{ userId: string } & Profile>;
  /** Account data content (global when roomId is undefined). */
  accountData(userId: string, roomId: string | undefined, type: string): JsonObject | undefined;
  /** A filter the user uploaded (POST /user/{userId}/filter). */
  filter(userId: string, filterId: string): JsonObject | undefined;
  /** Sets account data (global when roomId is undefined), also server-managed types such as
   * m.fully_read, and publishes the change on the account-data topic. */
  putAccountData(userId: string, roomId: string | undefined, type: string, content: JsonObject): void;
  /** All devices of a local user. */
  deviceIds(userId: string): string[];
}

export {
  KEY_CHANGE_TOPIC,
  type KeyChangeOutput,
  type SyncKeysAPI,
  type RemoteKeysAPI,
  type FederationKeysAPI,
  type DeviceListUpdate,
  type SigningKeyUpdate,
} from './keys/api.js';

/** An entry on the memory-only `notification-data` topic: a user's notification counts in a
 * room changed (sync wakes them; the counts themselves are read from the user API). */
export interface NotificationDataOutput {
  userId: string;
  roomId: string;
}

export const NOTIFICATION_DATA_TOPIC = 'notification-data';

export type UnreadCounts = {
  notification_count: number;
  highlight_count: number;
};

/** What /sync reads of notification counts. Positions grow with every change of counts. */
export interface SyncNotificationsAPI {
  /** The latest position. */
  head(): number;
  /** Rooms where the user's counts changed in (from, to]. */
  changedRooms(userId: string, from: number, to: number): string[];
  /** Counts of the user in a room: the main timeline (unthreaded and `main`) and per thread. */
  counts(userId: string, roomId: string): { main: UnreadCounts; threads: Record<string, UnreadCounts> };
}
