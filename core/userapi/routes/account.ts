import { z } from 'zod';
import { MatrixError, forbidden, type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { PASSWORD_FLOWS } from '../uia.js';
import { CS, authDict, route, who } from './common.js';

/** Third-party identifiers: this server validates none (no email or SMS sending; the
 * `m.3pid_changes` capability says so), so an account has none, and asking to validate one
 * gets the spec's answer for an unsupported medium. */
function threePidEndpoints(): Endpoint[] {
  const unsupported = (medium: string) => () => {
    throw new MatrixError(400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', `This server does not validate ${medium}`);
  };
  const requestToken = z.object({ client_secret: z.string().min(1).max(255), send_attempt: z.number().int() }).passthrough();
  return [
    route({ method: 'GET', path: `${CS}/account/3pid`, auth: 'user', handler: () => ({ threepids: [] }) }),
    ...(['register', 'account/3pid', 'account/password'] as const).flatMap((prefix) => [
      route({ method: 'POST', path: `${CS}/${prefix}/email/requestToken`, auth: prefix === 'account/3pid' ? 'user' : 'none', body: requestToken, handler: unsupported('email addresses') }),
      route({ method: 'POST', path: `${CS}/${prefix}/msisdn/requestToken`, auth: prefix === 'account/3pid' ? 'user' : 'none', body: requestToken, handler: unsupported('phone numbers') }),
    ]),
  ];
}

export function accountEndpoints(api: UserApi): Endpoint[] {
  return [
    ...threePidEndpoints(),
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
