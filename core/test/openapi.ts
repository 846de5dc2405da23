import fs from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/** Where the spec's OpenAPI files are: MATRIX_SPEC_DIR, or ../shared/matrix-spec. */
export const SPEC_DIR = path.resolve(process.env.MATRIX_SPEC_DIR ?? path.join(import.meta.dirname, '../../../shared/matrix-spec'));
const CS_DIR = path.join(SPEC_DIR, 'data/api/client-server');

/** Why schema checks cannot run here, or undefined when they can. */
export const specMissing: string | undefined = fs.existsSync(CS_DIR) ? undefined : `Matrix spec not found at ${SPEC_DIR} (set MATRIX_SPEC_DIR)`;

type Json = unknown;
const fileCache = new Map<string, Json>();

function load(file: string): Json {
  let doc = fileCache.get(file);
  if (doc === undefined) {
    doc = parse(fs.readFileSync(file, 'utf8')) as Json;
    fileCache.set(file, doc);
  }
  return doc;
}

function pointer(doc: Json, ptr: string): Json {
  let cur = doc as Record<string, Json>;
  for (const part of ptr.replace(/^#\/?/, '').split('/').filter(Boolean)) cur = cur[part.replace(/~1/g, '/').replace(/~0/g, '~')] as Record<string, Json>;
  return cur;
}

/** Inlines every $ref (files relative to the referring file, and #/ pointers), so ajv sees
 * one self-contained schema. Recursive schemas stop at a depth bound, accepting anything. */
function inline(node: Json, file: string, depth = 0): Json {
  if (depth > 40) return {};
  if (Array.isArray(node)) return node.map((n) => inline(n, file, depth + 1));
  if (typeof node !== 'object' || node === null) return node;
  const obj = node as Record<string, Json>;
  if (typeof obj.$ref === 'string') {
    const [target, frag] = obj.$ref.split('#') as [string, string | undefined];
    const targetFile = target ? path.resolve(path.dirname(file), target) : file;
    const resolved = frag ? pointer(load(targetFile), frag) : load(targetFile);
    const { $ref: _r, ...rest } = obj;
    const merged = inline(resolved, targetFile, depth + 1) as Record<string, Json>;
    return Object.keys(rest).length > 0 ? { allOf: [merged, inline(rest, file, depth + 1)] } : merged;
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'example' || k === 'examples' || k.startsWith('x-')) continue;
    out[k] = inline(v, file, depth + 1);
  }
  return out;
}

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
(addFormatsModule as unknown as (a: Ajv2020) => void)(ajv);

/** Finds the response schema of `method path` (spec path relative to the base path, e.g.
 * `/rooms/{roomId}/send/{eventType}/{txnId}`) for `status` across the client-server API. */
function responseSchema(method: string, specPath: string, status: number): Json {
  for (const f of fs.readdirSync(CS_DIR)) {
    if (!f.endsWith('.yaml')) continue;
    const file = path.join(CS_DIR, f);
    const doc = load(file) as { paths?: Record<string, Record<string, Json>> };
    const op = doc.paths?.[specPath]?.[method.toLowerCase()] as { responses?: Record<string, { content?: Record<string, { schema?: Json }> }> } | undefined;
    if (!op) continue;
    const schema = op.responses?.[String(status)]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`no ${status} JSON schema for ${method} ${specPath} in ${f}`);
    return inline(schema, file);
  }
  throw new Error(`no operation ${method} ${specPath} in the client-server API`);
}

/** Throws with ajv's errors if `body` does not match the spec's response schema. */
export function expectMatchesSpec(method: string, specPath: string, status: number, body: unknown): void {
  const validate = ajv.compile(responseSchema(method, specPath, status) as object);
  if (!validate(body)) {
    throw new Error(`${method} ${specPath} ${status} does not match the spec: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
  }
}

/** Throws with ajv's errors if `body` does not match the request body schema of `method
 * specPath` in another API of the spec (`data/api/{api}`, e.g. `push-gateway`). */
export function expectMatchesRequestSpec(api: string, method: string, specPath: string, body: unknown): void {
  const dir = path.join(SPEC_DIR, 'data/api', api);
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith('.yaml')) continue;
    const file = path.join(dir, f);
    const doc = load(file) as { paths?: Record<string, Record<string, Json>> };
    const op = doc.paths?.[specPath]?.[method.toLowerCase()] as { requestBody?: { content?: Record<string, { schema?: Json }> } } | undefined;
    const schema = op?.requestBody?.content?.['application/json']?.schema;
    if (!schema) continue;
    const validate = ajv.compile(inline(schema, file) as object);
    if (!validate(body)) throw new Error(`${method} ${specPath} request does not match the spec: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
    return;
  }
  throw new Error(`no request schema for ${method} ${specPath} in ${api}`);
}
