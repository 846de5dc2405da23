import { z } from 'zod';
import { MatrixError, forbidden, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { route } from './common.js';

const PATH = '/_synapse/admin/v1/register';

function secretOf(api: UserApi): string {
  const s = api.config.registrationSharedSecret;
  if (!s) throw new MatrixError(400, 'M_UNKNOWN', 'Shared secret registration is not enabled');
  return s;
}

/** Synapse's shared-secret registration, which admin tools (register_new_matrix_user) use. */
export function adminEndpoints(api: UserApi): Endpoint[] {
  return [
    route({
      method: 'GET',
      path: PATH,
      auth: 'none',
      handler: () => {
        secretOf(api);
        return { nonce: api.newNonce() };
      },
    }),
    route({
      method: 'POST',
      path: PATH,
      auth: 'none',
      body: z.object({
        nonce: z.string(),
        username: z.string().max(255),
        password: z.string().max(512),
        mac: z.string(),
        admin: z.boolean().optional(),
        displayname: z.string().max(256).optional(),
        user_type: z.string().nullable().optional(),
      }),
      handler: async ({ body }) => {
        const secret = secretOf(api);
        if (!api.takeNonce(body.nonce)) throw new MatrixError(400, 'M_UNKNOWN', 'Unrecognised nonce');
        const admin = body.admin ?? false;
        if (!api.checkMac(secret, body.nonce, body.username, body.password, admin, body.mac)) throw forbidden('HMAC incorrect');
        const localpart = api.validateLocalpart(body.username);
        const userId = await api.createAccount(localpart, body.password, { admin, displayname: body.displayname });
        const r = api.login(userId, {});
        return { user_id: r.user_id, access_token: r.access_token, device_id: r.device_id, home_server: r.home_server };
      },
    }),
  ];
}
