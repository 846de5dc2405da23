/**
 * Packaging for the desktop app (electron-builder). `npm run desktop` runs the app from source
 * where the Electron binary is installed; packaging runs where electron-builder can download
 * its tools. better-sqlite3 is rebuilt against Electron's ABI (npmRebuild) and unpacked from
 * the asar archive because native modules cannot load from inside it.
 */
export interface ElectronBuilderConfig {
  appId: string;
  productName: string;
  directories: { output: string; buildResources: string };
  files: string[];
  extraMetadata: { main: string };
  asarUnpack: string[];
  npmRebuild: boolean;
  linux: { target: string[]; category: string };
  mac: { target: string[]; category: string };
  win: { target: string[] };
}

const config: ElectronBuilderConfig = {
  appId: 'org.axon.desktop',
  productName: 'Axon',
  directories: { output: 'release', buildResources: 'build/resources' },
  files: ['dist/**/*', 'dist-renderer/**/*', 'package.json', '!**/*.map'],
  extraMetadata: { main: 'dist/src-main/electron.js' },
  asarUnpack: ['node_modules/better-sqlite3/**'],
  npmRebuild: true,
  linux: { target: ['AppImage', 'deb'], category: 'Network' },
  mac: { target: ['dmg'], category: 'public.app-category.social-networking' },
  win: { target: ['nsis'] },
};

export default config;
