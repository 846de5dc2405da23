/**
 * The identifier checks the auth rules need: user ID validity (for `power_levels.users` keys and
 * v12 `additional_creators`) and the server name part of user, room and event IDs.
 */

import { isValidServerName } from '../../events/ids.js';

export { isValidServerName };

// Lone surrogates are not legal code points.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * A user ID as servers must accept it over federation: `@localpart:server_name`, at most 255
 * bytes. The localpart may use the historical character set (anything but `:` and NUL, even
 * empty), since rooms still hold events from such users.
 */
export function isValidUserId(id: string): boolean {
  if (!id.startsWith('@') || Buffer.byteLength(id, 'utf8') > 255) return false;
  const colon = id.indexOf(':');
  if (colon < 0) return false;
  const localpart = id.slice(1, colon);
  if (localpart.includes('\u0000') || LONE_SURROGATE.test(localpart)) return false;
  return isValidServerName(id.slice(colon + 1));
}

/** The server name after the first `:` of a user, room or (v1/v2) event ID; undefined if none. */
export function domainOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}
