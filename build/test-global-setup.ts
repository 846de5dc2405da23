import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { buildRenderer } from './renderer.mjs';

/** Compiles the project once before the tests that spawn `dist/src-main/cli.js`, and builds
 * the UI the e2e tests load (skipped when unchanged). The tests' temporary folders go into
 * one folder of the run's, removed at its end (test processes may be killed, not exit). */
export default async function setup(): Promise<() => void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'axon-tests-'));
  process.env.AXON_TEST_TMP = tmp;
  const require = createRequire(import.meta.url);
  const tsc = require.resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-b', 'tsconfig.build.json'], { stdio: 'inherit' });
  await buildRenderer();
  return () => fs.rmSync(tmp, { recursive: true, force: true });
}
