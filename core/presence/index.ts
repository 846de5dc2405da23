import type { Consumer, Log, Topic } from '../log/index.js';
import { ROOM_OUTPUT_TOPIC, type RoomOutput, type RoomserverQueryAPI } from '../roomserver/api.js';
import { PRESENCE_TOPIC, type PresenceAPI, type PresenceOutput, type PresenceState } from './api.js';

export { presenceEndpoints } from './routes.js';
export { PRESENCE_STATES, PRESENCE_TOPIC, presenceContent, type PresenceAPI, type PresenceOutput, type PresenceState } from './api.js';

export interface PresenceTimers {
  /** Online with no action for this long → unavailable (Synapse: 5 minutes). */
  idleMs: number;
  /** No /sync running or seen for this long → offline (Synapse: 30 seconds). */
  offlineMs: number;
  /** An action this recent makes the user `currently_active`. */
  activeMs: number;
}

export const DEFAULT_PRESENCE_TIMERS: PresenceTimers = { idleMs: 5 * 60_000, offlineMs: 30_000, activeMs: 60_000 };

export interface PresenceServerDeps {
  log: Log;
  roomserver: Pick<RoomserverQueryAPI, 'roomsForUser'>;
  /** Whether a user id is one of ours (only local users run timers and get bumped). */
  isLocal: (userId: string) => boolean;
  /** Off: writes are accepted and ignored, everyone reads as offline. */
  enabled?: boolean;
  timers?: Partial<PresenceTimers>;
  now?: () => number;
}

interface UserPresence {
  presence: PresenceState;
  statusMsg: string | undefined;
  lastActiveTs: number;
  lastSyncTs: number;
  /** /sync requests in flight. */
  syncing: number;
  /** Set by the user (PUT unavailable), not by the idle timer: activity does not undo it. */
  chosenUnavailable: boolean;
  timer: NodeJS.Timeout | undefined;
  /** What was last published: the visible fields, and last active time. */
  publishedSeen: string;
  publishedActiveTs: number;
}

/**
 * The presence EDU server: presence per local user in memory, moved by PUT, /sync and
 * activity, and by timers (online → unavailable when idle, → offline when no client syncs).
 * Every visible change is published on the memory-only `presence` topic.
 */
export class PresenceServer implements PresenceAPI {
  readonly enabled: boolean;
  private readonly users = new Map<string, UserPresence>();
  /** Remote users' presence as their servers last sent it (bounded by the rooms we share). */
  private readonly remote = new Map<string, PresenceOutput>();
  private readonly topic: Topic<PresenceOutput>;
  private readonly timers: PresenceTimers;
  private readonly now: () => number;
  private readonly activity: Consumer | undefined;
  private closed = false;

  constructor(private readonly deps: PresenceServerDeps) {
    this.enabled = deps.enabled ?? true;
    this.topic = deps.log.topic<PresenceOutput>(PRESENCE_TOPIC, { durable: false });
    this.timers = { ...DEFAULT_PRESENCE_TIMERS, ...deps.timers };
    this.now = deps.now ?? Date.now;
    if (this.enabled) {
      // Sending an event is activity; only new events count, so start at the head.
      this.activity = deps.log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, {
        name: 'presence',
        fromOffset: deps.log.head(ROOM_OUTPUT_TOPIC),
        handle: (msgs) => {
          for (const m of msgs) if (m.value.type === 'new_room_event' && deps.isLocal(m.value.event.sender)) this.bumpActive(m.value.event.sender);
        },
      });
    }
  }

  setPresence(userId: string, presence: PresenceState, statusMsg?: string): void {
    if (!this.enabled || this.closed) return;
    const u = this.user(userId);
    const now = this.now();
    u.presence = presence;
    u.statusMsg = statusMsg;
    u.chosenUnavailable = presence === 'unavailable';
    u.lastSyncTs = now;
    if (presence === 'online') u.lastActiveTs = now;
    this.changed(userId, u);
  }

  syncStarted(userId: string, setPresence: PresenceState = 'online'): () => void {
    if (!this.enabled || this.closed) return () => {};
    const u = this.user(userId);
    u.syncing++;
    u.lastSyncTs = this.now();
    // set_presence=offline: the client does not want to affect presence.
    if (setPresence === 'online' && u.presence === 'offline') {
      u.presence = 'online';
      u.lastActiveTs = this.now();
    } else if (setPresence === 'unavailable' && u.presence !== 'unavailable') {
      u.presence = 'unavailable';
      u.chosenUnavailable = true;
    }
    this.changed(userId, u);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      u.syncing--;
      u.lastSyncTs = this.now();
      if (this.users.get(userId) === u) this.schedule(userId, u);
    };
  }

  bumpActive(userId: string): void {
    if (!this.enabled || this.closed) return;
    const u = this.user(userId);
    u.lastActiveTs = this.now();
    u.lastSyncTs = Math.max(u.lastSyncTs, u.lastActiveTs);
    if (u.presence === 'offline' || (u.presence === 'unavailable' && !u.chosenUnavailable)) u.presence = 'online';
    this.changed(userId, u);
  }

  receiveRemote(p: PresenceOutput): void {
    if (!this.enabled || this.closed || this.deps.isLocal(p.userId)) return;
    const out: PresenceOutput = { ...p, remote: true };
    this.remote.set(p.userId, out);
    this.topic.publish(p.userId, out);
  }

  presence(userId: string): PresenceOutput {
    const r = this.remote.get(userId);
    if (r && this.enabled) return r;
    const u = this.users.get(userId);
    if (!u || !this.enabled) return { userId, presence: 'offline', lastActiveTs: 0, currentlyActive: false };
    return this.outputOf(userId, u);
  }

  /** Whether `viewer` may see `userId`'s presence: themselves, or someone sharing a room. */
  mayView(viewer: string, userId: string): boolean {
    if (viewer === userId) return true;
    const theirs = new Set(this.deps.roomserver.roomsForUser(userId, 'join'));
    return this.deps.roomserver.roomsForUser(viewer, 'join').some((r) => theirs.has(r));
  }

  /** Clears the timers and stops reading activity (node stop). */
  async close(): Promise<void> {
    this.closed = true;
    for (const u of this.users.values()) clearTimeout(u.timer);
    this.users.clear();
    await this.activity?.close();
  }

  private user(userId: string): UserPresence {
    let u = this.users.get(userId);
    if (!u) {
      u = { presence: 'offline', statusMsg: undefined, lastActiveTs: 0, lastSyncTs: 0, syncing: 0, chosenUnavailable: false, timer: undefined, publishedSeen: '', publishedActiveTs: 0 };
      this.users.set(userId, u);
    }
    return u;
  }

  private outputOf(userId: string, u: UserPresence): PresenceOutput {
    const out: PresenceOutput = {
      userId,
      presence: u.presence,
      lastActiveTs: u.lastActiveTs,
      currentlyActive: u.presence === 'online' && this.now() - u.lastActiveTs < this.timers.activeMs,
    };
    if (u.statusMsg !== undefined) out.statusMsg = u.statusMsg;
    return out;
  }

  /** Publishes when what readers see changed (last_active_ago alone moves with time). */
  private changed(userId: string, u: UserPresence): void {
    const out = this.outputOf(userId, u);
    const seen = JSON.stringify([out.presence, out.statusMsg ?? null, out.currentlyActive]);
    // A new action long after the last published one shows as a fresher last_active_ago:
    // publish it too, but not on every /sync.
    const fresher = out.lastActiveTs - u.publishedActiveTs >= this.timers.activeMs;
    if (u.publishedSeen !== seen || fresher) {
      u.publishedSeen = seen;
      u.publishedActiveTs = out.lastActiveTs;
      this.topic.publish(userId, out);
    }
    this.schedule(userId, u);
  }

  /** Arms the user's one timer at their next transition (idle, offline, no longer active). */
  private schedule(userId: string, u: UserPresence): void {
    clearTimeout(u.timer);
    u.timer = undefined;
    if (this.closed) return;
    const { idleMs, offlineMs, activeMs } = this.timers;
    let next = Infinity;
    if (u.presence === 'online') {
      next = Math.min(next, u.lastActiveTs + idleMs);
      if (this.now() - u.lastActiveTs < activeMs) next = Math.min(next, u.lastActiveTs + activeMs);
    }
    if (u.presence !== 'offline' && u.syncing === 0) next = Math.min(next, u.lastSyncTs + offlineMs);
    if (next === Infinity) return;
    u.timer = setTimeout(() => this.tick(userId, u), Math.max(0, next - this.now()));
    u.timer.unref();
  }

  private tick(userId: string, u: UserPresence): void {
    u.timer = undefined;
    if (this.users.get(userId) !== u || this.closed) return;
    const now = this.now();
    if (u.presence === 'online' && now - u.lastActiveTs >= this.timers.idleMs) {
      u.presence = 'unavailable';
      u.chosenUnavailable = false;
    }
    if (u.presence !== 'offline' && u.syncing === 0 && now - u.lastSyncTs >= this.timers.offlineMs) u.presence = 'offline';
    this.changed(userId, u);
  }
}
