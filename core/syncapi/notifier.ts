/** Wakes long-polling /sync requests of exactly the users a new stream entry concerns. */
export class Notifier {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Resolves true when `userId` is woken, false after `timeoutMs` or when `signal` aborts. */
  wait(userId: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      let set = this.waiters.get(userId);
      if (!set) this.waiters.set(userId, (set = new Set()));
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        set!.delete(wake);
        if (set!.size === 0 && this.waiters.get(userId) === set) this.waiters.delete(userId);
        resolve(woken);
      };
      const wake = () => done(!this.closed);
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener('abort', onAbort);
      set.add(wake);
    });
  }

  wake(userIds: Iterable<string>): void {
    for (const u of new Set(userIds)) {
      const set = this.waiters.get(u);
      if (set) for (const w of [...set]) w();
    }
  }

  private closed = false;

  /** Answers every waiting request now, and any later one at once (shutdown). */
  close(): void {
    this.closed = true;
    for (const set of this.waiters.values()) for (const w of [...set]) w();
  }

  /** Requests currently waiting (status, tests). */
  get waiting(): number {
    let n = 0;
    for (const s of this.waiters.values()) n += s.size;
    return n;
  }
}
