// Builds the UI (src-renderer/, Vite) into dist/renderer/, skipping the build when no input
// changed since the last one, so that `npm start` stays fast. Usage: node build/renderer.mjs [--force]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(root, 'src-renderer');
const OUT = path.join(root, 'dist', 'renderer');
const STAMP = path.join(root, 'dist', '.renderer-stamp');

/** A fingerprint of every input: renderer files and the installed versions they build with. */
function fingerprint() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else h.update(`${path.relative(root, p)}\0${fs.readFileSync(p).length}\0`).update(fs.readFileSync(p));
    }
  };
  walk(SRC);
  const lock = path.join(root, 'package-lock.json');
  if (fs.existsSync(lock)) h.update(fs.readFileSync(lock));
  return h.digest('hex');
}

/** Returns true when it built, false when dist/renderer was already up to date. */
export async function buildRenderer({ force = false } = {}) {
  const fp = fingerprint();
  const upToDate = !force && fs.existsSync(path.join(OUT, 'index.html')) && fs.existsSync(STAMP) && fs.readFileSync(STAMP, 'utf8') === fp;
  if (upToDate) return false;
  const { build } = await import('vite');
  await build({ configFile: path.join(SRC, 'vite.config.ts'), logLevel: 'warn' });
  fs.writeFileSync(STAMP, fp);
  return true;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t = Date.now();
  buildRenderer({ force: process.argv.includes('--force') }).then(
    (built) => {
      if (built) process.stdout.write(`UI built into dist/renderer in ${Date.now() - t} ms\n`);
    },
    (e) => {
      process.stderr.write(`UI build failed: ${e?.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
