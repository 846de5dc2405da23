import { z } from 'zod';
import { forbidden, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { PASSWORD_FLOWS } from '../uia.js';
import { CS, authDict, route, who } from './common.js';

export function accountEndpoints(api: UserApi): Endpoint[] {
  return [
    route({
      method: 'POST',
      path: `${CS}/user/:userId/openid/request_token`,
      auth: 'user',
      rateLimited: true,
      params: z.object({ userId: z.string() }),
      // The spec's body is an empty object; anything in it is ignored.
      body: z.object({}).passthrough(),
      handler: ({ params, requester }) => {
        const r = who(requester);
        if (params.userId !== r.userId) throw forbidden('Cannot request an OpenID token for another user');
        const { token, expiresIn } = api.requestOpenIdToken(r.userId);
        return { access_token: token, token_type: 'Bearer', matrix_server_name: api.serverName, expires_in: expiresIn };
      },
    }),
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
