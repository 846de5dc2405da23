import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

/** Compiles the project once before the tests that spawn `dist/src-main/cli.js`. */
export default function setup(): void {
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
}
