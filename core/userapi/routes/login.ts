import { z } from 'zod';
import { MatrixError, forbidden, missingParam, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { CS, deviceIdSchema, route, who } from './common.js';

const loginBody = z.object({
  type: z.string(),
  identifier: z.object({ type: z.string(), user: z.string().optional() }).passthrough().optional(),
  user: z.string().optional(),
  password: z.string().max(512).optional(),
  token: z.string().max(512).optional(),
  device_id: deviceIdSchema.optional(),
  initial_device_display_name: z.string().max(512).optional(),
  refresh_token: z.boolean().optional(),
});

export function loginEndpoints(api: UserApi): Endpoint[] {
  return [
    route({
      method: 'GET',
      path: `${CS}/login`,
      auth: 'none',
      handler: () => ({ flows: [{ type: 'm.login.password' }, { type: 'm.login.token' }] }),
    }),
    route({
      method: 'POST',
      path: `${CS}/login`,
      auth: 'none',
      body: loginBody,
      handler: async ({ body }) => {
        if (body.type === 'm.login.token') {
          if (body.token === undefined) throw missingParam('Missing body parameter: token');
          const tokenUser = api.loginTokens.consume(body.token);
          if (tokenUser === undefined || api.isDeactivated(tokenUser)) throw forbidden('Invalid or expired login token');
          return api.login(tokenUser, { deviceId: body.device_id, displayName: body.initial_device_display_name, refresh: body.refresh_token });
        }
        if (body.type !== 'm.login.password') throw new MatrixError(400, 'M_UNKNOWN', `Unknown login type ${body.type}`);
        if (body.identifier && body.identifier.type !== 'm.id.user') throw new MatrixError(400, 'M_UNKNOWN', `Unknown identifier type ${body.identifier.type}`);
        const user = body.identifier?.user ?? body.user;
        if (user === undefined) throw missingParam('Missing body parameter: identifier.user');
        if (body.password === undefined) throw missingParam('Missing body parameter: password');
        const userId = api.resolveUser(user);
        if (userId === undefined || !(await api.checkPassword(userId, body.password))) throw forbidden('Invalid username or password');
        return api.login(userId, { deviceId: body.device_id, displayName: body.initial_device_display_name, refresh: body.refresh_token });
      },
    }),
    route({
      method: 'POST',
      path: `${CS}/refresh`,
      auth: 'none',
      body: z.object({ refresh_token: z.string() }),
      handler: ({ body }) => api.refresh(body.refresh_token),
    }),
    route({
      method: 'POST',
      path: `${CS}/logout`,
      auth: 'user',
      handler: ({ requester }) => {
        api.logout(who(requester));
        return {};
      },
    }),
    route({
      method: 'POST',
      path: `${CS}/logout/all`,
      auth: 'user',
      handler: ({ requester }) => {
        api.logoutAll(who(requester).userId);
        return {};
      },
    }),
    route({
      method: 'GET',
      path: `${CS}/account/whoami`,
      auth: 'user',
      handler: ({ requester }) => {
        const r = who(requester);
        return { user_id: r.userId, device_id: r.deviceId, is_guest: false };
      },
    }),
  ];
}
