import { resolveState } from '../core/roomserver/stateres/index.js';
import { generateConflictFixture } from '../core/roomserver/stateres/bench-fixture.js';
import { medianMs, round } from './stats.js';

/** State resolution time for a fork with about 1,000 and 10,000 conflicted state events,
 * for v2 (room v11) and v2.1 (room v12). */
export async function stateResolution(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const versionId of ['11', '12']) {
    for (const n of [1000, 10000]) {
      const fx = generateConflictFixture(n, versionId);
      const ms = await medianMs(n >= 10000 ? 3 : 7, () => resolveState(fx.version, fx.stateSets, fx.provider));
      out[`v${versionId}_${n}`] = { conflicted_events: fx.conflictedEvents, median_ms: round(ms, 1) };
    }
  }
  return out;
}
