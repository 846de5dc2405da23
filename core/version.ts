import { createRequire } from 'node:module';

/** Axon's version, from package.json (found from src or dist alike). */
export const AXON_VERSION: string = (() => {
  const require = createRequire(import.meta.url);
  for (const p of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(p) as { name?: string; version?: string };
      if (pkg.name === 'axon' && pkg.version) return pkg.version;
    } catch {
      // try the next location
    }
  }
  return '0.0.0';
})();
