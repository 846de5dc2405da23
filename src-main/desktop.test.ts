import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tmpDir } from '../core/test/fixtures.js';
import { clientCall } from '../core/test/node.js';
import { IPC, isOwnUi, startDesktopNode, trayStatus, type DesktopNode } from './desktop.js';

const running: DesktopNode[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

async function start(dir = tmpDir('axon-desktop-'), config: Record<string, unknown> = { http: '127.0.0.1:0', 'log-level': 'silent' }) {
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  const d = await startDesktopNode(dir);
  running.push(d);
  return d;
}

describe('the desktop node (what the Electron main process runs)', () => {
  it('starts in the data folder with a working owner session, and keeps its identity across restarts', async () => {
    const dir = tmpDir('axon-desktop-');
    const d = await start(dir);
    expect(d.session.userId).toBe(`@owner:${d.node.serverName}`);
    const who = await clientCall(d.url, 'GET', '/account/whoami', d.session.accessToken);
    expect(who.body.user_id).toBe(d.session.userId);
    const stream = await fetch(`${d.url}/_axon/status/stream`, { headers: { Authorization: `Bearer ${d.session.accessToken}` } });
    expect(stream.status).toBe(200);
    await stream.body!.cancel();
    const name = d.node.serverName;
    await d.stop();
    running.pop();

    const again = await start(dir);
    expect(again.node.serverName).toBe(name);
    // The previous launch's token is revoked: only the running app holds a session.
    expect((await clientCall(again.url, 'GET', '/account/whoami', d.session.accessToken)).status).toBe(401);
    expect((await clientCall(again.url, 'GET', '/account/whoami', again.session.accessToken)).status).toBe(200);
  });

  it('takes a free port when the configured one is in use', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const d = await start(undefined, { http: `127.0.0.1:${port}`, 'log-level': 'silent' });
      expect(Number(new URL(d.url).port)).not.toBe(port);
      expect((await fetch(`${d.url}/_matrix/client/versions`)).status).toBe(200);
    } finally {
      blocker.close();
    }
  });

  it('describes the status in one tray line', () => {
    expect(trayStatus({ rooms: [] })).toBe('Axon is running · 0 peers · 0 rooms');
    const room = { roomId: '!a:x', name: null, joinedMembers: 1 };
    expect(trayStatus({ rooms: [room], peers: [{ connected: true }, { connected: false }] })).toBe('Axon is running · 1 peer · 1 room');
  });

  it('hands the session only to the node’s own page', () => {
    expect(isOwnUi('http://127.0.0.1:8008/chat', 'http://127.0.0.1:8008')).toBe(true);
    expect(isOwnUi('http://127.0.0.1:8009/', 'http://127.0.0.1:8008')).toBe(false);
    expect(isOwnUi('https://example.org/', 'http://127.0.0.1:8008')).toBe(false);
    expect(isOwnUi('not a url', 'http://127.0.0.1:8008')).toBe(false);
  });

  it('uses the same IPC channel names as the preload', () => {
    const preload = fs.readFileSync(path.join(__dirname, 'preload.cts'), 'utf8');
    for (const name of Object.values(IPC)) expect(preload).toContain(`'${name}'`);
    // The preload exposes the session and the status stream, nothing else.
    expect(preload.match(/exposeInMainWorld\(/g)).toHaveLength(1);
    expect(preload).not.toMatch(/require\('(?!electron')/);
  });
});
