import type { Db } from '../db/index.js';

/** How often what clients did is written down: a write per request would cost a commit. */
export const LAST_SEEN_FLUSH_MS = 10_000;

export interface Seen {
  ts: number;
  ip: string;
  userAgent?: string;
}

/**
 * When and from where each device was last used (the devices API's `last_seen_ts` and
 * `last_seen_ip`, the admin whois API's connections), as Synapse keeps client IPs: noted in
 * memory per request, written to the devices table every few seconds and on close. Readers
 * see what is noted at once.
 */
export class LastSeen {
  private pending = new Map<string, { userId: string; deviceId: string; seen: Seen }>();
  private readonly timer: NodeJS.Timeout;
  private readonly update;

  constructor(private readonly db: Db) {
    this.update = db.raw.prepare<[number, string, string | null, string, string]>(
      'UPDATE ua_devices SET last_seen_ts = ?, last_seen_ip = ?, last_seen_user_agent = ? WHERE user_id = ? AND device_id = ?',
    );
    this.timer = setInterval(() => this.flush(), LAST_SEEN_FLUSH_MS);
    this.timer.unref();
  }

  note(userId: string, deviceId: string, seen: Seen): void {
    this.pending.set(`${userId}\u0000${deviceId}`, { userId, deviceId, seen });
  }

  /** What was noted for the device since the last flush. */
  noted(userId: string, deviceId: string): Seen | undefined {
    return this.pending.get(`${userId}\u0000${deviceId}`)?.seen;
  }

  flush(): void {
    if (this.pending.size === 0 || !this.db.isOpen) return;
    const batch = this.pending;
    this.pending = new Map();
    this.db.transaction(() => {
      for (const { userId, deviceId, seen } of batch.values()) this.update.run(seen.ts, seen.ip, seen.userAgent ?? null, userId, deviceId);
    });
  }

  close(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

/** An IPv4 client seen through a dual-stack socket as it is usually written. */
export function clientIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
