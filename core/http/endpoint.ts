import type { Context } from 'hono';
import type { z } from 'zod';
import { CORS_HEADERS, withCors } from './cors.js';
import { MatrixError, badJson, invalidParam, missingParam } from './errors.js';
import { parseJsonObject, readRequestBody } from './json.js';
import type { RateLimiter } from './ratelimit.js';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** Who may call an endpoint: anyone, a logged-in user (access token), either, or another
 * homeserver (a federation request signed with X-Matrix). */
export type AuthMode = 'none' | 'user' | 'optional' | 'server';

/** What a valid access token resolves to. The user API fills it in. */
export interface Requester {
  userId: string;
  deviceId: string;
  isAdmin: boolean;
}

/** Where a request came from, for the devices' last-seen record. */
export interface ClientInfo {
  ip: string;
  userAgent?: string;
}

/** Resolves an access token; undefined when unknown. Provided by the user API. */
export type Authenticator = (token: string, client?: ClientInfo) => Requester | undefined | Promise<Requester | undefined>;

/** Checks a federation request's signature over its JSON body (undefined when it has none);
 * returns the origin server name, or throws MatrixError 401. */
export type ServerAuthenticator = (c: Context, content: unknown) => string | Promise<string>;

export interface HandlerInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  requester: Requester | undefined;
  /** The calling server, for `auth: 'server'` endpoints. */
  origin: string | undefined;
  c: Context;
}

/** One endpoint, declared once: method, path, auth, schemas, handler. */
export interface Endpoint<B = unknown, Q = unknown, P = unknown, R = unknown> {
  method: Method;
  /** hono path syntax, e.g. /_matrix/client/v3/rooms/:roomId/state */
  path: string;
  auth: AuthMode;
  body?: z.ZodType<B>;
  query?: z.ZodType<Q>;
  params?: z.ZodType<P>;
  /** Largest accepted body in bytes (defaults to the app's limit). */
  maxBody?: number;
  /** The spec lets clients leave the body out (join, leave, knock): read as `{}`. */
  optionalBody?: boolean;
  /** Counts against the requester's rate limit (sending, creating, registering, logging in). */
  rateLimited?: boolean;
  /** Returns the JSON response body (200), or a Response for anything else. */
  handler: (input: HandlerInput<B, Q, P>) => R | Response | Promise<R | Response>;
}

/** An endpoint after declaration: its schemas checked its handler's types where it was
 * declared, so lists of endpoints (routes, the app) no longer need them. */
export type AnyEndpoint = Endpoint<unknown, unknown, unknown, unknown>;

/** Declares an endpoint with its types inferred from the schemas. */
export function endpoint<B = undefined, Q = Record<string, string | undefined>, P = Record<string, string>, R = unknown>(
  e: Endpoint<B, Q, P, R>,
): AnyEndpoint {
  // The handler only ever receives what its own schemas parsed (runEndpoint), so erasing the
  // type parameters here is sound.
  return e as unknown as AnyEndpoint;
}

type Where = 'body' | 'query' | 'path';

/** Maps the first schema issue to the spec's errcode: a missing key is M_MISSING_PARAM; a
 * wrong value is M_BAD_JSON in a body and M_INVALID_PARAM in a query string or path. */
function validationError(where: Where, input: unknown, error: z.ZodError): MatrixError {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  let v: unknown = input;
  for (const k of issue.path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k as PropertyKey] : undefined;
  if (v === undefined && issue.code === 'invalid_type') return missingParam(`Missing ${where} parameter: ${path}`);
  const msg = `Invalid ${where} parameter ${path || '(root)'}: ${issue.message}`;
  return where === 'body' ? badJson(msg) : invalidParam(msg);
}

function parseWith<T>(schema: z.ZodType<T> | undefined, where: Where, input: unknown): T {
  if (!schema) return input as T;
  const r = schema.safeParse(input);
  if (!r.success) throw validationError(where, input, r.error);
  return r.data;
}

/** Validates a JSON body that a handler checks itself (one route, several shapes) with the
 * errors a declared body schema gives. */
export function parseBody<T>(schema: z.ZodType<T>, input: unknown): T {
  return parseWith(schema, 'body', input);
}

/** Pulls the access token from the Authorization header or the deprecated query parameter. */
export function accessTokenOf(c: Context): string | undefined {
  const h = c.req.header('authorization');
  if (h !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(h.trim());
    return m ? m[1] : undefined;
  }
  return c.req.query('access_token') ?? undefined;
}

export interface RunOptions {
  maxBody: number;
  authenticate?: Authenticator;
  authenticateServer?: ServerAuthenticator;
  rateLimiter?: RateLimiter;
}

/** The client's address, for rate limits of unauthenticated requests. */
function remoteAddress(c: Context): string {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? 'unknown';
}

const JSON_HEADERS: Readonly<Record<string, string>> = { 'Content-Type': 'application/json', ...CORS_HEADERS };

/** A 200 JSON reply with the CORS headers made in, as a plain object: the node adapter then
 * writes it as it is, without a Headers instance (no handler sets headers of its own on a
 * JSON reply; those that need any return a Response). */
function jsonReply(body: object): Response {
  const res = new Response(JSON.stringify(body), { status: 200, headers: JSON_HEADERS as Record<string, string> });
  withCors.add(res);
  return res;
}

/** Runs an endpoint for a request: auth, body/query/path validation, handler, JSON reply. */
export async function runEndpoint(e: AnyEndpoint, c: Context, opts: RunOptions): Promise<Response> {
  let requester: Requester | undefined;
  let origin: string | undefined;
  if (e.auth === 'server') {
    // The signature covers the body, so it is read (not yet validated) first.
    const bytes = await readRequestBody(c, e.maxBody ?? opts.maxBody);
    const raw = bytes.byteLength === 0 ? undefined : parseJsonObject(bytes);
    if (!opts.authenticateServer) throw new MatrixError(401, 'M_UNAUTHORIZED', 'Federation is not enabled');
    origin = await opts.authenticateServer(c, raw);
    const body = e.body ? parseWith(e.body, 'body', raw ?? (e.optionalBody ? {} : raw)) : undefined;
    const query = parseWith(e.query, 'query', c.req.query());
    const params = parseWith(e.params, 'path', c.req.param());
    const out = await e.handler({ body, query, params, requester: undefined, origin, c });
    if (out instanceof Response) return out;
    return jsonReply(out as object);
  }
  if (e.auth !== 'none') {
    const token = accessTokenOf(c);
    if (token === undefined) {
      if (e.auth === 'user') throw new MatrixError(401, 'M_MISSING_TOKEN', 'Missing access token');
    } else {
      requester = opts.authenticate ? await opts.authenticate(token, { ip: remoteAddress(c), userAgent: c.req.header('user-agent') }) : undefined;
      if (!requester) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unrecognised access token', { soft_logout: false });
    }
  }
  if (e.rateLimited && opts.rateLimiter?.enabled) {
    opts.rateLimiter.take(requester ? `${requester.userId}|${requester.deviceId}` : `ip|${remoteAddress(c)}`);
  }
  let body: unknown = undefined;
  if (e.body) {
    const bytes = await readRequestBody(c, e.maxBody ?? opts.maxBody);
    if (bytes.byteLength === 0 && e.optionalBody) {
      body = parseWith(e.body, 'body', {});
    } else {
      body = parseWith(e.body, 'body', parseJsonObject(bytes));
    }
  }
  const query = parseWith(e.query, 'query', c.req.query());
  const params = parseWith(e.params, 'path', c.req.param());
  const out = await e.handler({ body, query, params, requester, origin, c });
  if (out instanceof Response) return out;
  return jsonReply(out as object);
}
