/**
 * An abort signal that fires after `ms` or when any parent signal fires, and that is released
 * with `clear()`. Cheaper than AbortSignal.timeout/any per request: those keep a timer alive
 * for the full timeout and, on Node 20, dependent signals pile up on long-lived parents.
 */
export interface Deadline {
  signal: AbortSignal;
  clear(): void;
}

export function deadline(ms: number, what: string, ...parents: Array<AbortSignal | undefined>): Deadline {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error(`${what} timed out after ${ms} ms`)), ms);
  timer.unref();
  const live = parents.filter((p): p is AbortSignal => p !== undefined);
  const onParent = (evt: Event) => ac.abort((evt.target as AbortSignal).reason);
  for (const p of live) {
    if (p.aborted) ac.abort(p.reason);
    else p.addEventListener('abort', onParent, { once: true });
  }
  return {
    signal: ac.signal,
    clear() {
      clearTimeout(timer);
      for (const p of live) p.removeEventListener('abort', onParent);
    },
  };
}
