import { createHmac } from 'node:crypto';
import type { TurnConfig } from '../../config.js';
import { endpoint, type AnyEndpoint } from '../../http/index.js';
import type { ClientApiDeps } from '../deps.js';

/** TURN credentials for `userId` valid for the configured time: with a shared secret, the
 * TURN REST scheme (username `expiry:user`, password the base64 HMAC-SHA1 of it under the
 * secret) that coturn's use-auth-secret checks. */
export function turnCredentials(turn: TurnConfig, userId: string, now = Date.now()): { username: string; password: string; uris: string[]; ttl: number } {
  if (turn.sharedSecret === undefined) return { username: turn.username!, password: turn.password!, uris: turn.uris, ttl: turn.ttlSeconds };
  const username = `${Math.floor(now / 1000) + turn.ttlSeconds}:${userId}`;
  const password = createHmac('sha1', turn.sharedSecret).update(username).digest('base64');
  return { username, password, uris: turn.uris, ttl: turn.ttlSeconds };
}

/** GET /voip/turnServer. Without TURN configured the answer is `{}`, as Synapse and
 * Dendrite give: the spec defines no answer for that case, and an empty `uris` list would
 * reach browsers' RTCPeerConnection (through matrix-js-sdk), which refuses it. */
export function voipEndpoints(deps: ClientApiDeps): AnyEndpoint[] {
  return [
    endpoint({
      method: 'GET',
      path: '/_matrix/client/v3/voip/turnServer',
      auth: 'user',
      rateLimited: true,
      handler: ({ requester }) => (deps.turn ? turnCredentials(deps.turn, requester!.userId) : {}),
    }),
  ];
}
