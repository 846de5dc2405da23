import type { RoomEvent } from '../../events/types.js';
import type { EventProvider } from './types.js';

/**
 * The events one resolution reads, fetched from the provider at most once each: state
 * resolution walks the same auth chains several times (auth difference, subgraph, sorting,
 * auth checks), and the provider may be a database.
 */
export class EventGraph {
  private readonly events = new Map<string, RoomEvent | null>();
  private readonly rejected = new Map<string, boolean>();

  constructor(private readonly provider: EventProvider) {}

  event(id: string): RoomEvent | undefined {
    let ev = this.events.get(id);
    if (ev === undefined) {
      ev = this.provider.get(id) ?? null;
      this.events.set(id, ev);
    }
    return ev ?? undefined;
  }

  isRejected(id: string): boolean {
    const check = this.provider.isRejected;
    if (!check) return false;
    let r = this.rejected.get(id);
    if (r === undefined) {
      r = check.call(this.provider, id);
      this.rejected.set(id, r);
    }
    return r;
  }

  /**
   * The room's create event. v12 events never list it in auth_events: the room id is the create
   * event's id with `!` for `$`. Before v12 it is found among the event's auth events.
   */
  createEventOf(event: RoomEvent): RoomEvent | undefined {
    if (event.version.roomIdFromCreate) return this.event(`$${event.roomId.slice(1)}`);
    return this.authEventOfType(event, 'm.room.create');
  }

  /** The first of the event's known auth events with this type and an empty state key. */
  authEventOfType(event: RoomEvent, type: string): RoomEvent | undefined {
    for (const id of event.authEventIds) {
      const ae = this.event(id);
      if (ae && ae.type === type && ae.stateKey === '') return ae;
    }
    return undefined;
  }
}
