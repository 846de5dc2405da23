import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { pino } from 'pino';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpApp, MatrixError, RateLimiter, endpoint, forbidden } from './index.js';

let server: Server;
let base: string;
const errors: unknown[] = [];

beforeAll(async () => {
  const logger = pino({ level: 'error' }, { write: (line: string) => errors.push(line) });
  const app = new HttpApp({
    logger,
    maxBody: 64 * 1024,
    authenticate: (token) => (token === 'good' ? { userId: '@a:x', deviceId: 'D', isAdmin: false } : undefined),
  });
  app.add(
    endpoint({
      method: 'PUT',
      path: '/_matrix/client/v3/thing/:name',
      auth: 'user',
      params: z.object({ name: z.string().regex(/^[a-z]+$/) }),
      body: z.object({ n: z.number().int(), tag: z.string().optional() }),
      handler: ({ body, params, requester }) => ({ n: body.n, name: params.name, user: requester?.userId }),
    }),
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/list',
      auth: 'none',
      query: z.object({ limit: z.coerce.number().int().min(1), from: z.string().optional() }),
      handler: ({ query }) => ({ limit: query.limit }),
    }),
    endpoint({ method: 'GET', path: '/boom', auth: 'none', handler: () => { throw new Error('kaboom'); } }),
    endpoint({ method: 'GET', path: '/denied', auth: 'none', handler: () => { throw forbidden('no'); } }),
    endpoint({
      method: 'GET',
      path: '/slow',
      auth: 'none',
      handler: () => { throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'slow down', { retry_after_ms: 1500 }, { 'Retry-After': '2' }); },
    }),
  );
  server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function call(method: string, path: string, body?: string | Uint8Array, token = 'good') {
  const res = await fetch(base + path, {
    method,
    body: body as BodyInit | undefined,
    headers: token ? { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } : {},
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined, headers: res.headers };
}

describe('rate limits', () => {
  it('answers 429 M_LIMIT_EXCEEDED with Retry-After once the burst is spent, and refills', async () => {
    const logger = pino({ level: 'silent' });
    const app = new HttpApp({ logger, maxBody: 1024, rateLimiter: new RateLimiter({ perSecond: 2, burst: 3 }) });
    app.add(endpoint({ method: 'POST', path: '/limited', auth: 'none', rateLimited: true, handler: () => ({ ok: true }) }));
    app.add(endpoint({ method: 'POST', path: '/free', auth: 'none', handler: () => ({ ok: true }) }));
    const hit = (p: string) => app.fetch(new Request(`http://x${p}`, { method: 'POST' }));
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await hit('/limited')).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const limited = await hit('/limited');
    const body = await limited.json();
    expect(body.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(body.retry_after_ms).toBeGreaterThan(0);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await hit('/free')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 600));
    expect((await hit('/limited')).status).toBe(200);
  });

  it('accepts a missing body where the endpoint says it is optional', async () => {
    const app = new HttpApp({ logger: pino({ level: 'silent' }), maxBody: 1024 });
    app.add(endpoint({ method: 'POST', path: '/opt', auth: 'none', optionalBody: true, body: z.object({ reason: z.string().optional() }), handler: ({ body }) => ({ got: body }) }));
    const res = await app.fetch(new Request('http://x/opt', { method: 'POST' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ got: {} });
  });

  it('is off when perSecond is 0', () => {
    const rl = new RateLimiter({ perSecond: 0, burst: 0 });
    for (let i = 0; i < 1000; i++) rl.take('k');
    expect(rl.enabled).toBe(false);
  });
});

describe('HttpApp', () => {
  it('runs a valid request through auth, validation and the handler', async () => {
    const r = await call('PUT', '/_matrix/client/v3/thing/abc', JSON.stringify({ n: 3 }));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ n: 3, name: 'abc', user: '@a:x' });
    expect(r.headers.get('access-control-allow-origin')).toBe('*');
  });

  it.each([
    ['unknown endpoint', 'GET', '/_matrix/client/v3/nope', undefined, 'good', 404, 'M_UNRECOGNIZED'],
    ['wrong method on a known path', 'POST', '/_matrix/client/v3/list', undefined, 'good', 405, 'M_UNRECOGNIZED'],
    ['no token', 'PUT', '/_matrix/client/v3/thing/abc', '{"n":1}', '', 401, 'M_MISSING_TOKEN'],
    ['bad token', 'PUT', '/_matrix/client/v3/thing/abc', '{"n":1}', 'bad', 401, 'M_UNKNOWN_TOKEN'],
    ['not JSON', 'PUT', '/_matrix/client/v3/thing/abc', '{"n":', 'good', 400, 'M_NOT_JSON'],
    ['an empty body where one is required', 'PUT', '/_matrix/client/v3/thing/abc', '', 'good', 400, 'M_NOT_JSON'],
    ['JSON array', 'PUT', '/_matrix/client/v3/thing/abc', '[1]', 'good', 400, 'M_BAD_JSON'],
    ['missing key', 'PUT', '/_matrix/client/v3/thing/abc', '{}', 'good', 400, 'M_MISSING_PARAM'],
    ['wrong type', 'PUT', '/_matrix/client/v3/thing/abc', '{"n":"1"}', 'good', 400, 'M_BAD_JSON'],
    ['bad path param', 'PUT', '/_matrix/client/v3/thing/ABC', '{"n":1}', 'good', 400, 'M_INVALID_PARAM'],
    ['missing query param', 'GET', '/_matrix/client/v3/list', undefined, 'good', 400, 'M_MISSING_PARAM'],
    ['bad query param', 'GET', '/_matrix/client/v3/list?limit=x', undefined, 'good', 400, 'M_INVALID_PARAM'],
    ['a Matrix error', 'GET', '/denied', undefined, 'good', 403, 'M_FORBIDDEN'],
    ['an unexpected exception', 'GET', '/boom', undefined, 'good', 500, 'M_UNKNOWN'],
  ])('%s', async (_name, method, path, body, token, status, errcode) => {
    const r = await call(method, path, body, token);
    expect(r.status).toBe(status);
    expect(r.json.errcode).toBe(errcode);
    expect(typeof r.json.error).toBe('string');
  });

  it('logs unexpected exceptions', async () => {
    errors.length = 0;
    await call('GET', '/boom');
    expect(errors.join('')).toContain('kaboom');
  });

  it('answers 429 with Retry-After', async () => {
    const r = await call('GET', '/slow');
    expect(r.status).toBe(429);
    expect(r.json.retry_after_ms).toBe(1500);
    expect(r.headers.get('retry-after')).toBe('2');
  });

  it('refuses a body nested a thousand levels deep', async () => {
    const deep = '{"n":1,"x":' + '['.repeat(1000) + ']'.repeat(1000) + '}';
    const r = await call('PUT', '/_matrix/client/v3/thing/abc', deep);
    expect(r.status).toBe(400);
    expect(r.json.errcode).toBe('M_BAD_JSON');
  });

  it('refuses a 20 MB body with M_TOO_LARGE and keeps answering', async () => {
    const big = new Uint8Array(20 * 1024 * 1024).fill(0x20);
    const r = await call('PUT', '/_matrix/client/v3/thing/abc', big);
    expect(r.status).toBe(413);
    expect(r.json.errcode).toBe('M_TOO_LARGE');
    const again = await call('GET', '/_matrix/client/v3/list?limit=2');
    expect(again.json).toEqual({ limit: 2 });
  });

  it('refuses an oversized chunked body (no Content-Length) while streaming', async () => {
    const chunk = new Uint8Array(16 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent++ < 100) ctrl.enqueue(chunk);
        else ctrl.close();
      },
    });
    const res = await fetch(`${base}/_matrix/client/v3/thing/abc`, {
      method: 'PUT',
      body: stream,
      headers: { Authorization: 'Bearer good' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
    expect((await res.json()).errcode).toBe('M_TOO_LARGE');
  });

  it('answers CORS preflight', async () => {
    const res = await fetch(`${base}/_matrix/client/v3/thing/abc`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-methods')).toContain('PUT');
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
  });
});
