import { stateKey, type RoomEvent } from '../../events/types.js';
import type { AuthRule } from './rules.js';

/** Looks up state relevant to auth: from the event's auth_events, or from the state before the event. */
export interface AuthState {
  get(type: string, stateKey: string): RoomEvent | undefined;
}

/** `rule` names the spec rule that decided (see rules.ts); allowed results carry it too, for tests and logs. */
export type AuthResult = { allowed: true; rule?: string } | { allowed: false; rule: string; reason: string };

export interface AuthOptions {
  /**
   * Whether `event` is validly signed by `serverName` (v8+: the homeserver of
   * `join_authorised_via_users_server`). The roomserver passes its signature checker here, which
   * verifies the redacted event with that server's keys. Without it, checkAuth only requires a
   * signature from that server to be present, relying on the signature step having verified it.
   */
  isSignedByServer?(event: RoomEvent, serverName: string): boolean;
}

export function allow(rule: AuthRule): AuthResult {
  return { allowed: true, rule };
}

export function reject(rule: AuthRule, reason: string): AuthResult {
  return { allowed: false, rule, reason };
}

/** An AuthState over a list of events (e.g. an event's auth events): the last one for a key wins. */
export function authStateFromEvents(events: Iterable<RoomEvent>): AuthState {
  const byKey = new Map<string, RoomEvent>();
  for (const ev of events) {
    if (ev.stateKey !== undefined) byKey.set(stateKey(ev.type, ev.stateKey), ev);
  }
  return { get: (type, key) => byKey.get(stateKey(type, key)) };
}
