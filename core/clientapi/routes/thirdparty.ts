import { z } from 'zod';
import { endpoint, type AnyEndpoint } from '../../http/index.js';
import { notFound } from '../../http/errors.js';

const protocol = z.object({ protocol: z.string().min(1).max(255) });

/**
 * Third-party lookup: third-party networks come from bridges (application services), and
 * this node has none. So: no protocols, nothing found for a protocol, and empty reverse
 * lookups, in the shapes the spec gives for those answers.
 */
export function thirdPartyEndpoints(): AnyEndpoint[] {
  const none = (what: string) => () => {
    throw notFound(`No ${what}: this server bridges no third-party networks`);
  };
  return [
    endpoint({ method: 'GET', path: '/_matrix/client/v3/thirdparty/protocols', auth: 'user', handler: () => ({}) }),
    endpoint({ method: 'GET', path: '/_matrix/client/v3/thirdparty/protocol/:protocol', auth: 'user', params: protocol, handler: none('such protocol') }),
    endpoint({ method: 'GET', path: '/_matrix/client/v3/thirdparty/location/:protocol', auth: 'user', params: protocol, handler: none('portal rooms') }),
    endpoint({ method: 'GET', path: '/_matrix/client/v3/thirdparty/user/:protocol', auth: 'user', params: protocol, handler: none('third-party users') }),
    endpoint({ method: 'GET', path: '/_matrix/client/v3/thirdparty/location', auth: 'user', query: z.object({ alias: z.string() }), handler: () => [] }),
    endpoint({ method: 'GET', path: '/_matrix/client/v3/thirdparty/user', auth: 'user', query: z.object({ userid: z.string() }), handler: () => [] }),
  ];
}
