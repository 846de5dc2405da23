import { z } from 'zod';
import type { Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { PASSWORD_FLOWS } from '../uia.js';
import { CS, authDict, route, who } from './common.js';

export function accountEndpoints(api: UserApi): Endpoint[] {
  return [
    route({
      method: 'POST',
      path: `${CS}/account/password`,
      auth: 'user',
      body: z.object({ auth: authDict, new_password: z.string().min(1).max(512), logout_devices: z.boolean().optional() }),
      handler: async ({ body, requester }) => {
        const r = who(requester);
        await api.uia.check(`password:${r.userId}`, body.auth, PASSWORD_FLOWS, api.passwordStage(r.userId));
        await api.changePassword(r.userId, body.new_password, body.logout_devices ?? true, r.deviceId);
        return {};
      },
    }),
    route({
      method: 'POST',
      path: `${CS}/account/deactivate`,
      auth: 'user',
      body: z.object({ auth: authDict, id_server: z.string().optional(), erase: z.boolean().optional() }),
      handler: async ({ body, requester }) => {
        const r = who(requester);
        await api.uia.check(`deactivate:${r.userId}`, body.auth, PASSWORD_FLOWS, api.passwordStage(r.userId));
        await api.deactivate(r.userId);
        // No identity servers are used, so there is nothing to unbind.
        return { id_server_unbind_result: 'no-support' };
      },
    }),
  ];
}
