/**
 * The wire format of one federation exchange on one stream. Each side writes a head (a 4-byte
 * big-endian length, then that many bytes of UTF-8 JSON) followed by the raw body, and then
 * closes its writing end: the body is everything up to the end of the stream.
 */
import type { Stream } from '@libp2p/interface';

export const MAX_HEAD_BYTES = 64 * 1024;
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
const WRITE_CHUNK = 64 * 1024;

export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    message: string,
    /** True when a size limit was exceeded (answered 413 on the serving side). */
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** Pulls bytes off a stream with a small buffer, so a head and then a body can be read. */
export class StreamReader {
  private readonly it: AsyncIterator<Uint8Array | { subarray(): Uint8Array }>;
  private buf: Uint8Array[] = [];
  private buffered = 0;
  private ended = false;

  constructor(stream: Stream) {
    this.it = stream[Symbol.asyncIterator]();
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = r.value instanceof Uint8Array ? r.value : r.value.subarray();
    if (chunk.length > 0) {
      this.buf.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }

  private take(n: number): Uint8Array {
    const all = this.buf.length === 1 ? this.buf[0]! : Buffer.concat(this.buf, this.buffered);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.buf = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return out;
  }

  async readExact(n: number): Promise<Uint8Array> {
    while (this.buffered < n) {
      if (!(await this.pull())) throw new FrameError('stream ended early');
    }
    return this.take(n);
  }

  /** Reads the rest of the stream; throws FrameError(tooLarge) past `limit` bytes. */
  async readToEnd(limit: number): Promise<Uint8Array> {
    while (await this.pull()) {
      if (this.buffered > limit) throw new FrameError(`body larger than ${limit} bytes`, true);
    }
    return this.take(this.buffered);
  }

  async readHead(): Promise<unknown> {
    const b = await this.readExact(4);
    const len = ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
    if (len > MAX_HEAD_BYTES) throw new FrameError(`head larger than ${MAX_HEAD_BYTES} bytes`, true);
    const bytes = await this.readExact(len);
    try {
      return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
    } catch {
      throw new FrameError('head is not JSON');
    }
  }
}

async function send(stream: Stream, data: Uint8Array, signal: AbortSignal): Promise<void> {
  for (let i = 0; i < data.length; i += WRITE_CHUNK) {
    if (!stream.send(data.subarray(i, i + WRITE_CHUNK))) await stream.onDrain({ signal });
  }
}

/** Writes head and body, then closes the writing end. */
export async function writeMessage(stream: Stream, head: unknown, body: Uint8Array, signal: AbortSignal): Promise<void> {
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  if (json.length > MAX_HEAD_BYTES) throw new FrameError(`head larger than ${MAX_HEAD_BYTES} bytes`, true);
  const prefix = Buffer.alloc(4);
  prefix.writeUInt32BE(json.length);
  await send(stream, Buffer.concat([prefix, json, body.length <= WRITE_CHUNK ? body : Buffer.alloc(0)]), signal);
  if (body.length > WRITE_CHUNK) await send(stream, body, signal);
  await stream.close({ signal });
}

/** Header pairs as sent on the wire. */
export type HeaderPairs = Array<[string, string]>;

export function isHeaderPairs(v: unknown): v is HeaderPairs {
  return Array.isArray(v) && v.every((p) => Array.isArray(p) && p.length === 2 && typeof p[0] === 'string' && typeof p[1] === 'string');
}

export function headerPairs(h: Headers): HeaderPairs {
  const out: HeaderPairs = [];
  h.forEach((v, k) => out.push([k, v]));
  return out;
}
