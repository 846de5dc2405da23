import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Paths that belong to the APIs and are never answered with UI files. */
const API_PREFIXES = ['/_matrix', '/_synapse', '/_axon', '/.well-known'];

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

// The UI talks only to this node; nothing else may script or frame it.
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'",
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Axon</title>
<p>The Axon node is running, but its web UI has not been built. Run <code>npm run build</code> (or <code>npm start</code>) and reload.</p>`;

/** The built renderer: AXON_UI_DIR, else dist/renderer at the package root. */
export function defaultUiDir(): string {
  if (process.env.AXON_UI_DIR) return path.resolve(process.env.AXON_UI_DIR);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'renderer');
    const up = path.dirname(dir);
    if (up === dir) return path.resolve('dist', 'renderer');
    dir = up;
  }
}

function isApiPath(p: string): boolean {
  return API_PREFIXES.some((prefix) => p === prefix || p.startsWith(`${prefix}/`));
}

function fileResponse(file: string, method: string, cache: string): Response {
  const body = method === 'HEAD' ? null : fs.readFileSync(file);
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  return new Response(body, { headers: { 'Content-Type': type, 'Cache-Control': cache, 'Content-Length': String(fs.statSync(file).size), ...SECURITY_HEADERS } });
}

/**
 * Serves the built UI at `/`: its files with their content types, and index.html for the UI's
 * own routes (paths without an extension). Returns undefined for anything it does not own, so
 * the API answers those.
 */
export function uiHandler(dir: string): (req: Request) => Response | undefined {
  const root = path.resolve(dir);
  return (req) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return undefined;
    }
    if (isApiPath(pathname) || pathname.includes('\0')) return undefined;
    const index = path.join(root, 'index.html');
    if (!fs.existsSync(index)) {
      if (pathname !== '/') return undefined;
      return new Response(req.method === 'HEAD' ? null : NOT_BUILT, { headers: { 'Content-Type': 'text/html; charset=utf-8', ...SECURITY_HEADERS } });
    }
    const file = path.resolve(root, `.${path.posix.normalize(pathname)}`);
    if (file.startsWith(root + path.sep) && fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
      // Vite puts content-hashed names under assets/: those never change.
      const cache = file.startsWith(path.join(root, 'assets') + path.sep) ? 'public, max-age=31536000, immutable' : 'no-cache';
      return fileResponse(file, req.method, cache);
    }
    if (path.extname(pathname) === '') return fileResponse(index, req.method, 'no-cache');
    return undefined;
  };
}
