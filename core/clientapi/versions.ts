import { endpoint } from '../http/index.js';

/** The spec versions whose client-server API this node implements. Only versions whose
 * required endpoints are all served belong here; clients pick features from this list. */
export const SPEC_VERSIONS: readonly string[] = ['v1.1', 'v1.2', 'v1.3', 'v1.4', 'v1.5', 'v1.6', 'v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11', 'v1.12'];

export const versionsEndpoint = endpoint({
  method: 'GET',
  path: '/_matrix/client/versions',
  auth: 'optional',
  handler: () => ({ versions: [...SPEC_VERSIONS], unstable_features: {} as Record<string, boolean> }),
});
