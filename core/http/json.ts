import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { badJson, notJson, tooLarge } from './errors.js';

/** Deeper JSON than this is refused: nothing in Matrix nests this far, and later recursive
 * walks (canonical JSON, redaction) must not meet unbounded depth. */
export const MAX_JSON_DEPTH = 128;

/** Reads a request body up to `limit` bytes, failing fast on a larger Content-Length and
 * aborting the stream as soon as the limit is passed (no buffering of oversized bodies). */
export async function readBody(req: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** Reads the body of a request, from Node's own request when the server is node:http and
 * nothing has read it yet: building the web Request and its stream costs more CPU than the
 * rest of a small request. The same limits as readBody. */
export function readRequestBody(c: Context, limit: number): Promise<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || incoming.readableDidRead || incoming.readableEnded || typeof incoming.on !== 'function') return readBody(c.req.raw, limit);
  return readIncoming(incoming, limit);
}

function readIncoming(incoming: IncomingMessage, limit: number): Promise<Uint8Array> {
  const declared = Number(incoming.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (): void => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
      incoming.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.byteLength;
      if (total > limit) {
        // Stop buffering; node:http discards the rest once the 413 is sent.
        done();
        incoming.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      done();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total));
    };
    const onError = (err: Error): void => {
      done();
      reject(err);
    };
    const onClose = (): void => {
      done();
      reject(new Error('request closed before its body was read'));
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
    incoming.on('close', onClose);
  });
}

/** Parses a JSON request body: `M_NOT_JSON` if it is not JSON, `M_BAD_JSON` if it is not an
 * object or nests deeper than MAX_JSON_DEPTH. */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw notJson();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badJson('Content must be a JSON object.');
  }
  if (jsonDepth(value) > MAX_JSON_DEPTH) throw badJson(`JSON nested deeper than ${MAX_JSON_DEPTH} levels`);
  return value as Record<string, unknown>;
}

/** Depth of a parsed JSON value, iteratively (a recursive walk could overflow the stack). */
export function jsonDepth(root: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > MAX_JSON_DEPTH) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push([child, d + 1]);
    }
  }
  return max;
}
