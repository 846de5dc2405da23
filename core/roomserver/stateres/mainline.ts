import type { RoomEvent } from '../../events/types.js';
import { compareCodePoints, compareNumbers } from './compare.js';
import type { EventGraph } from './eventgraph.js';

const POWER_LEVELS = 'm.room.power_levels';

/** The mainline of a power levels event P₀: P₀, the power levels event it cites, and so on; each mapped to its index. */
export function mainlineOf(powerLevelsId: string | undefined, graph: EventGraph): Map<string, number> {
  const mainline = new Map<string, number>();
  let p = powerLevelsId === undefined ? undefined : graph.event(powerLevelsId);
  while (p && !mainline.has(p.eventId)) {
    mainline.set(p.eventId, mainline.size);
    p = graph.authEventOfType(p, POWER_LEVELS);
  }
  return mainline;
}

/**
 * Mainline positions (spec v2 "Mainline ordering"): for an event e, follow the power levels
 * events it and its predecessors cite, [e₁, e₂, …], to the first that is on the mainline; its
 * index there is the position, or Infinity when none is. Walks are memoised per power levels
 * event, so many events citing the same ones cost one walk.
 */
export class MainlinePositions {
  private readonly fromPowerLevels = new Map<string, number>();

  constructor(
    private readonly mainline: ReadonlyMap<string, number>,
    private readonly graph: EventGraph,
  ) {}

  positionOf(ev: RoomEvent): number {
    const path: string[] = [];
    const onPath = new Set<string>();
    let position = Infinity;
    for (let p = this.graph.authEventOfType(ev, POWER_LEVELS); p; p = this.graph.authEventOfType(p, POWER_LEVELS)) {
      const onMainline = this.mainline.get(p.eventId);
      if (onMainline !== undefined) {
        position = onMainline;
        break;
      }
      const known = this.fromPowerLevels.get(p.eventId);
      if (known !== undefined) {
        position = known;
        break;
      }
      if (onPath.has(p.eventId)) break; // a cycle (forged v1/v2 ids) leads to no mainline event
      onPath.add(p.eventId);
      path.push(p.eventId);
    }
    for (const id of path) this.fromPowerLevels.set(id, position);
    return position;
  }
}

/**
 * Step 3 of the v2 algorithm: sorts events by mainline ordering based on the power levels event
 * `powerLevelsId` — greater position (an earlier power levels epoch) first, then earlier
 * origin_server_ts, then smaller event id. Unknown events are left out.
 */
export function mainlineOrder(eventIds: Iterable<string>, powerLevelsId: string | undefined, graph: EventGraph): string[] {
  const positions = new MainlinePositions(mainlineOf(powerLevelsId, graph), graph);
  const keyed: Array<{ id: string; position: number; ts: number }> = [];
  for (const id of eventIds) {
    const ev = graph.event(id);
    if (ev) keyed.push({ id, position: positions.positionOf(ev), ts: ev.originServerTs });
  }
  keyed.sort((a, b) => compareNumbers(b.position, a.position) || compareNumbers(a.ts, b.ts) || compareCodePoints(a.id, b.id));
  return keyed.map((k) => k.id);
}
