/** Optional CPU profile of one benchmark phase: set AXON_BENCH_PROFILE to a folder and the
 * phase's main-thread profile is written there as `<name>.cpuprofile` (open it in Chrome
 * DevTools). Unset, it costs nothing. */
import fs from 'node:fs';
import path from 'node:path';
import { Session } from 'node:inspector/promises';

export async function profiled<T>(name: string, phase: () => Promise<T>): Promise<T> {
  const dir = process.env.AXON_BENCH_PROFILE;
  if (!dir) return phase();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  try {
    return await phase();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
}
