import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, type RegisteredUser as User, startWithUsers } from '../test/node.js';
import { expectMatchesSpec, specMissing } from '../test/openapi.js';
import { OPENID_TOKEN_SECONDS, OpenIdTokens } from './openid.js';

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;

beforeAll(async () => {
  let users: User[];
  ({ node, url, users } = await startWithUsers(['alice', 'bob']));
  [alice, bob] = users as [User, User];
});
afterAll(async () => {
  await node.stop();
});

const userinfo = (token: string) => fetch(`${url}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token)}`);

describe('OpenID', () => {
  it('a user gets a token for themselves that a third party resolves to them, on the client listener and over federation', async () => {
    const r = await clientCall(url, 'POST', `/user/${encodeURIComponent(alice.user_id)}/openid/request_token`, alice.access_token, {});
    expect(r.status).toBe(200);
    if (!specMissing) expectMatchesSpec('post', '/user/{userId}/openid/request_token', 200, r.body);
    expect(r.body).toMatchObject({ token_type: 'Bearer', matrix_server_name: node.serverName, expires_in: OPENID_TOKEN_SECONDS });
    const res = await userinfo(r.body.access_token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: alice.user_id });
    // The same route in the federation app, as a peer reaches it over libp2p.
    const viaFederation = await node.federation.handle(
      new Request(`http://axon/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(r.body.access_token)}`),
      { serverName: 'aa'.repeat(32) },
    );
    expect(await viaFederation.json()).toEqual({ sub: alice.user_id });
    // The OpenID token is not an access token.
    expect((await clientCall(url, 'GET', '/account/whoami', r.body.access_token)).status).toBe(401);
  });

  it('refuses a token for someone else, an unknown token and a missing one', async () => {
    const other = await clientCall(url, 'POST', `/user/${encodeURIComponent(bob.user_id)}/openid/request_token`, alice.access_token, {});
    expect(other.status).toBe(403);
    expect(other.body.errcode).toBe('M_FORBIDDEN');
    const unknown = await userinfo('nope');
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { errcode: string }).errcode).toBe('M_UNKNOWN_TOKEN');
    expect(((await (await fetch(`${url}/_matrix/federation/v1/openid/userinfo`)).json()) as { errcode: string }).errcode).toBe('M_MISSING_PARAM');
    // An access token is not an OpenID token either.
    expect((await userinfo(alice.access_token)).status).toBe(401);
  });

  it('a token lasts an hour', () => {
    const tokens = new OpenIdTokens(node.db);
    const now = Date.now();
    const { token } = tokens.create('@carol:x', now);
    expect(tokens.userOf(token, now + OPENID_TOKEN_SECONDS * 1000 - 1)).toBe('@carol:x');
    expect(tokens.userOf(token, now + OPENID_TOKEN_SECONDS * 1000)).toBeUndefined();
  });
});
