import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { buildRenderer } from './renderer.mjs';

/** Compiles the project once before the tests that spawn `dist/src-main/cli.js`, and builds
 * the UI the e2e tests load (skipped when unchanged). */
export default async function setup(): Promise<void> {
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
  await buildRenderer();
}
