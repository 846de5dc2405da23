/**
 * The room server's interface: the only thing other components import from it. Split by
 * caller, as Dendrite splits ClientRoomserverAPI and FederationRoomserverAPI.
 */
import type { JsonObject, PDUJson, RoomEvent } from '../events/types.js';

/** new: a live event (local or received); outlier: an event without the state before it
 * (auth chains, invites); old: a backfilled event, stored without changing current state. */
export type InputKind = 'new' | 'outlier' | 'old';

export interface InputEvent {
  kind: InputKind;
  pdu: PDUJson;
  /** The room's version; needed when the room is not known yet (joins, invites). */
  roomVersion?: string;
  /** The server that sent the event to us (for fetching missing events from it). */
  origin?: string;
  /** For local events: the client transaction, echoed in sync. */
  transaction?: { deviceId: string; txnId: string };
  /** The state before the event, as ids of events already stored (a join's state from
   * send_join): used instead of the state after its prev events, which we may not have. */
  stateEventIds?: string[];
}

export type InputOutcome =
  | { status: 'accepted'; eventId: string }
  | { status: 'soft_failed'; eventId: string; reason: string }
  | { status: 'rejected'; eventId?: string; reason: string }
  | { status: 'duplicate'; eventId: string };

export interface RoomserverInputAPI {
  /** Queues an event on its room's input queue. Resolves when it has been processed. */
  inputEvent(input: InputEvent): Promise<InputOutcome>;
}

/** What federation provides so the room server can fetch events it does not have. Until
 * federation exists the node uses one that finds nothing. */
export interface MissingEventFetcher {
  /** Fetches events by id from `origin` (or any server in the room). Unverified JSON. */
  fetchEvents(roomId: string, eventIds: string[], origin: string | undefined): Promise<PDUJson[]>;
  /** /get_missing_events: events between our extremities (`earliest`) and `latest`. */
  missingEvents?(roomId: string, earliest: string[], latest: string[], limit: number, minDepth: number, origin: string | undefined): Promise<PDUJson[]>;
  /** /state: the state before an event and its auth chain. */
  stateAt?(roomId: string, eventId: string, origin: string | undefined): Promise<{ pdus: PDUJson[]; authChain: PDUJson[] } | undefined>;
  /** /backfill from servers in the room: events before `fromEventIds`, newest first. */
  backfill?(roomId: string, fromEventIds: string[], limit: number): Promise<PDUJson[]>;
}

/** Entries on the `room.output` topic (durable: replayed from the room server's tables). */
export type RoomOutput =
  | {
      type: 'new_room_event';
      roomId: string;
      roomVersion: string;
      eventId: string;
      /** The event as stored (wire JSON, with `event_id` only in v1/v2). Events sent through
       * `sendEvent` are stored without this server's signature: `withOwnSignature` adds it
       * where an event leaves the node. */
      event: PDUJson;
      /** State event ids that the current state gained and lost with this event. */
      addsStateEventIds: string[];
      removesStateEventIds: string[];
      /** Forward extremities after this event. */
      latestEventIds: string[];
      /** The previous output position of this room (0 for the first). */
      prevOutputOffset: number;
      transaction?: { deviceId: string; txnId: string };
    }
  | {
      /** An event stored without changing the current state: backfilled or soft-failed. */
      type: 'old_room_event';
      roomId: string;
      roomVersion: string;
      eventId: string;
      event: PDUJson;
      prevOutputOffset: number;
    }
  | {
      /** An invite to a room this server is not in (received over federation). The event
       * carries the room's stripped state in `unsigned.invite_room_state`. */
      type: 'new_invite_event';
      roomId: string;
      roomVersion: string;
      eventId: string;
      event: PDUJson;
      prevOutputOffset: number;
    }
  | {
      /** A local user's membership in a room this server is not in changed without the room's
       * timeline (a rejected remote invite, a withdrawn knock): the new member event. */
      type: 'retire_invite_event';
      roomId: string;
      roomVersion: string;
      eventId: string;
      event: PDUJson;
      prevOutputOffset: number;
    }
  | {
      type: 'redacted_event';
      roomId: string;
      redactedEventId: string;
      redactionEventId: string;
      prevOutputOffset: number;
    };

export const ROOM_OUTPUT_TOPIC = 'room.output';

export interface RoomInfo {
  roomId: string;
  version: string;
  createEventId: string;
}

export type Membership = 'join' | 'invite' | 'leave' | 'ban' | 'knock';

/** Events that this server made arrive from these queries as stored: those sent through
 * `sendEvent` without the server's signature (see there). */
export interface RoomserverQueryAPI {
  roomInfo(roomId: string): RoomInfo | undefined;
  /** Current state as (type, state key) → event. */
  currentState(roomId: string): RoomEvent[];
  currentStateEvent(roomId: string, type: string, stateKey: string): RoomEvent | undefined;
  /** State before / after an event (after = before plus the event itself if it is state). */
  stateBeforeEvent(eventId: string): RoomEvent[] | undefined;
  stateAfterEvent(eventId: string): RoomEvent[] | undefined;
  membership(roomId: string, userId: string): { membership: Membership; eventId: string } | undefined;
  /** Whether the user forgot the room after leaving it (and has not joined, been invited or
   * knocked since). */
  isForgotten(roomId: string, userId: string): boolean;
  joinedMembers(roomId: string): string[];
  joinedServers(roomId: string): string[];
  eventsByIds(eventIds: string[]): RoomEvent[];
  /** The auth chain of the given events (not including them), in no particular order. */
  authChain(eventIds: string[]): RoomEvent[];
  /** Events between `earliest` and `latest` (exclusive of earliest), walking prev_events back
   * from latest, at most `limit`, not below `minDepth`. */
  missingEvents(roomId: string, earliest: string[], latest: string[], limit: number, minDepth: number): RoomEvent[];
  /** Stripped state for invites and knocks: create, join rules, name, avatar, topic, encryption, canonical alias. */
  strippedState(roomId: string): JsonObject[];
  /** Whether `serverName` may see the event per history visibility (federation reads). */
  serverMaySeeEvent(serverName: string, eventId: string): boolean;
  /** Forward extremities, and the depth a new event would get. */
  latestEvents(roomId: string): { eventIds: string[]; depth: number };
  /** Rooms the user is joined to (or invited / knocking), for sync bootstraps. */
  roomsForUser(userId: string, membership: Membership): string[];
  /** The user directory's reach (client-server "User directory"): everyone joined to a room
   * the user is in, or to a room with a public join rule or world-readable history, with
   * their display name and avatar there. */
  visibleUsers(userId: string): Map<string, { displayname?: string; avatar_url?: string }>;
  /** The id of the redaction applied to an event, if any. */
  redactedBy(eventId: string): string | undefined;
  /** Whether a local user may see an event, per history visibility and their membership. */
  userMaySeeEvent(userId: string, eventId: string): boolean;
}

/** Room aliases and the published room directory, which the room server owns. */
export interface RoomserverAliasAPI {
  /** Maps an alias to a room; false if the alias is taken. */
  setAlias(alias: string, roomId: string, creator: string): boolean;
  resolveAlias(alias: string): string | undefined;
  aliasCreator(alias: string): string | undefined;
  removeAlias(alias: string): boolean;
  aliasesForRoom(roomId: string): string[];
  setPublished(roomId: string, published: boolean): void;
  isPublished(roomId: string): boolean;
  publishedRooms(): string[];
}

export interface NewEventRequest {
  roomId: string;
  sender: string;
  type: string;
  stateKey?: string;
  content: JsonObject;
  redacts?: string;
  transaction?: { deviceId: string; txnId: string };
  /** Runs inside the transaction that stores the accepted event, so that a record of it
   * (the client's txnId) commits with it. Synchronous; writes only to the node's database. */
  onStored?: (eventId: string) => void;
}

export type RoomPreset = 'private_chat' | 'trusted_private_chat' | 'public_chat';

export interface CreateRoomRequest {
  creator: string;
  roomVersion?: string;
  preset?: RoomPreset;
  name?: string;
  topic?: string;
  /** A local alias already reserved by the caller, e.g. #name:server. */
  canonicalAlias?: string;
  invite?: string[];
  isDirect?: boolean;
  initialState?: Array<{ type: string; state_key?: string; content: JsonObject }>;
  powerLevelContentOverride?: JsonObject;
  creationContent?: JsonObject;
  /** v12: additional creators. */
  additionalCreators?: string[];
  /** Display name and avatar for the creator's join event. */
  creatorProfile?: { displayname?: string; avatar_url?: string };
}

export interface UpgradeRoomRequest {
  roomId: string;
  userId: string;
  newVersion: string;
  /** v12+: creators besides the user (not carried over from the old room). */
  additionalCreators?: string[];
  creatorProfile?: { displayname?: string; avatar_url?: string };
}

export interface RoomserverPerformAPI {
  /** Builds and inputs a new local event with correct prev/auth events and depth. It is
   * stored unsigned (so is its RoomEvent's `json` from every query): federation signs it
   * with `withOwnSignature` when it first sends or serves it, the same signature signing now
   * would give. Throws MatrixError(403) if auth rejects it. */
  sendEvent(req: NewEventRequest): Promise<{ eventId: string; event: RoomEvent }>;
  /** Creates a room with the full initial event sequence for the preset. */
  createRoom(req: CreateRoomRequest): Promise<{ roomId: string }>;
  /** POST /upgrade: a replacement room in `newVersion` with the old room's transferable
   * state, power levels and bans; local aliases and the directory listing move to it; the
   * old room gets a tombstone and is closed to all but moderators. 400
   * M_UNSUPPORTED_ROOM_VERSION, 404 for an unknown room, 403 if the user may not send a
   * tombstone there. */
  upgradeRoom(req: UpgradeRoomRequest): Promise<{ replacementRoom: string }>;
  /** Builds and signs a local event on the current state without inputting it (an invite
   * that the invitee's server must sign first). Throws MatrixError(403) if auth rejects it. */
  buildLocalEvent(req: NewEventRequest): Promise<{ pdu: PDUJson; event: RoomEvent }>;
  /** An unsigned event template on the current state for a remote user (make_join,
   * make_leave, make_knock). Throws MatrixError(403) if auth rejects it. */
  eventTemplate(req: NewEventRequest): { pdu: PDUJson; roomVersion: string };
  /** POST /forget: false when the user is not out of the room (left or banned). */
  forgetRoom(roomId: string, userId: string): boolean;
}

/** What the federation API asks of the room server beyond input and queries. */
export interface RoomserverFederationAPI {
  /** Stores an invite (already checked and counter-signed) for a room this server is not in
   * and tells sync; when the room is known, it is input as a normal event instead. */
  storeRemoteInvite(pdu: PDUJson, roomVersion: string): Promise<InputOutcome>;
  /** Stores a local user's membership event for a room we are not in (a rejected invite). */
  storeOutOfRoomMembership(pdu: PDUJson, roomVersion: string): Promise<InputOutcome>;
  /** Fetches history before the earliest events we have over federation; resolves with how
   * many new events were stored. */
  performBackfill(roomId: string, fromEventIds: string[], limit: number): Promise<number>;
  /** The pending invite of a local user to a room we are not in. */
  pendingInvite(roomId: string, userId: string): RoomEvent | undefined;
}

/** The public room directory, read by the client API and federation. */
export interface RoomserverDirectoryAPI {
  /** A page of the public room directory (summaries, `next_batch`/`prev_batch`). */
  publicRooms(limit: number | undefined, since: string | undefined, term: string | undefined): Record<string, unknown>;
  /** GET /hierarchy: the space's rooms the user may see, breadth first, paged. Throws
   * MatrixError 403 when the user may not see the root, 400 on a bad `from`. */
  spaceHierarchy(userId: string, roomId: string, opts: { suggestedOnly: boolean; maxDepth?: number; limit?: number; from?: string }): Record<string, unknown>;
  /** GET /room_summary for a room known here; `userId` undefined for an unauthenticated
   * caller. 404 M_NOT_FOUND when unknown or not visible to the caller. */
  roomSummary(roomId: string, userId: string | undefined): Record<string, unknown>;
}

export type RoomserverAPI = RoomserverDirectoryAPI & RoomserverInputAPI & RoomserverQueryAPI & RoomserverPerformAPI & RoomserverAliasAPI & RoomserverFederationAPI;
