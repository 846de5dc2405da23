import { z } from 'zod';
import { parseUserId } from '../../events/ids.js';
import type { JsonValue } from '../../events/types.js';
import { MatrixError, badJson, invalidParam, missingParam, notFound, parseBody, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { CS, requireSelf, route } from './common.js';

const userParams = z.object({ userId: z.string() });
/** m.tz or a key in the Common Namespaced Identifier Grammar (the spec's pattern for keyName). */
const CUSTOM_KEY = /^(m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;
/** The spec's limit on a whole profile. */
const MAX_PROFILE_BYTES = 64 * 1024;

function checkUserId(userId: string): void {
  if (!parseUserId(userId, { historical: true })) throw invalidParam('Invalid user id');
}

export function profileEndpoints(api: UserApi): Endpoint[] {
  const read = async (userId: string) => {
    checkUserId(userId);
    const remote = api.remoteProfile && !userId.endsWith(`:${api.serverName}`);
    const p = remote ? await api.remoteProfile!(userId) : api.profile(userId);
    if (!p) throw notFound('Profile not found');
    return p;
  };
  const customParams = z.object({ userId: z.string(), keyName: z.string() });
  /** A key other than displayname and avatar_url: m.tz or a namespaced custom key. */
  const customKey = (keyName: string) => {
    if (Buffer.byteLength(keyName) > 255) throw new MatrixError(400, 'M_KEY_TOO_LARGE', 'Profile keys are at most 255 bytes');
    if (!CUSTOM_KEY.test(keyName)) throw invalidParam(`${keyName} is not a profile key: m.tz or a namespaced key like com.example.field`);
    return keyName;
  };
  /** displayname and avatar_url, with their own rules; every other key is a custom field.
   * One route per method serves both: the router cannot tell a fixed last segment from a
   * parameter in the same place. */
  const FIELDS: Record<'displayname' | 'avatar_url', z.ZodType<Record<string, string>>> = {
    displayname: z.object({ displayname: z.string().max(256) }),
    avatar_url: z.object({ avatar_url: z.string().max(1000).refine((s) => s === '' || s.startsWith('mxc://'), 'must be an mxc:// URI') }),
  };
  const fieldOf = (keyName: string) => (Object.hasOwn(FIELDS, keyName) ? (keyName as keyof typeof FIELDS) : undefined);
  return [
    route({
      method: 'GET',
      path: `${CS}/profile/:userId`,
      auth: 'optional',
      params: userParams,
      handler: async ({ params }) => {
        const p = await read(params.userId);
        // Custom fields of local users; a remote profile comes over federation as it is.
        return params.userId.endsWith(`:${api.serverName}`) ? { ...api.profileFields.fields(params.userId), ...p } : p;
      },
    }),
    route({
      method: 'GET',
      path: `${CS}/profile/:userId/:keyName`,
      auth: 'optional',
      params: customParams,
      handler: async ({ params }) => {
        const name = fieldOf(params.keyName);
        if (name) {
          const v = (await read(params.userId))[name];
          if (v === undefined) throw notFound(`No ${name} set`);
          return { [name]: v };
        }
        const key = customKey(params.keyName);
        await read(params.userId);
        const value = api.profileFields.get(params.userId, key);
        if (value === undefined) throw notFound(`No ${key} set`);
        return { [key]: value };
      },
    }),
    route({
      method: 'PUT',
      path: `${CS}/profile/:userId/:keyName`,
      auth: 'user',
      params: customParams,
      body: z.record(z.string(), z.unknown()),
      handler: async ({ params, body, requester }) => {
        checkUserId(params.userId);
        const name = fieldOf(params.keyName);
        if (name) {
          requireSelf(requester, params.userId, `set the ${name}`);
          const value = parseBody(FIELDS[name], body);
          await api.setProfileField(params.userId, name, value[name]!);
          return {};
        }
        requireSelf(requester, params.userId, 'set profile fields');
        const key = customKey(params.keyName);
        if (!Object.hasOwn(body, key)) throw missingParam(`The body needs the ${key} property`);
        const value = body[key] as JsonValue;
        if (key === 'm.tz' && typeof value !== 'string') throw badJson('m.tz must be a time zone name (a string)');
        const others = { ...api.profile(params.userId), ...api.profileFields.fields(params.userId) };
        delete (others as Record<string, unknown>)[key];
        if (Buffer.byteLength(JSON.stringify({ ...others, [key]: value })) > MAX_PROFILE_BYTES) {
          throw new MatrixError(400, 'M_PROFILE_TOO_LARGE', 'A profile is at most 64 KiB');
        }
        api.profileFields.set(params.userId, key, value);
        return {};
      },
    }),
    route({
      method: 'DELETE',
      path: `${CS}/profile/:userId/:keyName`,
      auth: 'user',
      params: customParams,
      handler: async ({ params, requester }) => {
        checkUserId(params.userId);
        const name = fieldOf(params.keyName);
        if (name) {
          requireSelf(requester, params.userId, `remove the ${name}`);
          await api.setProfileField(params.userId, name, '');
          return {};
        }
        requireSelf(requester, params.userId, 'remove profile fields');
        api.profileFields.delete(params.userId, customKey(params.keyName));
        return {};
      },
    }),
  ];
}
