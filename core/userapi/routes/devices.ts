import { z } from 'zod';
import { forbidden, notFound, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { PASSWORD_FLOWS } from '../uia.js';
import { CS, authDict, deviceIdSchema, optionalBody, route, who } from './common.js';

const deviceParams = z.object({ deviceId: deviceIdSchema });

export function deviceEndpoints(api: UserApi): Endpoint[] {
  return [
    route({
      method: 'GET',
      path: `${CS}/admin/whois/:userId`,
      auth: 'user',
      params: z.object({ userId: z.string().max(255) }),
      handler: ({ requester, params }) => {
        const r = who(requester);
        // The spec lets servers limit this to the user and the server's admins.
        if (params.userId !== r.userId && !r.isAdmin) throw forbidden('Only the user and server admins may look this up');
        if (!api.accountExists(params.userId)) throw notFound('Unknown user');
        return api.whois(params.userId);
      },
    }),
    route({
      method: 'GET',
      path: `${CS}/devices`,
      auth: 'user',
      handler: ({ requester }) => ({ devices: api.devices(who(requester).userId) }),
    }),
    route({
      method: 'GET',
      path: `${CS}/devices/:deviceId`,
      auth: 'user',
      params: deviceParams,
      handler: ({ requester, params }) => {
        const d = api.device(who(requester).userId, params.deviceId);
        if (!d) throw notFound('Unknown device');
        return d;
      },
    }),
    route({
      method: 'PUT',
      path: `${CS}/devices/:deviceId`,
      auth: 'user',
      params: deviceParams,
      body: z.object({ display_name: z.string().max(512).optional() }),
      handler: ({ requester, params, body }) => {
        const userId = who(requester).userId;
        if (!api.device(userId, params.deviceId)) throw notFound('Unknown device');
        if (body.display_name !== undefined) api.storage.setDeviceName(userId, params.deviceId, body.display_name);
        return {};
      },
    }),
    route({
      method: 'DELETE',
      path: `${CS}/devices/:deviceId`,
      auth: 'user',
      params: deviceParams,
      handler: async ({ requester, params, c }) => {
        const body = await optionalBody(c.req.raw, z.object({ auth: authDict }));
        const userId = who(requester).userId;
        if (!api.device(userId, params.deviceId)) throw notFound('Unknown device');
        await api.uia.check(`delete_device:${userId}`, body.auth, PASSWORD_FLOWS, api.passwordStage(userId));
        api.deleteDevices(userId, [params.deviceId]);
        return {};
      },
    }),
    route({
      method: 'POST',
      path: `${CS}/delete_devices`,
      auth: 'user',
      body: z.object({ devices: z.array(deviceIdSchema).max(1000), auth: authDict }),
      handler: async ({ requester, body }) => {
        const userId = who(requester).userId;
        await api.uia.check(`delete_devices:${userId}`, body.auth, PASSWORD_FLOWS, api.passwordStage(userId));
        api.deleteDevices(userId, body.devices);
        return {};
      },
    }),
  ];
}
