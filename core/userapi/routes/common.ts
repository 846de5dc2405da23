import { z } from 'zod';
import { parseUserId } from '../../events/ids.js';
import type { JsonObject } from '../../events/types.js';
import { badJson, endpoint, forbidden, parseJsonObject, readBody, type Endpoint, type Requester } from '../../http/index.js';

export const CS = '/_matrix/client/v3';

/** A user id in a path: malformed ones are 400 M_INVALID_PARAM, before any ownership check. */
export const userIdParam = z.string().refine((s) => parseUserId(s, { historical: true }) !== undefined, 'not a user id');

/** Declares an endpoint and erases its schema types so lists of them share one type. */
export const route = endpoint;

/** The requester of an endpoint declared with auth 'user'. */
export function who(r: Requester | undefined): Requester {
  if (!r) throw new Error('endpoint declared with auth user ran without a requester');
  return r;
}

/** 403 unless the path's user is the requester. */
export function requireSelf(r: Requester | undefined, userId: string, what: string): Requester {
  const req = who(r);
  if (req.userId !== userId) throw forbidden(`Cannot ${what} for other users.`);
  return req;
}

/** Any JSON object (a body parsed from JSON holds only JSON values). */
export const jsonObject = z.record(z.string(), z.unknown()).transform((o) => o as JsonObject);

/** The UIA `auth` dict; its stages check the fields. */
export const authDict = z.record(z.string(), z.unknown()).optional();

export const deviceIdSchema = z.string().min(1).max(255);

/** A JSON body that clients may leave out entirely (DELETE /devices/{id} on its first try). */
export async function optionalBody<T>(req: Request, schema: z.ZodType<T>, limit = 64 * 1024): Promise<T> {
  const bytes = await readBody(req, limit);
  const raw = bytes.byteLength === 0 ? {} : parseJsonObject(bytes);
  const r = schema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw badJson(`Invalid body parameter ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}
