import { endpoint, type AnyEndpoint } from '../../http/index.js';
import { roomVersionCapabilities } from '../../events/index.js';

/** Discovery: capabilities and .well-known. */
export function serverEndpoints(opts: { baseUrl: () => string | undefined }): AnyEndpoint[] {
  return [
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/capabilities',
      auth: 'user',
      handler: () => ({
        capabilities: {
          'm.room_versions': roomVersionCapabilities(),
          'm.change_password': { enabled: true },
          'm.set_displayname': { enabled: true },
          'm.set_avatar_url': { enabled: true },
          // Every field a user may set, by the spec's key grammar (v1.16).
          'm.profile_fields': { enabled: true },
          'm.3pid_changes': { enabled: false },
          'm.get_login_token': { enabled: false },
        },
      }),
    }),
    endpoint({
      method: 'GET',
      path: '/.well-known/matrix/client',
      auth: 'none',
      handler: () => {
        const base = opts.baseUrl();
        return base ? { 'm.homeserver': { base_url: base } } : {};
      },
    }),
  ];
}
