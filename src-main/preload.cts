/**
 * The desktop window's preload. It exposes exactly two things to the page through
 * contextBridge — the owner's session and the status stream — and no Node API. CommonJS and
 * self-contained, because sandboxed preloads can load neither ES modules nor local files.
 */
import type { ElectronPreload } from './electron-types.js';

const { contextBridge, ipcRenderer } = require('electron') as ElectronPreload;

// Kept in step with IPC in desktop.ts (checked by desktop.test.ts).
const IPC = { session: 'axon:session', subscribe: 'axon:status-subscribe', status: 'axon:status' };

contextBridge.exposeInMainWorld('axon', {
  session: () => ipcRenderer.invoke(IPC.session),
  onStatus: (cb: (snapshot: unknown) => void) => {
    const listener = (_e: unknown, snapshot: unknown) => cb(snapshot);
    ipcRenderer.on(IPC.status, listener);
    ipcRenderer.send(IPC.subscribe);
    return () => ipcRenderer.removeListener(IPC.status, listener);
  },
});
