import { afterEach, describe, expect, it } from 'vitest';
import { Log, type LogMessage } from '../log/index.js';
import type { RoomOutput } from '../roomserver/api.js';
import { PRESENCE_TOPIC, PresenceServer, type PresenceOutput } from './index.js';

const servers: PresenceServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function server(opts: { enabled?: boolean } = {}): { s: PresenceServer; seen: PresenceOutput[]; log: Log } {
  const log = new Log();
  // The room server's output topic, which the server reads for activity.
  log.topic<RoomOutput>('room.output', { durable: false });
  const s = new PresenceServer({ log, roomserver: { roomsForUser: () => [] }, isLocal: (u) => u.endsWith(':here'), ...opts });
  servers.push(s);
  const seen: PresenceOutput[] = [];
  log.consume<PresenceOutput>(PRESENCE_TOPIC, { name: 't', fromOffset: 0, handle: (m: LogMessage<PresenceOutput>[]) => void seen.push(...m.map((x) => x.value)) });
  return { s, seen, log };
}

describe('presence server', () => {
  it('keeps and publishes a remote user\'s presence as received, marked remote; ignores our own users', async () => {
    const { s, seen, log } = server();
    s.receiveRemote({ userId: '@zed:there', presence: 'unavailable', statusMsg: 'away', lastActiveTs: 1000, currentlyActive: false });
    s.receiveRemote({ userId: '@me:here', presence: 'online', lastActiveTs: 1, currentlyActive: true });
    await log.drain();
    expect(seen).toEqual([{ userId: '@zed:there', presence: 'unavailable', statusMsg: 'away', lastActiveTs: 1000, currentlyActive: false, remote: true }]);
    expect(s.presence('@zed:there').presence).toBe('unavailable');
    expect(s.presence('@me:here').presence).toBe('offline');
  });

  it('publishes only visible changes: repeated syncs of an online user add nothing', async () => {
    const { s, seen, log } = server();
    s.setPresence('@a:here', 'online');
    for (let i = 0; i < 5; i++) s.syncStarted('@a:here')();
    await log.drain();
    expect(seen.map((p) => p.presence)).toEqual(['online']);
  });

  it('off: nothing is kept or published', async () => {
    const { s, seen, log } = server({ enabled: false });
    s.setPresence('@a:here', 'online');
    s.syncStarted('@a:here')();
    s.receiveRemote({ userId: '@zed:there', presence: 'online', lastActiveTs: 1, currentlyActive: true });
    await log.drain();
    expect(seen).toEqual([]);
    expect(s.presence('@a:here').presence).toBe('offline');
  });
});
