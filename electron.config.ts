/**
 * Packaging for the desktop app (electron-builder), e.g.
 *   npm run build && npx electron-builder --config electron.config.ts --linux
 * `npm run desktop` runs the app from source where the Electron binary is installed; packaging
 * runs where electron-builder can download its tools. better-sqlite3 is a native module: it is
 * rebuilt against Electron's ABI (npmRebuild, from source) and unpacked from the asar archive,
 * because native modules cannot load from inside it. sharp (with its libvips) and
 * sodium-native ship Node-API binaries that Electron loads as they are: unpacked too.
 */
export interface ElectronBuilderConfig {
  appId: string;
  productName: string;
  directories: { output: string; buildResources: string };
  files: string[];
  extraMetadata: { main: string };
  asar: boolean;
  asarUnpack: string[];
  npmRebuild: boolean;
  buildDependenciesFromSource: boolean;
  nodeGypRebuild: boolean;
  linux: { target: string[]; category: string; icon: string; maintainer: string };
  deb: { depends: string[] };
  mac: { target: string[]; category: string; icon: string };
  win: { target: string[]; icon: string };
  nsis: { oneClick: boolean; perMachine: boolean };
}

const config: ElectronBuilderConfig = {
  appId: 'org.axon.desktop',
  productName: 'Axon',
  directories: { output: 'release', buildResources: 'build/resources' },
  // dist/ holds the compiled main process (dist/src-main, dist/core, dist/p2p) and the built
  // UI (dist/renderer); the tray icon is read at run time.
  files: ['dist/**/*', '!dist/bench/**', '!**/*.map', '!**/*.test.js', 'build/resources/tray.png', 'package.json'],
  extraMetadata: { main: 'dist/src-main/electron.js' },
  asar: true,
  asarUnpack: ['node_modules/better-sqlite3/**', 'node_modules/sharp/**', 'node_modules/@img/**', 'node_modules/sodium-native/**'],
  npmRebuild: true,
  buildDependenciesFromSource: true,
  nodeGypRebuild: false,
  linux: { target: ['AppImage', 'deb'], category: 'Network', icon: 'build/resources/icon.png', maintainer: 'Axon <axon@localhost>' },
  deb: { depends: ['libnss3', 'libgtk-3-0', 'libnotify4', 'libxss1', 'libxtst6', 'libatspi2.0-0', 'libuuid1', 'libsecret-1-0'] },
  mac: { target: ['dmg'], category: 'public.app-category.social-networking', icon: 'build/resources/icon.png' },
  win: { target: ['nsis'], icon: 'build/resources/icon.png' },
  nsis: { oneClick: false, perMachine: false },
};

export default config;
