/**
 * The node status model that the desktop preload and the headless status stream share: a
 * snapshot of the node (whatever `node.status()` reports, including p2p and federation fields
 * when those exist) plus the owner's rooms, re-read on a timer and pushed to subscribers only
 * when something other than the clock changed.
 */

/** One room the owner is in, as the status page lists it. */
export interface StatusRoom {
  roomId: string;
  name: string | null;
  joinedMembers: number;
}

/** A snapshot: the node's own status object with the owner's rooms and the start time added
 * (the UI ticks uptime itself from startedAt). */
export type StatusSnapshot = Record<string, unknown> & { uptimeMs: number; startedAt: number; rooms: StatusRoom[] };

export type StatusReader = () => Record<string, unknown> & { uptimeMs: number };

export interface StatusModelOptions {
  intervalMs?: number;
  rooms?: () => StatusRoom[];
}

/** What counts as a change: everything but uptime and start time, which drift with the clock. */
function keyOf(s: StatusSnapshot): string {
  const { uptimeMs: _u, startedAt: _s, ...rest } = s;
  return JSON.stringify(rest);
}

export class StatusModel {
  private readonly subscribers = new Set<(s: StatusSnapshot) => void>();
  private readonly closers = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private lastKey = '';
  private closed = false;

  constructor(
    private readonly read: StatusReader,
    private readonly opts: StatusModelOptions = {},
  ) {}

  current(): StatusSnapshot {
    const s = this.read();
    return { ...s, startedAt: Date.now() - s.uptimeMs, rooms: this.opts.rooms?.() ?? [] };
  }

  /** Calls `cb` now with the current snapshot and again on every change; `onClose` runs when
   * the model closes (the node stops). Returns an unsubscribe function. */
  subscribe(cb: (s: StatusSnapshot) => void, onClose?: () => void): () => void {
    if (this.closed) {
      onClose?.();
      return () => undefined;
    }
    this.subscribers.add(cb);
    if (onClose) this.closers.add(onClose);
    const snap = this.current();
    if (!this.timer) this.lastKey = keyOf(snap);
    cb(snap);
    this.timer ??= setInterval(() => this.poll(), this.opts.intervalMs ?? 1000);
    return () => {
      this.subscribers.delete(cb);
      if (onClose) this.closers.delete(onClose);
      if (this.subscribers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
        this.lastKey = '';
      }
    };
  }

  /** Re-reads now (e.g. right after an action the owner is waiting to see). */
  poll(): void {
    if (this.subscribers.size === 0) return;
    let snap: StatusSnapshot;
    try {
      snap = this.current();
    } catch {
      // A component mid-shutdown; the next tick (or close()) settles it. Never crash the timer.
      return;
    }
    const key = keyOf(snap);
    if (key === this.lastKey) return;
    this.lastKey = key;
    for (const cb of [...this.subscribers]) cb(snap);
  }

  /** Ends every subscription (the node is stopping). */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.subscribers.clear();
    for (const c of [...this.closers]) c();
    this.closers.clear();
  }
}
