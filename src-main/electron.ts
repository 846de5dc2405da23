/**
 * The desktop entry (`npm run desktop`): the node runs in Electron's main process with its data
 * in the app's user-data folder; one window shows the UI the node serves, a tray icon shows its
 * status and quits. Only Electron calls live here; the rest is desktop.ts, tested headless.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusSnapshot } from '../core/status/index.js';
import { IPC, isOwnUi, startDesktopNode, trayStatus, type DesktopNode } from './desktop.js';
import type { BrowserWindowInstance, ElectronMain, TrayInstance } from './electron-types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const PRELOAD = path.join(here, 'preload.cjs');
const TRAY_ICON = path.resolve(here, '../../build/resources/tray.png');

async function loadElectron(): Promise<ElectronMain> {
  // A variable specifier: TypeScript must not look for electron's types, which are optional.
  const name = 'electron';
  const mod = (await import(name)) as ElectronMain & { default?: ElectronMain };
  return mod.default ?? mod;
}

async function main(): Promise<void> {
  const { app, BrowserWindow, Tray, Menu, nativeImage, ipcMain, shell, dialog } = await loadElectron();
  if (!app.requestSingleInstanceLock()) {
    // Another Axon window owns the data folder; it is brought to front by 'second-instance'.
    app.quit();
    return;
  }
  await app.whenReady();

  let desktop: DesktopNode;
  try {
    desktop = await startDesktopNode(path.join(app.getPath('userData'), 'node'));
  } catch (e) {
    dialog.showErrorBox('Axon could not start', (e as Error).message);
    app.exit(1);
    return;
  }

  let win: BrowserWindowInstance | null = null;
  const openWindow = () => {
    if (win && !win.isDestroyed()) {
      if (win.isMinimized()) win.restore();
      win.show();
      win.focus();
      return;
    }
    const w = new BrowserWindow({
      width: 1200,
      height: 800,
      minWidth: 360,
      minHeight: 480,
      title: 'Axon',
      icon: nativeImage.createFromPath(TRAY_ICON),
      webPreferences: { preload: PRELOAD, contextIsolation: true, sandbox: true, nodeIntegration: false },
    });
    // The window shows only the node's own UI; any other link opens in the browser.
    w.webContents.setWindowOpenHandler(({ url }) => {
      void shell.openExternal(url);
      return { action: 'deny' };
    });
    w.webContents.on('will-navigate', (e, url) => {
      if (!isOwnUi(url, desktop.url)) {
        e.preventDefault();
        void shell.openExternal(url);
      }
    });
    w.on('closed', () => (win = null));
    void w.loadURL(`${desktop.url}/`);
    win = w;
  };

  // The session and the status go only to the node's own page.
  ipcMain.handle(IPC.session, (e) => {
    if (!isOwnUi(e.senderFrame?.url ?? e.sender.getURL(), desktop.url)) throw new Error('not the Axon UI');
    return desktop.session;
  });
  const subscriptions = new Map<object, () => void>();
  ipcMain.on(IPC.subscribe, (e) => {
    const wc = e.sender;
    if (!isOwnUi(wc.getURL(), desktop.url)) return;
    // One subscription per window: a reload subscribes again and replaces the old one.
    subscriptions.get(wc)?.();
    const off = desktop.node.statusModel.subscribe((s) => {
      if (!wc.isDestroyed()) wc.send(IPC.status, s);
    });
    if (!subscriptions.has(wc)) {
      wc.once('destroyed', () => {
        subscriptions.get(wc)?.();
        subscriptions.delete(wc);
      });
    }
    subscriptions.set(wc, off);
  });

  let quitting = false;
  let stopped = false;
  const quit = () => app.quit();
  const tray: TrayInstance = new Tray(nativeImage.createFromPath(TRAY_ICON));
  const updateTray = (s: StatusSnapshot) => {
    const line = trayStatus(s);
    tray.setToolTip(line);
    tray.setContextMenu(
      Menu.buildFromTemplate([
        { label: line, enabled: false },
        { type: 'separator' },
        { label: 'Open Axon', click: openWindow },
        { label: 'Quit Axon', click: quit },
      ]),
    );
  };
  const offTray = desktop.node.statusModel.subscribe(updateTray);
  tray.on('click', openWindow);

  app.on('second-instance', openWindow);
  app.on('activate', openWindow);
  // Closing the window leaves the node running in the tray; Quit stops it.
  app.on('window-all-closed', () => undefined);
  app.on('before-quit', (e) => {
    if (stopped) return;
    e.preventDefault();
    if (quitting) return;
    quitting = true;
    offTray();
    for (const off of subscriptions.values()) off();
    desktop
      .stop()
      .catch((err: unknown) => console.error('axon: error while stopping:', err))
      .finally(() => {
        stopped = true;
        tray.destroy();
        app.quit();
      });
  });

  openWindow();
}

main().catch((e: unknown) => {
  console.error('axon: desktop app failed:', e);
  process.exit(70);
});
