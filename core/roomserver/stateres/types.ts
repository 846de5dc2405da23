import type { RoomEvent } from '../../events/types.js';

/** Map from stateKey(type, state_key) (core/events/types.ts) to event id. */
export type StateMap = Map<string, string>;

export interface EventProvider {
  /** Events by id (any that are known; missing ones are simply absent). Sync, because storage is sync SQLite; batch-friendly. */
  get(eventId: string): RoomEvent | undefined;
  /**
   * Whether a known event was rejected. Iterative auth checks do not take rejected events as auth
   * events (spec: "if the auth event is not rejected"). Without it, no event counts as rejected.
   */
  isRejected?(eventId: string): boolean;
}
