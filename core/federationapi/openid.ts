import { z } from 'zod';
import { endpoint, MatrixError, type AnyEndpoint } from '../http/index.js';
import type { UserAPI } from '../userapi/api.js';

/**
 * GET /_matrix/federation/v1/openid/userinfo: whose OpenID token this is. A third party
 * (widget, integration manager) asks with the token alone, no server signature. Served over
 * libp2p with the rest of federation, and on the client listener too: a third party on the
 * web cannot reach a node's libp2p side.
 */
export function openIdUserInfoEndpoint(users: Pick<UserAPI, 'openIdUser'>): AnyEndpoint {
  return endpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/openid/userinfo',
    auth: 'none',
    query: z.object({ access_token: z.string().max(255) }),
    handler: ({ query }) => {
      const sub = users.openIdUser(query.access_token);
      if (!sub) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Access token unknown or expired');
      return { sub };
    },
  });
}
