import { Hono, type Context } from 'hono';
import type { Logger } from '../logger.js';
import { CORS_HEADERS, withCors } from './cors.js';
import { MatrixError, unrecognized } from './errors.js';
import { runEndpoint, type AnyEndpoint, type Authenticator, type Method, type ServerAuthenticator } from './endpoint.js';
import type { RateLimiter } from './ratelimit.js';

export interface HttpAppOptions {
  logger: Logger;
  /** Default limit for JSON request bodies, in bytes. */
  maxBody: number;
  authenticate?: Authenticator;
  authenticateServer?: ServerAuthenticator;
  rateLimiter?: RateLimiter;
}


function errorResponse(err: MatrixError): Response {
  return new Response(JSON.stringify(err.toJSON()), {
    status: err.status,
    headers: { 'Content-Type': 'application/json', ...CORS_HEADERS, ...err.headers },
  });
}

/** Turns a hono path into a regex that matches concrete paths, for the 405 check. */
function pathRegex(path: string): RegExp {
  const src = path
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${src}/?$`);
}

/**
 * The HTTP app: every endpoint declared once, Matrix errors mapped in one place, unknown
 * endpoints `404 M_UNRECOGNIZED`, a known path with the wrong method `405 M_UNRECOGNIZED`,
 * CORS on every answer, and unexpected exceptions logged and answered `500 M_UNKNOWN`.
 */
export class HttpApp {
  readonly hono = new Hono();
  private readonly paths: Array<{ method: Method; re: RegExp }> = [];

  constructor(private readonly opts: HttpAppOptions) {
    this.hono.use('*', async (c, next) => {
      if (c.req.method === 'OPTIONS') return c.body(null, 204, CORS_HEADERS);
      await next();
      if (!withCors.has(c.res)) for (const [k, v] of Object.entries(CORS_HEADERS)) c.res.headers.set(k, v);
    });
    this.hono.onError((err, c) => this.onError(err, c));
    this.hono.notFound((c) => {
      const path = c.req.path;
      const known = this.paths.some((p) => p.re.test(path));
      return errorResponse(unrecognized(known ? 405 : 404));
    });
  }

  /** Adds endpoints. Components call this with their route lists. */
  add(...endpoints: AnyEndpoint[]): this {
    for (const e of endpoints) {
      this.paths.push({ method: e.method, re: pathRegex(e.path) });
      const run = (c: Context) => runEndpoint(e, c, this.opts);
      this.hono.on(e.method, e.path, run);
    }
    return this;
  }

  set authenticate(a: Authenticator) {
    this.opts.authenticate = a;
  }

  private onError(err: unknown, c: Context): Response {
    if (err instanceof MatrixError) return errorResponse(err);
    this.opts.logger.error({ err, method: c.req.method, path: c.req.path }, 'unexpected error in request');
    return errorResponse(new MatrixError(500, 'M_UNKNOWN', 'Internal server error'));
  }

  set authenticateServer(a: ServerAuthenticator) {
    this.opts.authenticateServer = a;
  }

  /** `env` reaches handlers as `c.env` (the federation transport passes the calling peer). */
  fetch = (req: Request, env?: unknown): Response | Promise<Response> => this.hono.fetch(req, env);
}
