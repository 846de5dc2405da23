/** The presence server's interface: per-user presence with idle and offline timers.
 * Other components import only this file. */

export type PresenceState = 'online' | 'unavailable' | 'offline';

export const PRESENCE_STATES: readonly PresenceState[] = ['online', 'unavailable', 'offline'];

/** An entry on the memory-only `presence` topic, keyed by user: the user's whole current
 * presence (so a consumer that missed entries converges on the next one). */
export interface PresenceOutput {
  userId: string;
  presence: PresenceState;
  statusMsg?: string;
  /** When the user last did something (ms since epoch); 0 when never seen. */
  lastActiveTs: number;
  currentlyActive: boolean;
  /** Received over federation (federation does not send it back out). */
  remote?: boolean;
}

export const PRESENCE_TOPIC = 'presence';

export interface PresenceAPI {
  /** Sets a user's presence (PUT /presence/{userId}/status); publishes on change. */
  setPresence(userId: string, presence: PresenceState, statusMsg?: string): void;
  /** A /sync request starts; `setPresence` is its `set_presence` (default online). The
   * returned function ends it: a user with no sync for a while goes offline. */
  syncStarted(userId: string, setPresence?: PresenceState): () => void;
  /** The user did something (sent an event). */
  bumpActive(userId: string): void;
  /** Presence of a remote user, received over federation: kept and published as given (its
   * own server runs the timers). */
  receiveRemote(p: PresenceOutput): void;
  /** The current presence of a user (offline when never seen). */
  presence(userId: string): PresenceOutput;
}

/** The `content` of an m.presence event (and the body of GET /presence/{userId}/status). */
export function presenceContent(p: PresenceOutput, now: number): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = { presence: p.presence };
  if (p.lastActiveTs > 0) out.last_active_ago = Math.max(0, now - p.lastActiveTs);
  if (p.statusMsg !== undefined) out.status_msg = p.statusMsg;
  if (p.presence === 'online') out.currently_active = p.currentlyActive;
  return out;
}
