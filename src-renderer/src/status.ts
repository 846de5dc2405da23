import { useEffect, useState } from 'preact/hooks';
import { call } from './api.js';
import type { Session, StatusSnapshot } from './types.js';

export type Connection = 'connecting' | 'live' | 'offline';

/** Fills in the lists a snapshot must have, so that an older or partial node cannot break
 * the page. */
function normalize(s: StatusSnapshot): StatusSnapshot {
  return {
    ...s,
    topics: (Array.isArray(s.topics) ? s.topics : []).map((t) => ({ ...t, consumers: Array.isArray(t.consumers) ? t.consumers : [] })),
    peers: Array.isArray(s.peers) ? s.peers : [],
    multiaddrs: Array.isArray(s.multiaddrs) ? s.multiaddrs : [],
    federation: { destinations: Array.isArray(s.federation?.destinations) ? s.federation.destinations : [] },
  };
}

/** Reads server-sent events from a fetch body (EventSource cannot send a bearer token). */
async function readEvents(res: Response, onData: (json: string) => void): Promise<void> {
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = frame
        .split('\n')
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice(6))
        .join('\n');
      if (data) onData(data);
    }
  }
}

/**
 * Live node status: from the desktop bridge, else the owner's status stream, else (another
 * account, or no session) the public /_axon/status polled. Reconnects after failures.
 */
export function useStatus(session: Session | null): { status: StatusSnapshot | null; connection: Connection } {
  const [status, setStatus] = useState<StatusSnapshot | null>(null);
  const [connection, setConnection] = useState<Connection>('connecting');
  useEffect(() => {
    if (window.axon) {
      setConnection('live');
      return window.axon.onStatus((s) => setStatus(normalize(s)));
    }
    const ctrl = new AbortController();
    let stopped = false;
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    (async () => {
      let delay = 500;
      let streamAllowed = session !== null;
      while (!stopped) {
        try {
          if (streamAllowed) {
            const res = await fetch('/_axon/status/stream', { headers: { Authorization: `Bearer ${session!.accessToken}` }, signal: ctrl.signal });
            if (res.status === 401 || res.status === 403) {
              streamAllowed = false;
              continue;
            }
            if (!res.ok || !res.body) throw new Error(`status stream: ${res.status}`);
            setConnection('live');
            delay = 500;
            await readEvents(res, (json) => setStatus(normalize(JSON.parse(json) as StatusSnapshot)));
            throw new Error('status stream ended');
          }
          setStatus(normalize(await call<StatusSnapshot>('GET', '/_axon/status', { signal: ctrl.signal })));
          setConnection('live');
          await sleep(2000);
        } catch {
          if (stopped) return;
          setConnection('offline');
          await sleep(delay);
          delay = Math.min(delay * 2, 5000);
        }
      }
    })();
    return () => {
      stopped = true;
      ctrl.abort();
    };
  }, [session?.accessToken]);
  return { status, connection };
}

/** Re-renders every `ms` (uptime, "last seen" clocks). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
