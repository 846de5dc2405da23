import { describe, expect, it } from 'vitest';
import { buildMultipart, multipartBoundary, parseMultipart } from './multipart.js';

describe('multipart/mixed', () => {
  it('round-trips parts, binary bytes and CRLFs inside them included', () => {
    const bytes = Buffer.from([0, 13, 10, 45, 45, 255, 13, 10]);
    const { contentType, body } = buildMultipart([
      { headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{}') },
      { headers: { 'Content-Type': 'image/png', 'Content-Disposition': 'inline; filename="a.png"' }, body: bytes },
    ]);
    const boundary = multipartBoundary(contentType)!;
    const parts = parseMultipart(body, boundary);
    expect(parts.map((p) => p.headers)).toEqual([{ 'content-type': 'application/json' }, { 'content-type': 'image/png', 'content-disposition': 'inline; filename="a.png"' }]);
    expect(parts[0]!.body.toString()).toBe('{}');
    expect(parts[1]!.body.equals(bytes)).toBe(true);
  });

  it('reads the RFC 2046 example shape: preamble, a part without headers, epilogue', () => {
    const body = Buffer.from(
      'This is the preamble.\r\n--simple boundary\r\n\r\nThis is implicitly typed plain US-ASCII text.\r\n--simple boundary\r\nContent-type: text/plain; charset=us-ascii\r\n\r\nThis is explicitly typed.\r\n\r\n--simple boundary--\r\nThis is the epilogue.',
    );
    const parts = parseMultipart(body, multipartBoundary('multipart/mixed; boundary="simple boundary"')!);
    expect(parts.map((p) => [p.headers, p.body.toString()])).toEqual([
      [{}, 'This is implicitly typed plain US-ASCII text.'],
      [{ 'content-type': 'text/plain; charset=us-ascii' }, 'This is explicitly typed.\r\n'],
    ]);
  });

  it('refuses what is not a whole multipart body', () => {
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary('multipart/mixed')).toBeUndefined();
    expect(() => parseMultipart(Buffer.from('no boundary here'), 'b')).toThrow(/boundary/);
    expect(() => parseMultipart(Buffer.from('--b\r\nContent-Type: a\r\n\r\nunfinished'), 'b')).toThrow(/close delimiter/);
  });
});
