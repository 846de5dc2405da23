import fs from 'node:fs';
import { benchRoomServer } from './roomsetup.js';
import { round } from './stats.js';

/** Events/s through the room server's input pipeline: local messages into one room, built,
 * signed, checked, stored and published one after another (as sendEvent does). */
export async function inputPipeline(): Promise<Record<string, number>> {
  const { dir, db, log, serverName, rs } = benchRoomServer('axon-bench-');
  const alice = `@alice:${serverName}`;
  const { roomId } = await rs.createRoom({ creator: alice });
  const send = (i: number) => rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: `message ${i}` } });
  for (let i = 0; i < 200; i++) await send(i); // warm-up
  const n = 3000;
  const t = performance.now();
  for (let i = 0; i < n; i++) await send(i);
  const seconds = (performance.now() - t) / 1000;
  const sequential = n / seconds;
  // Many senders at once: the room queue still serialises them.
  const t2 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
  const concurrent = n / ((performance.now() - t2) / 1000);
  await log.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { events: n, sequential_events_per_s: round(sequential, 0), concurrent_events_per_s: round(concurrent, 0) };
}
