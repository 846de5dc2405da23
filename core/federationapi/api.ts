/** The federation API as other components see it (the client API's joins, invites and
 * directory lookups across servers). */
import type { JsonObject } from '../events/types.js';
import type { NewEventRequest } from '../roomserver/api.js';

export interface FederationAPI {
  /** Joins a local user to a room through one of `servers` (make_join / send_join). */
  joinRemote(userId: string, roomId: string, servers: string[], content: JsonObject): Promise<void>;
  /** Invites a remote user: the invitee's server signs the invite, then it enters the room. */
  inviteRemote(req: NewEventRequest): Promise<string>;
  /** Leaves a room this server is not in (a rejected invite) through the inviting server. */
  leaveRemote(userId: string, roomId: string, reason?: string): Promise<void>;
  /** Knocks on a room through one of `servers`. */
  knockRemote(userId: string, roomId: string, servers: string[], content: JsonObject): Promise<void>;
  /** Resolves a room alias on another server. */
  resolveAlias(alias: string): Promise<{ roomId: string; servers: string[] }>;
  /** A remote user's profile (displayname, avatar_url), or undefined. */
  profile(userId: string): Promise<JsonObject | undefined>;
  /** A page of another server's public room directory. */
  publicRooms(server: string, limit: number | undefined, since: string | undefined): Promise<JsonObject>;
  /** Servers this node knows (peers seen), for public room lists across the mesh. */
  knownServers(): string[];
}

/** Handles an inbound EDU of one type from `origin` (typing, receipts, presence, to-device,
 * device lists). Other components register theirs with the federation API. */
export type EduHandler = (origin: string, content: JsonObject) => void | Promise<void>;

/** Status of one destination's outbound queue. */
export interface DestinationStatus {
  serverName: string;
  pending: number;
  failures: number;
  backoffUntil: number | null;
  lastError: string | null;
}
