import { randomBytes } from 'node:crypto';

/** One part of a multipart body: its headers (lower-case names) and bytes. */
export interface Part {
  headers: Record<string, string>;
  body: Buffer;
}

const CRLF = Buffer.from('\r\n');

/** A multipart/mixed body (RFC 2046) of `parts`, and the Content-Type that names its boundary. */
export function buildMultipart(parts: Array<{ headers: Record<string, string>; body: Uint8Array }>): { contentType: string; body: Buffer } {
  const boundary = randomBytes(16).toString('hex');
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    for (const [k, v] of Object.entries(p.headers)) chunks.push(Buffer.from(`${k}: ${v}\r\n`));
    chunks.push(CRLF, Buffer.from(p.body), CRLF);
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/mixed; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

/** The boundary named by a multipart Content-Type, if it is one. */
export function multipartBoundary(contentType: string | null): string | undefined {
  if (!contentType || !/^multipart\//i.test(contentType.trim())) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

/**
 * The parts of a multipart body (RFC 2046 §5.1.1): everything between the first delimiter
 * and the close delimiter, split at each delimiter; the preamble and epilogue are ignored.
 * Throws on a body without its close delimiter or a part without its blank line.
 */
export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  if (at < 0) throw new Error('multipart body without its boundary');
  const parts: Part[] = [];
  for (;;) {
    at += delimiter.length;
    // The close delimiter ends the body.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return parts;
    const lineEnd = body.indexOf(CRLF, at);
    if (lineEnd < 0) throw new Error('multipart delimiter line not ended');
    const next = body.indexOf(Buffer.concat([CRLF, delimiter]), lineEnd);
    if (next < 0) throw new Error('multipart body without its close delimiter');
    const part = body.subarray(lineEnd + 2, next);
    const blank = part.indexOf('\r\n\r\n');
    const headerText = blank < 0 ? (part.length === 0 || part.subarray(0, 2).equals(CRLF) ? '' : undefined) : part.subarray(0, blank).toString('utf8');
    if (headerText === undefined) throw new Error('multipart part without a blank line after its headers');
    const headers: Record<string, string> = {};
    for (const line of headerText.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    parts.push({ headers, body: blank < 0 ? part.subarray(2) : part.subarray(blank + 4) });
    at = next + 2;
  }
}
