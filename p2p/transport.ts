/**
 * Matrix federation requests over libp2p: one stream per request on FEDERATION_PROTOCOL, framed
 * by ./framing.ts. The serving side learns who is calling only from the connection's
 * authenticated remote peer, never from the request.
 */
import type { Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Logger } from 'pino';
import type { FederationHandler, RemotePeer } from './api.js';
import { FrameError, MAX_BODY_BYTES, StreamReader, headerPairs, isHeaderPairs, writeMessage, type HeaderPairs } from './framing.js';
import { deadline } from './deadline.js';
import { peerIdFromServerName, tryServerNameFromPeerId } from './peerid.js';

export const FEDERATION_PROTOCOL = '/axon/federation/1.0.0';
/** A header only the serving node may set (the lead's layer uses it internally); dropped
 * from every inbound request. */
export const RESERVED_HEADER = 'x-axon-remote';
export const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** How long a caller has to deliver its whole request. */
export const INBOUND_READ_TIMEOUT_MS = 30_000;
/** How long the handler has to answer before the caller gets a 504. */
export const HANDLER_TIMEOUT_MS = 120_000;
/** Streams at once per connection in each direction. */
export const MAX_STREAMS = 256;

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

interface RequestHead {
  method: string;
  path: string;
  headers: HeaderPairs;
}
interface ResponseHead {
  status: number;
  headers: HeaderPairs;
}

function isRequestHead(v: unknown): v is RequestHead {
  const h = v as Partial<RequestHead> | null;
  return (
    typeof h === 'object' &&
    h !== null &&
    typeof h.method === 'string' &&
    /^[A-Z]{1,16}$/.test(h.method) &&
    typeof h.path === 'string' &&
    h.path.startsWith('/') &&
    isHeaderPairs(h.headers)
  );
}

function isResponseHead(v: unknown): v is ResponseHead {
  const h = v as Partial<ResponseHead> | null;
  return typeof h === 'object' && h !== null && Number.isInteger(h.status) && h.status! >= 200 && h.status! <= 599 && isHeaderPairs(h.headers);
}

function matrixError(status: number, errcode: string, error: string): Response {
  return new Response(JSON.stringify({ errcode, error }), { status, headers: { 'content-type': 'application/json' } });
}

async function bodyBytes(body: Request | Response, limit: number): Promise<Uint8Array> {
  if (body.body === null) return new Uint8Array(0);
  const declared = Number(body.headers.get('content-length') ?? NaN);
  if (declared > limit) throw new FrameError(`body larger than ${limit} bytes`, true);
  const bytes = new Uint8Array(await body.arrayBuffer());
  if (bytes.length > limit) throw new FrameError(`body larger than ${limit} bytes`, true);
  return bytes;
}

export function isRelayed(conn: Connection): boolean {
  return conn.limits !== undefined || conn.remoteAddr.getComponents().some((c) => c.name === 'p2p-circuit');
}

/** A connection to `peerId`, preferring direct ones; dials known addresses first, then asks
 * the DHT. */
async function connect(node: Libp2p, peerId: PeerId, signal: AbortSignal): Promise<Connection> {
  const open = node.getConnections(peerId).filter((c) => c.status === 'open');
  const existing = open.find((c) => c.limits === undefined) ?? open[0];
  if (existing) return existing;
  let known = false;
  try {
    known = (await node.peerStore.get(peerId)).addresses.length > 0;
  } catch {
    known = false;
  }
  if (known) {
    try {
      return await node.dial(peerId, { signal });
    } catch (e) {
      if (signal.aborted) throw e;
      // Stale addresses: ask the DHT for fresh ones below.
    }
  }
  const info = await node.peerRouting.findPeer(peerId, { signal });
  await node.peerStore.merge(peerId, { multiaddrs: info.multiaddrs });
  return node.dial(peerId, { signal });
}

export interface TransportOptions {
  node: Libp2p;
  serverName: string;
  logger?: Logger;
  /** Called with the caller's server name on each inbound request. */
  onInbound?: (serverName: string) => void;
}

export interface FederationTransport {
  fetch(serverName: string, req: Request, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Response>;
  serve(handler: FederationHandler): void;
  /** Registers the protocol handler on the libp2p node. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createFederationTransport(o: TransportOptions): FederationTransport {
  const { node, logger } = o;
  let handler: FederationHandler | undefined;
  let stopping: AbortController | undefined;

  async function fetch(serverName: string, req: Request, opts: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<Response> {
    const peerId = peerIdFromServerName(serverName);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
    const dl = deadline(timeoutMs, `federation request to ${serverName}`, opts.signal);
    const signal = dl.signal;
    const url = new URL(req.url);
    const body = req.method === 'GET' || req.method === 'HEAD' ? new Uint8Array(0) : await bodyBytes(req, MAX_BODY_BYTES);
    const head: RequestHead = { method: req.method, path: url.pathname + url.search, headers: headerPairs(req.headers) };
    let stream: Stream | undefined;
    const onAbort = () => stream?.abort(new Error(`federation request to ${serverName} aborted: ${String(signal.reason)}`));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      signal.throwIfAborted();
      const conn = await connect(node, peerId, signal);
      stream = await conn.newStream(FEDERATION_PROTOCOL, { signal, runOnLimitedConnection: true });
      const reader = new StreamReader(stream);
      await writeMessage(stream, head, body, signal);
      const resHead = await reader.readHead();
      if (!isResponseHead(resHead)) throw new FrameError('malformed response head');
      const resBody = await reader.readToEnd(MAX_BODY_BYTES);
      const status = resHead.status;
      return new Response(NULL_BODY_STATUS.has(status) ? null : (resBody as Uint8Array<ArrayBuffer>), { status, headers: resHead.headers });
    } catch (e) {
      stream?.abort(e as Error);
      const why = signal.aborted ? String((signal.reason as Error | undefined)?.message ?? signal.reason) : (e as Error).message;
      throw new Error(`federation request to ${serverName} failed: ${why}`, { cause: e });
    } finally {
      signal.removeEventListener('abort', onAbort);
      dl.clear();
    }
  }

  async function answer(req: Request, remote: RemotePeer): Promise<Response> {
    if (!handler) return matrixError(503, 'M_UNKNOWN', 'federation is not ready');
    let timer: NodeJS.Timeout | undefined;
    try {
      const timedOut = new Promise<Response>((resolve) => {
        timer = setTimeout(() => resolve(matrixError(504, 'M_UNKNOWN', 'the handler took too long')), HANDLER_TIMEOUT_MS);
        timer.unref();
      });
      return await Promise.race([handler(req, remote), timedOut]);
    } catch (e) {
      logger?.error({ err: e, peer: remote.serverName, path: new URL(req.url).pathname }, 'federation handler failed');
      return matrixError(500, 'M_UNKNOWN', 'internal error');
    } finally {
      clearTimeout(timer);
    }
  }

  async function onStream(stream: Stream, conn: Connection): Promise<void> {
    const readDl = deadline(INBOUND_READ_TIMEOUT_MS, 'reading a federation request', stopping!.signal);
    const signal = readDl.signal;
    const onAbort = () => stream.abort(new Error('federation request timed out'));
    signal.addEventListener('abort', onAbort, { once: true });
    let res: Response;
    let remote: RemotePeer | undefined;
    try {
      const serverName = tryServerNameFromPeerId(conn.remotePeer);
      // Only ed25519 identities are Matrix servers.
      if (serverName === undefined) {
        res = matrixError(403, 'M_FORBIDDEN', 'not an ed25519 peer');
      } else {
        remote = { serverName, peerId: conn.remotePeer.toString(), relayed: isRelayed(conn) };
        o.onInbound?.(serverName);
        const reader = new StreamReader(stream);
        let req: Request | undefined;
        try {
          const head = await reader.readHead();
          if (!isRequestHead(head)) throw new FrameError('malformed request head');
          const body = await reader.readToEnd(MAX_BODY_BYTES);
          const headers = new Headers(head.headers);
          headers.delete(RESERVED_HEADER);
          const hasBody = head.method !== 'GET' && head.method !== 'HEAD';
          req = new Request(`http://${o.serverName}${head.path}`, { method: head.method, headers, body: hasBody ? (body as Uint8Array<ArrayBuffer>) : null });
        } catch (e) {
          if (signal.aborted) throw e;
          res = e instanceof FrameError && e.tooLarge ? matrixError(413, 'M_TOO_LARGE', e.message) : matrixError(400, 'M_BAD_JSON', (e as Error).message);
        }
        signal.removeEventListener('abort', onAbort);
        readDl.clear();
        if (req) res = await answer(req, remote);
      }
      const resBody = await bodyBytes(res!, MAX_BODY_BYTES).catch(() => {
        res = matrixError(500, 'M_UNKNOWN', 'response too large');
        return Buffer.from(JSON.stringify({ errcode: 'M_UNKNOWN', error: 'response too large' }));
      });
      const writeDl = deadline(INBOUND_READ_TIMEOUT_MS, 'writing a federation response', stopping!.signal);
      try {
        await writeMessage(stream, { status: res!.status, headers: headerPairs(res!.headers) } satisfies ResponseHead, resBody, writeDl.signal);
      } finally {
        writeDl.clear();
      }
    } catch (e) {
      logger?.debug({ err: e, peer: remote?.serverName }, 'federation stream failed');
      stream.abort(e as Error);
    } finally {
      signal.removeEventListener('abort', onAbort);
      readDl.clear();
    }
  }

  return {
    fetch,
    serve(h) {
      handler = h;
    },
    async start() {
      stopping = new AbortController();
      await node.handle(
        FEDERATION_PROTOCOL,
        (stream, conn) => {
          void onStream(stream, conn);
        },
        { maxInboundStreams: MAX_STREAMS, maxOutboundStreams: MAX_STREAMS, runOnLimitedConnection: true },
      );
    },
    async stop() {
      stopping?.abort(new Error('stopping'));
      await node.unhandle(FEDERATION_PROTOCOL).catch(() => undefined);
    },
  };
}
