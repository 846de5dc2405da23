import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../../node.js';
import { clientCall, registerUser, startTestNode } from '../../test/node.js';
import { expectMatchesSpec, specMissing } from '../../test/openapi.js';

let node: AxonNode;
let url: string;
let token: string;

beforeAll(async () => {
  ({ node, url } = await startTestNode());
  token = (await registerUser(url, 'alice')).access_token;
});
afterAll(async () => {
  await node.stop();
});

describe('third-party identifiers on a server that validates none', () => {
  it('an account has none, and the capability says they cannot be changed', async () => {
    const r = await clientCall(url, 'GET', '/account/3pid', token);
    expect(r).toEqual({ status: 200, body: { threepids: [] } });
    if (!specMissing) expectMatchesSpec('get', '/account/3pid', 200, r.body);
    expect((await clientCall(url, 'GET', '/capabilities', token)).body.capabilities['m.3pid_changes']).toEqual({ enabled: false });
    expect((await clientCall(url, 'GET', '/account/3pid', 'nope')).status).toBe(401);
  });

  it('asking to validate an email address or a phone number is refused as an unsupported medium', async () => {
    const email = { client_secret: 'secret', email: 'a@example.org', send_attempt: 1 };
    const msisdn = { client_secret: 'secret', country: 'GB', phone_number: '07700900001', send_attempt: 1 };
    for (const [path, body, auth] of [
      ['/account/3pid/email/requestToken', email, token],
      ['/account/3pid/msisdn/requestToken', msisdn, token],
      ['/register/email/requestToken', email, ''],
      ['/register/msisdn/requestToken', msisdn, ''],
      ['/account/password/email/requestToken', email, ''],
      ['/account/password/msisdn/requestToken', msisdn, ''],
    ] as const) {
      const r = await clientCall(url, 'POST', path, auth, body);
      expect([path, r.status, r.body.errcode]).toEqual([path, 400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED']);
    }
    if (!specMissing) expectMatchesSpec('post', '/account/3pid/email/requestToken', 400, (await clientCall(url, 'POST', '/account/3pid/email/requestToken', token, email)).body);
    expect((await clientCall(url, 'POST', '/register/email/requestToken', '', { email: 'a@example.org' })).body.errcode).toBe('M_MISSING_PARAM');
    expect((await clientCall(url, 'POST', '/account/3pid/email/requestToken', '', email)).status).toBe(401);
  });
});
