/** The typing server's interface: current typing lists per room, with timeouts. */

/** An entry on the memory-only `typing` topic, keyed by room: the room's whole current list
 * (so a consumer that missed entries still converges on the next one). */
export interface TypingOutput {
  roomId: string;
  userIds: string[];
}

export const TYPING_TOPIC = 'typing';

export interface TypingAPI {
  /** Marks `userId` typing in `roomId` for `timeoutMs`, or stops it. Publishes on change. */
  setTyping(roomId: string, userId: string, typing: boolean, timeoutMs?: number): void;
  /** Users currently typing in a room, sorted. */
  typingUsers(roomId: string): string[];
}
