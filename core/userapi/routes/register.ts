import { z } from 'zod';
import { MatrixError, forbidden, missingParam, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { CS, authDict, deviceIdSchema, route } from './common.js';

export const DUMMY_FLOWS = [{ stages: ['m.login.dummy'] }];
export const TOKEN_FLOWS = [{ stages: ['m.login.registration_token'] }];

const registerBody = z.object({
  auth: authDict,
  username: z.string().max(255).optional(),
  password: z.string().max(512).optional(),
  device_id: deviceIdSchema.optional(),
  initial_device_display_name: z.string().max(512).optional(),
  inhibit_login: z.boolean().optional(),
  refresh_token: z.boolean().optional(),
});

export function registerEndpoints(api: UserApi): Endpoint[] {
  return [
    route({
      method: 'POST',
      path: `${CS}/register`,
      auth: 'none',
      query: z.object({ kind: z.enum(['user', 'guest']).optional() }),
      body: registerBody,
      handler: async ({ body, query }) => {
        if (query.kind === 'guest') throw forbidden('Guest access is disabled');
        if (api.config.registration !== 'open') throw forbidden('Registration has been disabled');
        // The username is checked before auth, so clients learn early that it is taken.
        const requested = body.username === undefined ? undefined : api.validateLocalpart(body.username);
        if (requested !== undefined) api.checkAvailable(requested);
        const tokens = api.config.registrationTokens ?? [];
        await api.uia.check('register', body.auth, tokens.length > 0 ? TOKEN_FLOWS : DUMMY_FLOWS, async (stage, auth) => {
          if (stage === 'm.login.registration_token' && !(typeof auth.token === 'string' && tokens.includes(auth.token))) {
            throw new MatrixError(401, 'M_FORBIDDEN', 'Invalid registration token');
          }
        });
        if (body.password === undefined) throw missingParam('Missing body parameter: password');
        const userId = await api.createAccount(requested ?? api.generateLocalpart(), body.password);
        if (body.inhibit_login) return { user_id: userId, home_server: api.serverName };
        return api.login(userId, { deviceId: body.device_id, displayName: body.initial_device_display_name, refresh: body.refresh_token });
      },
    }),
    route({
      method: 'GET',
      path: `${CS}/register/available`,
      auth: 'none',
      query: z.object({ username: z.string() }),
      handler: ({ query }) => {
        api.checkAvailable(api.validateLocalpart(query.username));
        return { available: true };
      },
    }),
    // The spec's path is under v1; clients that predate it asked under v3.
    ...['/_matrix/client/v1', CS].map((prefix) =>
      route({
        method: 'GET',
        path: `${prefix}/register/m.login.registration_token/validity`,
        auth: 'none',
        query: z.object({ token: z.string() }),
        handler: ({ query }) => {
          if (api.config.registration !== 'open') throw new MatrixError(403, 'M_FORBIDDEN', 'Registration is not enabled');
          return { valid: (api.config.registrationTokens ?? []).includes(query.token) };
        },
      }),
    ),
  ];
}
