import { RegExpRouter } from 'hono/router/reg-exp-router';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp } from '../http/index.js';
import type { AxonNode } from '../node.js';
import { startTestNode } from './node.js';

/** Every route must fit hono's RegExpRouter, one regex per method. A path it cannot take
 * (a parameter where another route has a fixed segment) makes hono fall back to its trie
 * router for all routes, which costs every request several times as much routing. */
describe('the HTTP routes', () => {
  let node: AxonNode;
  beforeAll(async () => {
    node = (await startTestNode()).node;
  });
  afterAll(() => node.stop());

  const unsupported = (app: HttpApp): string[] => {
    const router = new RegExpRouter<unknown>();
    const refused: string[] = [];
    for (const r of app.hono.routes) {
      try {
        router.add(r.method, r.path, r.handler);
      } catch {
        refused.push(`${r.method} ${r.path}`);
      }
    }
    return refused;
  };

  it('of the client API and federation all fit the regex router', async () => {
    expect(node.http.hono.routes.length).toBeGreaterThan(100);
    expect(unsupported(node.http)).toEqual([]);
    expect(unsupported(node.federation.app)).toEqual([]);
    // And hono picks it: the first request settles the choice.
    await node.http.hono.fetch(new Request('http://axon/_matrix/client/versions'));
    expect((node.http.hono.router as { activeRouter?: { name: string } }).activeRouter?.name).toBe('RegExpRouter');
  });
});
