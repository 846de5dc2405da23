import { signJson, verifyJsonSignature, type SigningKey } from '../crypto/index.js';
import type { JsonValue } from '../events/types.js';

/** What a federation request's X-Matrix signature covers (server-server API, "Request Authentication"). */
export interface RequestToSign {
  method: string;
  /** Path and query, exactly as sent. */
  uri: string;
  origin: string;
  destination: string;
  content?: JsonValue;
}

export interface XMatrixParams {
  origin: string;
  destination?: string;
  key: string;
  sig: string;
}

/** Builds the Authorization header value for a request. */
export function signRequest(req: RequestToSign, key: SigningKey): string {
  const obj: Record<string, unknown> = { method: req.method, uri: req.uri, origin: req.origin, destination: req.destination };
  if (req.content !== undefined) obj.content = req.content;
  const signed = signJson(obj, req.origin, key);
  const sig = signed.signatures[req.origin]![key.keyId]!;
  return `X-Matrix origin="${req.origin}",destination="${req.destination}",key="${key.keyId}",sig="${sig}"`;
}

/** Parses `X-Matrix k=v,k="v"` (RFC 9110 auth-params; keys case-insensitive). Undefined when
 * the scheme is not X-Matrix or a required param is missing. */
export function parseXMatrix(header: string | undefined): XMatrixParams | undefined {
  if (!header) return undefined;
  const m = /^\s*X-Matrix\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s"]*))\s*(?:,|$)/y;
  const rest = m[1]!;
  while (re.lastIndex < rest.length) {
    const match = re.exec(rest);
    if (!match) return undefined;
    const k = match[1]!.toLowerCase();
    const v = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3]!;
    if (!(k in params)) params[k] = v;
  }
  if (!params.origin || !params.key || !params.sig) return undefined;
  return { origin: params.origin, destination: params.destination, key: params.key, sig: params.sig };
}

/** Checks a parsed X-Matrix header against the request it came with. */
export function verifyRequest(req: Omit<RequestToSign, 'origin'>, auth: XMatrixParams, verifyKey: Uint8Array): boolean {
  if (auth.destination !== undefined && auth.destination !== req.destination) return false;
  const obj: Record<string, unknown> = { method: req.method, uri: req.uri, origin: auth.origin, destination: req.destination };
  if (req.content !== undefined) obj.content = req.content;
  obj.signatures = { [auth.origin]: { [auth.key]: auth.sig } };
  return verifyJsonSignature(obj, auth.origin, auth.key, verifyKey);
}
