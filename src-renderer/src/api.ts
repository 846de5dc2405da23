/** Plain calls to the node outside matrix-js-sdk (login, status), and error wording. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

export async function call<T>(method: string, path: string, opts: { token?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), signal: opts.signal });
  const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
  if (!res.ok) throw new ApiError(res.status, String(json.errcode ?? 'M_UNKNOWN'), String(json.error ?? res.statusText));
  return json as T;
}

/** A sentence a person can act on, for any error from the node or the network. */
export function describeError(e: unknown): string {
  const err = e as { errcode?: string; data?: { error?: string }; message?: string; name?: string; httpStatus?: number };
  if (err?.name === 'ConnectionError' || e instanceof TypeError || /fetch|network/i.test(err?.message ?? '')) {
    return 'Cannot reach your Axon node. It may be stopping or restarting; try again in a moment.';
  }
  const text = err?.data?.error ?? err?.message ?? String(e);
  switch (err?.errcode) {
    case 'M_FORBIDDEN':
      return `Not allowed: ${text}`;
    case 'M_NOT_FOUND':
      return `Not found: ${text}`;
    case 'M_UNKNOWN_TOKEN':
    case 'M_MISSING_TOKEN':
      return 'Your session has ended. Please log in again.';
    case 'M_LIMIT_EXCEEDED':
      return 'Too many requests at once. Wait a moment and try again.';
    case 'M_INVALID_PARAM':
    case 'M_BAD_JSON':
    case 'M_INVALID_USERNAME':
      return `That was not accepted: ${text}`;
    default:
      return text || 'Something went wrong.';
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function formatAgo(ts: number, now = Date.now()): string {
  if (!ts) return 'never';
  return `${formatDuration(now - ts)} ago`;
}
