import { z } from 'zod';
import { domainOf } from '../events/index.js';
import type { JsonObject } from '../events/types.js';
import { endpoint, invalidParam, notFound, type AnyEndpoint } from '../http/index.js';
import type { LogMessage } from '../log/index.js';
import type { FederationToDeviceAPI, ToDeviceOutput } from '../todevice/api.js';
import type { DeviceListUpdate, FederationKeysAPI, KeyChangeOutput, RemoteKeysAPI, SigningKeyUpdate } from '../userapi/keys/api.js';
import type { FederationClient } from './client.js';
import type { FederationSender } from './sender.js';

/** What federation needs of the key server. */
export interface FederationKeyServer extends FederationKeysAPI {
  remote: RemoteKeysAPI;
  previousChange(userId: string, id: number): number | undefined;
}

const F = '/_matrix/federation/v1';
const keyQueryBody = z.object({ device_keys: z.record(z.string(), z.array(z.string()).max(1000)) });
const keyClaimBody = z.object({ one_time_keys: z.record(z.string(), z.record(z.string(), z.string())) });

/** The server-server key routes: devices of a local user, key queries and claims. */
export function keyEndpoints(serverName: string, keys: FederationKeyServer, accountExists: (userId: string) => boolean): AnyEndpoint[] {
  const localOnly = <T>(m: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(m).filter(([u]) => domainOf(u) === serverName));
  return [
    endpoint({
      method: 'GET',
      path: `${F}/user/devices/:userId`,
      auth: 'server',
      handler: ({ params }) => {
        if (domainOf(params.userId) !== serverName) throw invalidParam('Not a user of this server');
        if (!accountExists(params.userId)) throw notFound('Unknown user');
        return { user_id: params.userId, ...keys.userDevices(params.userId) };
      },
    }),
    endpoint({
      method: 'POST',
      path: `${F}/user/keys/query`,
      auth: 'server',
      body: keyQueryBody,
      handler: ({ body }) => keys.queryLocalKeys(localOnly(body.device_keys)),
    }),
    endpoint({
      method: 'POST',
      path: `${F}/user/keys/claim`,
      auth: 'server',
      body: keyClaimBody,
      handler: ({ body }) => ({ one_time_keys: keys.claimLocalKeys(localOnly(body.one_time_keys)) }),
    }),
  ];
}

/** Outbound key queries and claims, through the federation client. */
export function remoteKeys(client: FederationClient): RemoteKeysAPI {
  return {
    queryKeys: (server, deviceKeys, timeoutMs) => client.request(server, 'POST', `${F}/user/keys/query`, { body: { device_keys: deviceKeys }, timeoutMs }),
    claimKeys: (server, oneTimeKeys, timeoutMs) => client.request(server, 'POST', `${F}/user/keys/claim`, { body: { one_time_keys: oneTimeKeys }, timeoutMs }),
  };
}

/** `key-change` entries of local users → `m.device_list_update` / `m.signing_key_update`
 * EDUs to every server that shares a room with the user. */
export function keyChangeEdus(
  serverName: string,
  keys: FederationKeyServer,
  serversSharingWith: (userId: string) => string[],
  sender: FederationSender,
  m: LogMessage<KeyChangeOutput>,
  kick: Set<string>,
): void {
  const c = m.value;
  if (c.remote || domainOf(c.userId) !== serverName) return;
  const dests = serversSharingWith(c.userId);
  if (dests.length === 0) return;
  const q = keys.queryLocalKeys({ [c.userId]: c.deviceId ? [c.deviceId] : [] }) as Record<string, Record<string, JsonObject>>;
  if (c.kind === 'signing') {
    const edu: SigningKeyUpdate = { user_id: c.userId };
    const master = q.master_keys?.[c.userId];
    const self = q.self_signing_keys?.[c.userId];
    if (master) edu.master_key = master;
    if (self) edu.self_signing_key = self;
    for (const d of sender.enqueueEdu(dests, 'm.signing_key_update', edu as unknown as JsonObject)) kick.add(d);
    return;
  }
  if (!c.deviceId) return;
  const prev = keys.previousChange(c.userId, m.offset);
  const edu: DeviceListUpdate = { user_id: c.userId, device_id: c.deviceId, stream_id: m.offset, prev_id: prev === undefined ? [] : [prev] };
  const deviceKeys = (q.device_keys?.[c.userId] as Record<string, JsonObject> | undefined)?.[c.deviceId];
  if (c.deleted || !deviceKeys) edu.deleted = c.deleted === true;
  if (deviceKeys && !c.deleted) {
    const { unsigned, ...k } = deviceKeys;
    edu.keys = k;
    const name = (unsigned as JsonObject | undefined)?.device_display_name;
    if (typeof name === 'string') edu.device_display_name = name;
  }
  for (const d of sender.enqueueEdu(dests, 'm.device_list_update', edu as unknown as JsonObject)) kick.add(d);
}

/** `to-device` entries for remote recipients → one `m.direct_to_device` EDU per send and
 * destination. */
export function toDeviceEdus(msgs: LogMessage<ToDeviceOutput>[], sender: FederationSender, kick: Set<string>): void {
  const bySend = new Map<string, { sender: string; type: string; message_id: string; byServer: Map<string, Record<string, Record<string, JsonObject>>> }>();
  for (const { value: t } of msgs) {
    if (!t.remote) continue;
    let s = bySend.get(t.messageId);
    if (!s) bySend.set(t.messageId, (s = { sender: t.sender, type: t.type, message_id: t.messageId, byServer: new Map() }));
    const server = domainOf(t.userId);
    const messages = s.byServer.get(server) ?? {};
    (messages[t.userId] ??= {})[t.deviceId] = t.content;
    s.byServer.set(server, messages);
  }
  for (const s of bySend.values()) {
    for (const [server, messages] of s.byServer) {
      for (const d of sender.enqueueEdu([server], 'm.direct_to_device', { sender: s.sender, type: s.type, message_id: s.message_id, messages })) kick.add(d);
    }
  }
}

/** The inbound EDU handlers for keys and to-device messages. */
export function e2eeEduHandlers(keys: FederationKeyServer, toDevice: FederationToDeviceAPI) {
  const str = (v: unknown) => typeof v === 'string';
  return {
    'm.device_list_update': (origin: string, c: JsonObject) => {
      if (!str(c.user_id) || !str(c.device_id) || typeof c.stream_id !== 'number') return;
      keys.receiveDeviceListUpdate(origin, c as unknown as DeviceListUpdate);
    },
    'm.signing_key_update': (origin: string, c: JsonObject) => {
      if (!str(c.user_id)) return;
      keys.receiveSigningKeyUpdate(origin, c as unknown as SigningKeyUpdate);
    },
    'm.direct_to_device': (origin: string, c: JsonObject) => {
      if (!str(c.sender) || !str(c.type) || !str(c.message_id) || typeof c.messages !== 'object' || c.messages === null) return;
      if (domainOf(c.sender as string) !== origin) return;
      toDevice.receive(origin, c as unknown as Parameters<FederationToDeviceAPI['receive']>[1]);
    },
  };
}
