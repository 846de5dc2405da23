// Node 20 lacks Promise.withResolvers, which matrix-js-sdk's crypto uses: polyfill first.
import '../../p2p/polyfill.js';
import { ClientEvent, MatrixEvent, createClient, type MatrixClient } from 'matrix-js-sdk';
import { logger as sdkLogger } from 'matrix-js-sdk/lib/logger.js';

/** matrix-js-sdk clients with Rust crypto, for the end-to-end encryption tests. */

/** The SDK logs every request; loglevel underneath takes a level. */
export function quietSdk(): void {
  (sdkLogger as unknown as { setLevel(level: string): void }).setLevel('silent');
}

/** The password the E2EE tests register `username` with. */
export const sdkPassword = (username: string) => `pw-${username}`;

/** Logs in with a password, starts Rust crypto (in memory) and syncs until prepared. */
export async function loginWithCrypto(url: string, username: string, clients: MatrixClient[]): Promise<MatrixClient> {
  const anon = createClient({ baseUrl: url });
  const res = await anon.loginRequest({ type: 'm.login.password', identifier: { type: 'm.id.user', user: username }, password: sdkPassword(username) });
  const client = createClient({ baseUrl: url, userId: res.user_id, accessToken: res.access_token, deviceId: res.device_id });
  clients.push(client);
  await client.initRustCrypto({ useIndexedDB: false });
  await new Promise<void>((resolve, reject) => {
    client.on(ClientEvent.Sync, (state) => {
      if (state === 'PREPARED') resolve();
      if (state === 'ERROR') reject(new Error('sync error'));
    });
    void client.startClient({ initialSyncLimit: 20 });
  });
  return client;
}

export function waitFor(predicate: () => boolean, what: string, ms = 30_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > ms) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 25);
    };
    tick();
  });
}

/** Bodies of the decrypted messages a client holds for a room. */
export function decrypted(client: MatrixClient, roomId: string): string[] {
  const room = client.getRoom(roomId);
  if (!room) return [];
  return room
    .getLiveTimeline()
    .getEvents()
    .filter((e: MatrixEvent) => e.isEncrypted() && !e.isDecryptionFailure() && e.getType() === 'm.room.message')
    .map((e: MatrixEvent) => e.getContent().body as string);
}
