import { z } from 'zod';
import { parseUserId } from '../../events/ids.js';
import { invalidParam, notFound, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { CS, requireSelf, route } from './common.js';

const userParams = z.object({ userId: z.string() });

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
  const field = (name: 'displayname' | 'avatar_url', value: z.ZodType<string>): Endpoint[] => [
    route({
      method: 'GET',
      path: `${CS}/profile/:userId/${name}`,
      auth: 'optional',
      params: userParams,
      handler: async ({ params }) => {
        const v = (await read(params.userId))[name];
        if (v === undefined) throw notFound(`No ${name} set`);
        return { [name]: v };
      },
    }),
    route({
      method: 'PUT',
      path: `${CS}/profile/:userId/${name}`,
      auth: 'user',
      params: userParams,
      body: z.object({ [name]: value }),
      handler: async ({ params, body, requester }) => {
        checkUserId(params.userId);
        requireSelf(requester, params.userId, `set the ${name}`);
        await api.setProfileField(params.userId, name, (body as Record<string, string>)[name]!);
        return {};
      },
    }),
  ];
  return [
    route({
      method: 'GET',
      path: `${CS}/profile/:userId`,
      auth: 'optional',
      params: userParams,
      handler: ({ params }) => read(params.userId),
    }),
    ...field('displayname', z.string().max(256)),
    ...field('avatar_url', z.string().max(1000).refine((s) => s === '' || s.startsWith('mxc://'), 'must be an mxc:// URI')),
  ];
}
