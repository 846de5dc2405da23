#!/usr/bin/env node
import { ConfigError, USAGE, parseCli } from '../core/config.js';
import { StartupError, createNode } from '../core/node.js';
import { AXON_VERSION } from '../core/version.js';

/** The headless entry: `npm start -- [flags]` or `npx axon [flags]`. */
async function main(): Promise<number> {
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`axon: ${e.message}\nTry 'axon --help'.\n`);
      return 2;
    }
    throw e;
  }
  if (cli.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (cli.kind === 'version') {
    process.stdout.write(`axon ${AXON_VERSION}\n`);
    return 0;
  }
  let node;
  try {
    node = createNode(cli.config);
    const { url } = await node.start();
    // The link logs the owner in once (m.login.token, 15 minutes); restart for a new one.
    const link = node.owner.loginLink(url);
    process.stdout.write(`Axon ${AXON_VERSION} ready: client URL ${url} server name ${node.serverName} login link ${link}\n`);
  } catch (e) {
    if (e instanceof StartupError) {
      process.stderr.write(`axon: ${e.message}\n`);
      await node?.stop().catch(() => undefined);
      return 1;
    }
    throw e;
  }
  const started = node;
  await new Promise<void>((resolve) => {
    const shutdown = () => {
      process.off('SIGINT', shutdown);
      process.off('SIGTERM', shutdown);
      started.stop().then(resolve, (e: unknown) => {
        process.stderr.write(`axon: error while stopping: ${(e as Error).message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });
  return process.exitCode === undefined ? 0 : Number(process.exitCode);
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`axon: unexpected error: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(70);
  },
);
