import { z } from 'zod';
import { parseRoomId } from '../../events/ids.js';
import type { JsonObject } from '../../events/types.js';
import { MatrixError, invalidParam, notFound, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { CS, jsonObject, requireSelf, route, userIdParam } from './common.js';

// Types the server maintains itself; clients change them through their own endpoints.
const SERVER_MANAGED = new Set(['m.fully_read', 'm.push_rules']);

const typeSchema = z.string().min(1).max(255);
const globalParams = z.object({ userId: userIdParam, type: typeSchema });
const roomParams = z.object({ userId: userIdParam, roomId: z.string(), type: typeSchema });
const tagsParams = z.object({ userId: userIdParam, roomId: z.string() });
const tagParams = z.object({ userId: userIdParam, roomId: z.string(), tag: z.string().min(1).max(255) });

function checkRoom(roomId: string): string {
  if (!parseRoomId(roomId)) throw invalidParam('The given roomId is invalid');
  return roomId;
}

function checkWritable(type: string): void {
  if (SERVER_MANAGED.has(type)) throw new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API.`);
}

function tagsOf(content: JsonObject | undefined): JsonObject {
  const t = content?.tags;
  return t !== null && typeof t === 'object' && !Array.isArray(t) ? { ...t } : {};
}

export function accountDataEndpoints(api: UserApi): Endpoint[] {
  const get = (userId: string, roomId: string | undefined, type: string) => {
    const v = api.accountData(userId, roomId, type);
    if (v === undefined) throw notFound('Account data not found');
    return v;
  };
  return [
    route({
      method: 'GET',
      path: `${CS}/user/:userId/account_data/:type`,
      auth: 'user',
      params: globalParams,
      handler: ({ params, requester }) => {
        requireSelf(requester, params.userId, 'get account data');
        return get(params.userId, undefined, params.type);
      },
    }),
    route({
      method: 'PUT',
      path: `${CS}/user/:userId/account_data/:type`,
      auth: 'user',
      params: globalParams,
      body: jsonObject,
      handler: ({ params, requester, body }) => {
        requireSelf(requester, params.userId, 'add account data');
        checkWritable(params.type);
        api.putAccountData(params.userId, undefined, params.type, body);
        return {};
      },
    }),
    route({
      method: 'GET',
      path: `${CS}/user/:userId/rooms/:roomId/account_data/:type`,
      auth: 'user',
      params: roomParams,
      handler: ({ params, requester }) => {
        requireSelf(requester, params.userId, 'get account data');
        return get(params.userId, checkRoom(params.roomId), params.type);
      },
    }),
    route({
      method: 'PUT',
      path: `${CS}/user/:userId/rooms/:roomId/account_data/:type`,
      auth: 'user',
      params: roomParams,
      body: jsonObject,
      handler: ({ params, requester, body }) => {
        requireSelf(requester, params.userId, 'add account data');
        const roomId = checkRoom(params.roomId);
        checkWritable(params.type);
        api.putAccountData(params.userId, roomId, params.type, body);
        return {};
      },
    }),
    route({
      method: 'GET',
      path: `${CS}/user/:userId/rooms/:roomId/tags`,
      auth: 'user',
      params: tagsParams,
      handler: ({ params, requester }) => {
        requireSelf(requester, params.userId, 'get tags');
        return { tags: tagsOf(api.accountData(params.userId, checkRoom(params.roomId), 'm.tag')) };
      },
    }),
    route({
      method: 'PUT',
      path: `${CS}/user/:userId/rooms/:roomId/tags/:tag`,
      auth: 'user',
      params: tagParams,
      body: z.object({ order: z.number().min(0).max(1).optional() }).passthrough(),
      handler: ({ params, requester, body }) => {
        requireSelf(requester, params.userId, 'add tags');
        const roomId = checkRoom(params.roomId);
        const tag: JsonObject = body.order === undefined ? {} : { order: body.order };
        api.updateAccountData(params.userId, roomId, 'm.tag', (old) => ({ tags: { ...tagsOf(old), [params.tag]: tag } }));
        return {};
      },
    }),
    route({
      method: 'DELETE',
      path: `${CS}/user/:userId/rooms/:roomId/tags/:tag`,
      auth: 'user',
      params: tagParams,
      handler: ({ params, requester }) => {
        requireSelf(requester, params.userId, 'remove tags');
        const roomId = checkRoom(params.roomId);
        const tags = tagsOf(api.accountData(params.userId, roomId, 'm.tag'));
        if (params.tag in tags) {
          api.updateAccountData(params.userId, roomId, 'm.tag', (old) => {
            const t = tagsOf(old);
            delete t[params.tag];
            return { tags: t };
          });
        }
        return {};
      },
    }),
  ];
}
