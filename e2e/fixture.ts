/**
 * The e2e fixture: real headless nodes started in this process (as `npm start` runs them,
 * serving the built UI) and the OS's Chromium driven by playwright-core. Other projects'
 * Playwright suites can start nodes the same way.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { onTestFailed } from 'vitest';
import { defaultConfig, type AxonConfig } from '../core/config.js';
import { createNode, type AxonNode } from '../core/node.js';
import { tmpDir } from '../core/test/fixtures.js';

export const CHROMIUM = process.env.AXON_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);
export const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'artifacts');

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface RunningNode {
  node: AxonNode;
  url: string;
  /** A fresh one-time login link for the owner, as the CLI prints it. */
  loginLink(): string;
  stop(): Promise<void>;
}

/** libp2p on loopback only, no mDNS on the host's network. */
export const LOOPBACK_P2P = { listen: ['/ip4/127.0.0.1/tcp/0'], peers: [] as string[], mdns: false, relay: false };

/** A real node on 127.0.0.1 port 0, temp data folder, rate limits off, serving dist/renderer. */
export async function startNode(overrides: Partial<AxonConfig> = {}): Promise<RunningNode> {
  const node = createNode(defaultConfig(tmpDir('axon-e2e-'), { http: { host: '127.0.0.1', port: 0 }, logLevel: (process.env.AXON_E2E_LOG as AxonConfig['logLevel'] | undefined) ?? 'silent', rateLimit: 0, p2p: LOOPBACK_P2P, ...overrides }));
  const { url } = await node.start();
  return { node, url, loginLink: () => node.owner.loginLink(url), stop: () => node.stop() };
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

let contexts = 0;

/** A browser context (must be called inside a test) at a laptop-sized viewport that records page errors, so a test can
 * assert the UI never threw. */
export async function newContext(browser: Browser, viewport = { width: 1200, height: 800 }): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  if (process.env.AXON_E2E_CONSOLE) {
    page.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
    page.on('response', (r) => r.status() >= 500 && console.error(`[page] ${r.status()} ${r.request().method()} ${r.url()}`));
  }
  // A failing test leaves a picture of every page it had open, and the page errors.
  const n = ++contexts;
  onTestFailed(async () => {
    if (errors.length) console.error(`page ${n} errors:`, errors);
    if (!page.isClosed()) await screenshot(page, `failed-page-${n}`).catch(() => undefined);
  });
  return { context, page, errors };
}

/** Saves a screenshot as e2e/artifacts/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
