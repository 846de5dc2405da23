/**
 * Identifier grammar (spec appendix "Identifier Grammar" and the room versions' event id
 * formats). Identifiers are parsed once at the edge; the parsers return undefined for
 * anything invalid.
 */
import { isIPv6 } from 'node:net';
import type { RoomVersion } from './roomversions.js';

/** User ids, room ids, room aliases and event ids: at most 255 bytes with sigil and domain. */
export const MAX_ID_BYTES = 255;

const PORT = /^[0-9]{1,5}$/;
const IPV4 = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;
const DIGITS_AND_DOTS = /^[0-9.]+$/;
const DNS_NAME = /^[A-Za-z0-9.-]{1,255}$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const USER_LOCALPART = /^[a-z0-9._=\-/+]+$/;
// Historical localparts: any code points but ':' and NUL (surrogates are checked separately).
const HISTORICAL_LOCALPART = /^[^:\u0000]*$/;
// With the u flag a well-formed pair is one code point, so this matches lone surrogates only.
const LONE_SURROGATE = /\p{Cs}/u;
const HASH_STANDARD = /^[A-Za-z0-9+/]{43}$/;
const HASH_URL_SAFE = /^[A-Za-z0-9_-]{43}$/;

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** `hostname [":" port]` where hostname is an IPv4 literal (octets 0–255), a bracketed IPv6
 * literal (RFC 3513) or a DNS name. Server names are case-sensitive: upper case is valid. */
export function isValidServerName(s: string): boolean {
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return false;
    const rest = s.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && PORT.test(rest.slice(1)))) return false;
    const literal = s.slice(1, close);
    return IPV6_CHARS.test(literal) && isIPv6(literal);
  }
  let host = s;
  const colon = s.lastIndexOf(':');
  if (colon >= 0) {
    if (!PORT.test(s.slice(colon + 1))) return false;
    host = s.slice(0, colon);
  }
  const v4 = IPV4.exec(host);
  if (v4) return v4.slice(1).every((octet) => Number(octet) <= 255);
  // Four dotted numbers are an IPv4 literal, so a bad one is not a DNS name either.
  if (DIGITS_AND_DOTS.test(host) && host.split('.').length === 4) return false;
  return DNS_NAME.test(host);
}

export interface UserId {
  readonly localpart: string;
  readonly serverName: string;
}

export interface ParseUserIdOptions {
  /** Accept the historical grammar (any code point but `:` and NUL, possibly empty), which
   * servers must accept in events received over federation. */
  historical?: boolean;
}

/** `@localpart:server_name`, at most 255 bytes. */
export function parseUserId(s: string, opts?: ParseUserIdOptions): UserId | undefined {
  if (!s.startsWith('@') || byteLength(s) > MAX_ID_BYTES) return undefined;
  const colon = s.indexOf(':');
  if (colon < 0) return undefined;
  const localpart = s.slice(1, colon);
  const serverName = s.slice(colon + 1);
  if (opts?.historical) {
    if (!HISTORICAL_LOCALPART.test(localpart) || LONE_SURROGATE.test(localpart)) return undefined;
  } else if (!USER_LOCALPART.test(localpart)) {
    return undefined;
  }
  return isValidServerName(serverName) ? { localpart, serverName } : undefined;
}

/** `&opaque:server_name` with a non-empty opaque part free of NUL and lone surrogates. */
function parseDomainId(s: string, sigil: string): { opaque: string; serverName: string } | undefined {
  if (!s.startsWith(sigil) || byteLength(s) > MAX_ID_BYTES) return undefined;
  const colon = s.indexOf(':');
  if (colon <= 1) return undefined;
  const opaque = s.slice(1, colon);
  const serverName = s.slice(colon + 1);
  if (opaque.includes('\u0000') || LONE_SURROGATE.test(opaque)) return undefined;
  return isValidServerName(serverName) ? { opaque, serverName } : undefined;
}

export interface RoomId {
  readonly opaque: string;
  /** Absent from v12+ room ids, which are their create event's reference hash. */
  readonly serverName?: string;
}

/**
 * `!opaque:server_name` (room versions before 12) or `!` + the URL-safe unpadded base64
 * reference hash of the create event (v12+). Without a version, either form is accepted:
 * at the client API edge the room's version is not known yet.
 */
export function parseRoomId(s: string, version?: RoomVersion): RoomId | undefined {
  if (!s.startsWith('!')) return undefined;
  const hashForm = version ? version.roomIdFromCreate : !s.includes(':');
  if (hashForm) return HASH_URL_SAFE.test(s.slice(1)) ? { opaque: s.slice(1) } : undefined;
  return parseDomainId(s, '!');
}

export interface EventId {
  readonly opaque: string;
  /** Present only in room v1/v2 event ids. */
  readonly serverName?: string;
}

/**
 * Room v1/v2: `$opaque:server_name`. v3: `$` + standard unpadded base64 of the reference
 * hash. v4+: `$` + URL-safe unpadded base64. Without a version, any of the three.
 */
export function parseEventId(s: string, version?: RoomVersion): EventId | undefined {
  if (!s.startsWith('$')) return undefined;
  const opaque = s.slice(1);
  switch (version?.eventIdFormat) {
    case 'v1':
      return parseDomainId(s, '$');
    case 'v3':
      return HASH_STANDARD.test(opaque) ? { opaque } : undefined;
    case 'v4':
      return HASH_URL_SAFE.test(opaque) ? { opaque } : undefined;
    default:
      if (HASH_STANDARD.test(opaque) || HASH_URL_SAFE.test(opaque)) return { opaque };
      return parseDomainId(s, '$');
  }
}

export interface RoomAlias {
  readonly localpart: string;
  readonly serverName: string;
}

/** `#localpart:server_name`: any code points but `:` and NUL, at most 255 bytes. */
export function parseRoomAlias(s: string): RoomAlias | undefined {
  const parsed = parseDomainId(s, '#');
  return parsed && { localpart: parsed.opaque, serverName: parsed.serverName };
}

/** The domain of a `&local:domain` identifier (user id, v1 event id, pre-v12 room id, alias):
 * everything after the first `:`; '' when there is none. */
export function domainOf(id: string): string {
  const colon = id.indexOf(':');
  return colon < 0 ? '' : id.slice(colon + 1);
}
