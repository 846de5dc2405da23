import { describe, expect, it } from 'vitest';
import { domainOf, isValidServerName, parseEventId, parseRoomAlias, parseRoomId, parseUserId } from './ids.js';
import { getRoomVersion, type RoomVersion } from './roomversions.js';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const HASH_STD = 'Rqnc+F+dvnEYJTyHq/iKxU2bZ1CI92+kuZq3a5lr5Zg';
const HASH_URL = 'Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';
const HASH_PLAIN = 'Nhcu5BSUMnFX7hBVfVSoXiD7OgH6iRTxyIuqDnpYQab';

describe('server names', () => {
  it.each([
    'matrix.org',
    'matrix.org:8888',
    '1.2.3.4',
    '1.2.3.4:1234',
    '[1234:5678::abcd]',
    '[1234:5678::abcd]:5678',
    'localhost',
    'MATRIX.ORG',
    '[::1]',
    '[::ffff:1.2.3.4]:8448',
    'a'.repeat(255),
    'f'.repeat(64),
  ])('accepts %s (appendix examples and more)', (name) => {
    expect(isValidServerName(name)).toBe(true);
  });

  it.each([
    '',
    'exa_mple.org',
    'example.org:',
    'example.org:123456',
    'example.org:80a',
    'exa mple.org',
    '::1',
    '[::1',
    '[zz::1]',
    '[1:2:3]',
    '[::1]:',
    '[::1]x',
    '256.1.1.1',
    '1.2.3.4:99999x',
    'a'.repeat(256),
    'é.org',
  ])('rejects %j', (name) => {
    expect(isValidServerName(name)).toBe(false);
  });
});

describe('user ids', () => {
  it('parses the current grammar', () => {
    expect(parseUserId('@alice:example.org')).toEqual({ localpart: 'alice', serverName: 'example.org' });
    expect(parseUserId('@a.b_c=d-e/f+g:example.org:8448')).toEqual({ localpart: 'a.b_c=d-e/f+g', serverName: 'example.org:8448' });
    expect(parseUserId('@a:[::1]:8448')).toEqual({ localpart: 'a', serverName: '[::1]:8448' });
  });

  it.each(['alice:example.org', '@alice', '@:example.org', '@Alice:example.org', '@al ice:example.org', '@alice:exa mple', '@alice:', '@é:s'])(
    'rejects %j in the current grammar',
    (id) => {
      expect(parseUserId(id)).toBeUndefined();
    },
  );

  it('accepts historical localparts only when asked', () => {
    for (const id of ['@Alice:s.org', '@:s.org', '@al ice:s.org', '@é\u0001:s.org']) {
      expect(parseUserId(id)).toBeUndefined();
      expect(parseUserId(id, { historical: true })).toBeDefined();
    }
    expect(parseUserId('@a\u0000b:s.org', { historical: true })).toBeUndefined();
    expect(parseUserId('@a\ud800:s.org', { historical: true })).toBeUndefined();
    expect(parseUserId('@alice:bad_server', { historical: true })).toBeUndefined();
  });

  it('limits user ids to 255 bytes, counted in UTF-8', () => {
    const server = 's.org';
    const fits = `@${'a'.repeat(255 - 2 - server.length)}:${server}`;
    expect(fits).toHaveLength(255);
    expect(parseUserId(fits)).toBeDefined();
    expect(parseUserId(`@a${fits.slice(1)}`)).toBeUndefined();
    expect(parseUserId(`@${'é'.repeat(125)}:${server}`, { historical: true })).toBeUndefined();
  });
});

describe('room ids', () => {
  it('pre-v12 rooms: !opaque:server', () => {
    expect(parseRoomId('!abc:s.org', v('11'))).toEqual({ opaque: 'abc', serverName: 's.org' });
    expect(parseRoomId('!abc:s.org')).toEqual({ opaque: 'abc', serverName: 's.org' });
    expect(parseRoomId('!:s.org', v('1'))).toBeUndefined();
    expect(parseRoomId('!abc', v('1'))).toBeUndefined();
    expect(parseRoomId('!abc:bad server', v('1'))).toBeUndefined();
    expect(parseRoomId('#abc:s.org', v('1'))).toBeUndefined();
    expect(parseRoomId(`!${'a'.repeat(250)}:s.org`, v('1'))).toBeUndefined();
    expect(parseRoomId(`!${HASH_URL}`, v('11'))).toBeUndefined();
  });

  it('v12 rooms: ! + URL-safe base64 of a sha256, no server part', () => {
    expect(parseRoomId(`!${HASH_URL}`, v('12'))).toEqual({ opaque: HASH_URL });
    expect(parseRoomId(`!${HASH_URL}`)).toEqual({ opaque: HASH_URL });
    expect(parseRoomId(`!${HASH_STD}`, v('12'))).toBeUndefined();
    expect(parseRoomId(`!${HASH_URL}a`, v('12'))).toBeUndefined();
    expect(parseRoomId('!abc:s.org', v('12'))).toBeUndefined();
    expect(parseRoomId('!abc')).toBeUndefined();
  });
});

describe('event ids', () => {
  it('v1/v2: $opaque:server', () => {
    expect(parseEventId('$abc:s.org', v('1'))).toEqual({ opaque: 'abc', serverName: 's.org' });
    expect(parseEventId('$abc:s.org', v('2'))).toBeDefined();
    expect(parseEventId(`$${HASH_STD}`, v('1'))).toBeUndefined();
    expect(parseEventId('$:s.org', v('1'))).toBeUndefined();
    expect(parseEventId('abc:s.org', v('1'))).toBeUndefined();
  });

  it('v3: standard base64 alphabet only', () => {
    expect(parseEventId(`$${HASH_STD}`, v('3'))).toEqual({ opaque: HASH_STD });
    expect(parseEventId(`$${HASH_PLAIN}`, v('3'))).toBeDefined();
    expect(parseEventId(`$${HASH_URL}`, v('3'))).toBeUndefined();
    expect(parseEventId('$abc:s.org', v('3'))).toBeUndefined();
  });

  it('v4+: URL-safe alphabet only', () => {
    for (const id of ['4', '6', '10', '11', '12']) {
      expect(parseEventId(`$${HASH_URL}`, v(id))).toEqual({ opaque: HASH_URL });
      expect(parseEventId(`$${HASH_STD}`, v(id))).toBeUndefined();
      expect(parseEventId(`$${HASH_URL.slice(1)}`, v(id))).toBeUndefined();
    }
  });

  it('without a version, any format', () => {
    for (const id of [`$${HASH_STD}`, `$${HASH_URL}`, '$abc:s.org']) expect(parseEventId(id)).toBeDefined();
    expect(parseEventId('$abc')).toBeUndefined();
    expect(parseEventId('')).toBeUndefined();
  });
});

describe('room aliases and domains', () => {
  it('parses aliases', () => {
    expect(parseRoomAlias('#room:s.org')).toEqual({ localpart: 'room', serverName: 's.org' });
    expect(parseRoomAlias('#Räum mit Leerzeichen:s.org')).toBeDefined();
    expect(parseRoomAlias('#:s.org')).toBeUndefined();
    expect(parseRoomAlias('room:s.org')).toBeUndefined();
    expect(parseRoomAlias('#room')).toBeUndefined();
  });

  it('domainOf takes everything after the first colon', () => {
    expect(domainOf('@a:s.org:8448')).toBe('s.org:8448');
    expect(domainOf('$abc')).toBe('');
  });
});
