import fs from 'node:fs';
import type { AxonNode } from '../core/node.js';

/** Stops a benchmark's node and deletes its data folder: a run leaves tens of MB behind. */
export async function stopAndRemove(node: AxonNode): Promise<void> {
  await node.stop();
  fs.rmSync(node.config.dataDir, { recursive: true, force: true });
}
