/**
 * The few parts of Electron's API the desktop entry uses. `electron` is an optional
 * dependency that is often not installed (its binary is a large download), so the entry
 * loads it with a dynamic import and types it with this interface instead of its own types.
 */
export interface WebContents {
  getURL(): string;
  send(channel: string, ...args: unknown[]): void;
  isDestroyed(): boolean;
  once(event: 'destroyed', cb: () => void): void;
  on(event: 'will-navigate', cb: (e: { preventDefault(): void }, url: string) => void): void;
  setWindowOpenHandler(h: (d: { url: string }) => { action: 'deny' | 'allow' }): void;
}

export interface IpcEvent {
  sender: WebContents;
  senderFrame?: { url: string } | null;
}

export interface BrowserWindowInstance {
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  webContents: WebContents;
  on(event: 'closed', cb: () => void): void;
}

export interface BrowserWindowOptions {
  width: number;
  height: number;
  minWidth?: number;
  minHeight?: number;
  title?: string;
  show?: boolean;
  icon?: unknown;
  webPreferences: { preload: string; contextIsolation: true; sandbox: true; nodeIntegration: false };
}

export interface MenuItemOptions {
  label?: string;
  type?: 'normal' | 'separator';
  enabled?: boolean;
  click?: () => void;
}

export interface TrayInstance {
  setToolTip(text: string): void;
  setContextMenu(menu: unknown): void;
  on(event: 'click', cb: () => void): void;
  destroy(): void;
}

export interface ElectronMain {
  app: {
    requestSingleInstanceLock(): boolean;
    whenReady(): Promise<void>;
    getPath(name: 'userData'): string;
    quit(): void;
    exit(code?: number): void;
    on(event: 'second-instance' | 'window-all-closed' | 'activate', cb: () => void): void;
    on(event: 'before-quit', cb: (e: { preventDefault(): void }) => void): void;
  };
  BrowserWindow: new (opts: BrowserWindowOptions) => BrowserWindowInstance;
  Tray: new (icon: unknown) => TrayInstance;
  Menu: { buildFromTemplate(items: MenuItemOptions[]): unknown };
  nativeImage: { createFromPath(path: string): unknown };
  ipcMain: {
    handle(channel: string, h: (e: IpcEvent) => unknown): void;
    on(channel: string, h: (e: IpcEvent) => void): void;
  };
  shell: { openExternal(url: string): Promise<void> };
  dialog: { showErrorBox(title: string, content: string): void };
}

/** The preload side: only what the bridge needs. */
export interface ElectronPreload {
  contextBridge: { exposeInMainWorld(key: string, api: unknown): void };
  ipcRenderer: {
    invoke(channel: string): Promise<unknown>;
    send(channel: string): void;
    on(channel: string, cb: (e: unknown, payload: unknown) => void): void;
    removeListener(channel: string, cb: (e: unknown, payload: unknown) => void): void;
  };
}
