import { z } from 'zod';
import type { JsonObject } from '../../events/types.js';
import { endpoint, invalidParam, missingParam, type AnyEndpoint } from '../../http/index.js';
import type { Notifications } from '../notifications.js';
import type { PusherRow } from '../notifstore.js';

const NOTIFY_PATH = '/_matrix/push/v1/notify';

const setBody = z.object({
  pushkey: z.string().min(1).max(512),
  // Checked by hand: a missing kind is M_MISSING_PARAM, null deletes.
  kind: z.enum(['http', 'email']).nullable().optional(),
  app_id: z.string().min(1).max(64),
  app_display_name: z.string().optional(),
  device_display_name: z.string().optional(),
  profile_tag: z.string().max(256).optional(),
  lang: z.string().max(64).optional(),
  data: z.looseObject({ url: z.string().optional(), format: z.literal('event_id_only').optional() }).optional(),
  append: z.boolean().optional(),
});

/** An http pusher's url: absolute http(s), at the push gateway's notify path. */
function checkUrl(url: string | undefined): void {
  if (url === undefined) throw missingParam('data.url is required for http pushers');
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw invalidParam('data.url must be a URL');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw invalidParam('data.url must be an http or https URL');
  if (u.pathname !== NOTIFY_PATH) throw invalidParam(`data.url must end in ${NOTIFY_PATH}`);
}

function pusherJson(p: PusherRow): JsonObject {
  const out: JsonObject = {
    pushkey: p.pushkey,
    kind: p.kind,
    app_id: p.app_id,
    app_display_name: p.app_display_name,
    device_display_name: p.device_display_name,
    lang: p.lang,
    data: JSON.parse(p.data) as JsonObject,
  };
  if (p.profile_tag !== null) out.profile_tag = p.profile_tag;
  return out;
}

/** GET /pushers and POST /pushers/set. */
export function pusherEndpoints(notifications: Notifications): AnyEndpoint[] {
  const store = notifications.store;
  return [
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/pushers',
      auth: 'user',
      handler: ({ requester }) => ({ pushers: store.pushers(requester!.userId).map(pusherJson) }),
    }),
    endpoint({
      method: 'POST',
      path: '/_matrix/client/v3/pushers/set',
      auth: 'user',
      rateLimited: true,
      body: setBody,
      handler: ({ body, requester }) => {
        const userId = requester!.userId;
        if (body.kind === undefined) throw missingParam('Missing parameters: kind');
        if (body.kind === null) {
          // Deleting a pusher that does not exist is not an error.
          store.deletePusher(userId, body.app_id, body.pushkey);
          notifications.delivery.drop({ userId, appId: body.app_id, pushkey: body.pushkey });
          return {};
        }
        const missing = (['app_display_name', 'device_display_name', 'lang', 'data'] as const).filter((k) => body[k] === undefined);
        if (missing.length > 0) throw missingParam(`Missing parameters: ${missing.join(', ')}`);
        const data = body.data!;
        if (body.kind === 'http') checkUrl(data.url);
        store.raw.transaction(() => {
          const old = store.pusher(userId, body.app_id, body.pushkey);
          store.upsertPusher({
            user_id: userId,
            app_id: body.app_id,
            pushkey: body.pushkey,
            kind: body.kind!,
            app_display_name: body.app_display_name!,
            device_display_name: body.device_display_name!,
            profile_tag: body.profile_tag ?? null,
            lang: body.lang!,
            data: JSON.stringify(data),
            pushkey_ts: old?.pushkey_ts ?? Math.floor(Date.now() / 1000),
          });
          if (body.append !== true) store.deleteOthersPushers(userId, body.app_id, body.pushkey);
        })();
        return {};
      },
    }),
  ];
}
