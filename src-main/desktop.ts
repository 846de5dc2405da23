/**
 * Everything the desktop app's main process does besides calling Electron: start the node in
 * the app's data folder, hold the owner's session for the window, describe the status for the
 * tray, stop cleanly. Plain Node, so it is tested without Electron.
 */
import { parseCli } from '../core/config.js';
import { StartupError, createNode, type AxonNode } from '../core/node.js';
import type { OwnerSession } from '../core/owner/index.js';
import type { StatusSnapshot } from '../core/status/index.js';

export interface DesktopNode {
  node: AxonNode;
  /** The client URL the window loads (the same UI a browser gets headless). */
  url: string;
  /** The owner's session for the embedded client: handed to the window, never over HTTP. */
  session: OwnerSession;
  stop(): Promise<void>;
}

/** Starts the node with DATA/config.json applied. When the configured port is taken (another
 * Axon, another server) it takes a free one: the window does not care which. */
export async function startDesktopNode(dataDir: string): Promise<DesktopNode> {
  const cli = parseCli(['--data', dataDir]);
  if (cli.kind !== 'run') throw new Error('unreachable');
  let node = createNode(cli.config);
  let url: string;
  try {
    ({ url } = await node.start());
  } catch (e) {
    if (!(e instanceof StartupError) || !/address already in use/.test(e.message)) throw e;
    await node.stop();
    node = createNode({ ...cli.config, http: { ...cli.config.http, port: 0 } });
    ({ url } = await node.start());
  }
  const started = node;
  return { node: started, url, session: started.owner.desktopSession(), stop: () => started.stop() };
}

/** The tray's one-line status. */
export function trayStatus(s: Pick<StatusSnapshot, 'rooms'> & { peers?: unknown }): string {
  const peers = Array.isArray(s.peers) ? s.peers.filter((p) => (p as { connected?: boolean }).connected).length : 0;
  const rooms = s.rooms.length;
  return `Axon is running · ${peers} ${peers === 1 ? 'peer' : 'peers'} · ${rooms} ${rooms === 1 ? 'room' : 'rooms'}`;
}

/** Whether a page may receive the owner's session: only the node's own UI. */
export function isOwnUi(pageUrl: string, nodeUrl: string): boolean {
  try {
    return new URL(pageUrl).origin === new URL(nodeUrl).origin;
  } catch {
    return false;
  }
}

/** IPC channel names between the main process and the preload (which, sandboxed, cannot
 * import this file and repeats them; a test keeps the two in step). */
export const IPC = {
  /** invoke → the owner's session */
  session: 'axon:session',
  /** send → start pushing status snapshots to this window */
  subscribe: 'axon:status-subscribe',
  /** main → window: one status snapshot */
  status: 'axon:status',
} as const;
