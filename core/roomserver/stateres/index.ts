import type { RoomVersion } from '../../events/roomversions.js';
import type { EventProvider, StateMap } from './types.js';
import { resolveV1 } from './v1.js';
import { resolveV2 } from './v2.js';

export type { EventProvider, StateMap } from './types.js';
export { authDifference } from './authdifference.js';
export { compareCodePoints } from './compare.js';
export { EventGraph } from './eventgraph.js';
export { authStateFor, iterativeAuthChecks } from './iterative.js';
export { MainlinePositions, mainlineOf, mainlineOrder } from './mainline.js';
export { isPowerEvent, lexicographicalTopologicalSort, reverseTopologicalPowerOrder, senderPowerLevel } from './powerorder.js';
export { separateV1, separateV2, type SeparatedState } from './separate.js';
export { conflictedSubgraph } from './subgraph.js';
export { resolveAuthConflictV1, resolveNormalConflictV1, resolveV1 } from './v1.js';
export { fullConflictedSet, resolveV2 } from './v2.js';

/**
 * Resolves the given state sets (e.g. the states at each forward extremity) into one, with the
 * room version's algorithm: v1 (room v1), v2 (rooms v2–11) or v2.1 (room v12). Auth chains are
 * read through the provider; events it does not know are left out of the resolution.
 */
export function resolveState(version: RoomVersion, stateSets: StateMap[], provider: EventProvider): StateMap {
  return version.stateRes === 'v1' ? resolveV1(stateSets, provider) : resolveV2(version, stateSets, provider);
}
