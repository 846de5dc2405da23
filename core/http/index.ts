export * from './errors.js';
export * from './endpoint.js';
export * from './json.js';
export { HttpApp, type HttpAppOptions } from './app.js';
export { RateLimiter, type RateLimit } from './ratelimit.js';
