/**
 * `npm run bench`: runs every benchmark (or those named on the command line) and prints one
 * JSON document of results. Benchmarks are never part of `npm test`: machines are shared and
 * noisy, so figures are reported, not asserted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchmarks } from './suite.js';

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const results: Record<string, unknown> = {};
  for (const [name, run] of Object.entries(benchmarks)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`bench: ${name}…\n`);
    results[name] = await run();
  }
  const doc = { date: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length, results };
  const text = JSON.stringify(doc, null, 2);
  process.stdout.write(`${text}\n`);
  const dir = path.resolve('bench/results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${doc.date.replace(/[:.]/g, '-')}.json`), text);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
