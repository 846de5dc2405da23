import { z } from 'zod';
import type { JsonObject } from '../../events/types.js';
import { type Endpoint } from '../../http/index.js';
import type { UserApi } from '../index.js';
import { CS, authDict, jsonObject, route, who } from '../routes/common.js';
import { PASSWORD_FLOWS } from '../uia.js';
import type { UploadBody } from './index.js';
import { crossSigningKeySchema, deviceKeysSchema, keyMapSchema } from './validate.js';

const MAX_TIMEOUT_MS = 60_000;

const backupKeyData = z.object({
  first_message_index: z.number().int().min(0),
  forwarded_count: z.number().int().min(0),
  is_verified: z.boolean(),
  session_data: jsonObject,
});
const sessions = z.record(z.string().min(1), backupKeyData);
const versionQuery = z.object({ version: z.string() });
const backupVersionBody = z.object({ algorithm: z.string().min(1), auth_data: jsonObject, version: z.string().optional() });

/** The key server's client endpoints: keys, cross-signing, and key backup. */
export function keyEndpoints(api: UserApi): Endpoint[] {
  const keys = api.keys;
  const backup = api.keyBackup;
  return [
    route({
      method: 'POST',
      path: `${CS}/keys/upload`,
      auth: 'user',
      body: z.object({
        device_keys: deviceKeysSchema.optional(),
        one_time_keys: keyMapSchema.optional(),
        fallback_keys: keyMapSchema.optional(),
        'org.matrix.msc2732.fallback_keys': keyMapSchema.optional(),
      }),
      handler: ({ requester, body }) =>
        keys.upload(who(requester), {
          device_keys: body.device_keys as UploadBody['device_keys'],
          one_time_keys: body.one_time_keys,
          fallback_keys: body.fallback_keys ?? body['org.matrix.msc2732.fallback_keys'],
        }),
    }),
    route({
      method: 'POST',
      path: `${CS}/keys/query`,
      auth: 'user',
      body: z.object({ device_keys: z.record(z.string(), z.array(z.string())), timeout: z.number().int().min(0).optional(), token: z.string().optional() }),
      handler: ({ requester, body }) => keys.query(who(requester), body.device_keys, Math.min(body.timeout ?? 10_000, MAX_TIMEOUT_MS)),
    }),
    route({
      method: 'POST',
      path: `${CS}/keys/claim`,
      auth: 'user',
      body: z.object({ one_time_keys: z.record(z.string(), z.record(z.string(), z.string().min(1))), timeout: z.number().int().min(0).optional() }),
      handler: ({ body }) => keys.claim(body.one_time_keys, Math.min(body.timeout ?? 10_000, MAX_TIMEOUT_MS)),
    }),
    route({
      method: 'POST',
      path: `${CS}/keys/device_signing/upload`,
      auth: 'user',
      body: z.object({
        master_key: crossSigningKeySchema.optional(),
        self_signing_key: crossSigningKeySchema.optional(),
        user_signing_key: crossSigningKeySchema.optional(),
        auth: authDict,
      }),
      handler: async ({ requester, body }) => {
        const userId = who(requester).userId;
        const upload = { master: body.master_key, self_signing: body.self_signing_key, user_signing: body.user_signing_key };
        // UIA as for deleting a device, except for the first master key (as Synapse allows).
        if (keys.crossSigningNeedsAuth(userId, upload)) await api.uia.check(`device_signing:${userId}`, body.auth, PASSWORD_FLOWS, api.passwordStage(userId));
        keys.uploadCrossSigning(userId, upload);
        return {};
      },
    }),
    route({
      method: 'POST',
      path: `${CS}/keys/signatures/upload`,
      auth: 'user',
      body: z.record(z.string(), z.record(z.string(), jsonObject)),
      handler: ({ requester, body }) => keys.uploadSignatures(who(requester), body as Record<string, Record<string, JsonObject>>),
    }),
    // ---- key backup ----
    route({
      method: 'POST',
      path: `${CS}/room_keys/version`,
      auth: 'user',
      body: backupVersionBody,
      handler: ({ requester, body }) => backup.create(who(requester).userId, body.algorithm, body.auth_data),
    }),
    route({
      method: 'GET',
      path: `${CS}/room_keys/version`,
      auth: 'user',
      handler: ({ requester }) => backup.get(who(requester).userId),
    }),
    route({
      method: 'GET',
      path: `${CS}/room_keys/version/:version`,
      auth: 'user',
      params: z.object({ version: z.string() }),
      handler: ({ requester, params }) => backup.get(who(requester).userId, params.version),
    }),
    route({
      method: 'PUT',
      path: `${CS}/room_keys/version/:version`,
      auth: 'user',
      params: z.object({ version: z.string() }),
      body: backupVersionBody,
      handler: ({ requester, params, body }) => {
        backup.update(who(requester).userId, params.version, body.algorithm, body.auth_data, body.version);
        return {};
      },
    }),
    route({
      method: 'DELETE',
      path: `${CS}/room_keys/version/:version`,
      auth: 'user',
      params: z.object({ version: z.string() }),
      handler: ({ requester, params }) => {
        backup.delete(who(requester).userId, params.version);
        return {};
      },
    }),
    route({
      method: 'PUT',
      path: `${CS}/room_keys/keys`,
      auth: 'user',
      query: versionQuery,
      body: z.object({ rooms: z.record(z.string(), z.object({ sessions })) }),
      handler: ({ requester, query, body }) =>
        backup.put(who(requester).userId, query.version, Object.fromEntries(Object.entries(body.rooms).map(([room, r]) => [room, r.sessions]))),
    }),
    route({
      method: 'PUT',
      path: `${CS}/room_keys/keys/:roomId`,
      auth: 'user',
      query: versionQuery,
      params: z.object({ roomId: z.string().min(1) }),
      body: z.object({ sessions }),
      handler: ({ requester, query, params, body }) => backup.put(who(requester).userId, query.version, { [params.roomId]: body.sessions }),
    }),
    route({
      method: 'PUT',
      path: `${CS}/room_keys/keys/:roomId/:sessionId`,
      auth: 'user',
      query: versionQuery,
      params: z.object({ roomId: z.string().min(1), sessionId: z.string().min(1) }),
      body: backupKeyData,
      handler: ({ requester, query, params, body }) => backup.put(who(requester).userId, query.version, { [params.roomId]: { [params.sessionId]: body } }),
    }),
    route({
      method: 'GET',
      path: `${CS}/room_keys/keys`,
      auth: 'user',
      query: versionQuery,
      handler: ({ requester, query }) => backup.getKeys(who(requester).userId, query.version),
    }),
    route({
      method: 'GET',
      path: `${CS}/room_keys/keys/:roomId`,
      auth: 'user',
      query: versionQuery,
      params: z.object({ roomId: z.string().min(1) }),
      handler: ({ requester, query, params }) => backup.getKeys(who(requester).userId, query.version, params.roomId),
    }),
    route({
      method: 'GET',
      path: `${CS}/room_keys/keys/:roomId/:sessionId`,
      auth: 'user',
      query: versionQuery,
      params: z.object({ roomId: z.string().min(1), sessionId: z.string().min(1) }),
      handler: ({ requester, query, params }) => backup.getKeys(who(requester).userId, query.version, params.roomId, params.sessionId),
    }),
    route({
      method: 'DELETE',
      path: `${CS}/room_keys/keys`,
      auth: 'user',
      query: versionQuery,
      handler: ({ requester, query }) => backup.deleteKeys(who(requester).userId, query.version),
    }),
    route({
      method: 'DELETE',
      path: `${CS}/room_keys/keys/:roomId`,
      auth: 'user',
      query: versionQuery,
      params: z.object({ roomId: z.string().min(1) }),
      handler: ({ requester, query, params }) => backup.deleteKeys(who(requester).userId, query.version, params.roomId),
    }),
    route({
      method: 'DELETE',
      path: `${CS}/room_keys/keys/:roomId/:sessionId`,
      auth: 'user',
      query: versionQuery,
      params: z.object({ roomId: z.string().min(1), sessionId: z.string().min(1) }),
      handler: ({ requester, query, params }) => backup.deleteKeys(who(requester).userId, query.version, params.roomId, params.sessionId),
    }),
  ];
}
