import { endpoint, forbidden, type AnyEndpoint, type Requester } from '../http/index.js';
import type { StatusModel, StatusSnapshot } from './model.js';

export const STATUS_STREAM_PATH = '/_axon/status/stream';
const HEARTBEAT_MS = 15_000;

/** One server-sent event carrying a snapshot. */
export function statusEvent(s: StatusSnapshot): string {
  return `event: status\ndata: ${JSON.stringify(s)}\n\n`;
}

/**
 * GET /_axon/status/stream: the status model as server-sent events, for the owner only (it
 * lists rooms and peers). Clients read it with fetch, since EventSource cannot send an
 * Authorization header.
 */
export function statusStreamEndpoint(model: StatusModel, isOwner: (r: Requester | undefined) => boolean): AnyEndpoint {
  return endpoint({
    method: 'GET',
    path: STATUS_STREAM_PATH,
    auth: 'user',
    handler: ({ requester, c }) => {
      if (!isOwner(requester)) throw forbidden('Only the node owner may watch its status');
      const enc = new TextEncoder();
      let stop = () => undefined as void;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          let open = true;
          let unsubscribe = () => undefined as void;
          const close = () => {
            if (!open) return;
            open = false;
            clearInterval(beat);
            unsubscribe();
            try {
              controller.close();
            } catch {
              // already closed by the client
            }
          };
          const push = (text: string) => {
            if (open) controller.enqueue(enc.encode(text));
          };
          const beat = setInterval(() => push(': keep-alive\n\n'), HEARTBEAT_MS);
          // On a stopping node the model is closed: close() runs at once and the stream ends.
          unsubscribe = model.subscribe((s) => push(statusEvent(s)), close);
          stop = close;
          c.req.raw.signal.addEventListener('abort', close, { once: true });
        },
        cancel() {
          stop();
        },
      });
      return new Response(body, {
        headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-store', 'X-Accel-Buffering': 'no' },
      });
    },
  });
}
