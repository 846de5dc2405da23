import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../crypto/index.js';
import { computeEventId, getRoomVersion, signEvent } from '../events/index.js';
import type { PDUJson } from '../events/types.js';
import { FederationClient, FederationError } from '../federationapi/index.js';
import { serverNameOf } from '../identity.js';
import type { AxonNode } from '../node.js';
import { TEST_P2P, loopbackAddr, until, clientCall, registerUser, startTestNode, type ResponseJson } from './node.js';

/** Forged federation input is refused and leaves no trace: bad signatures, content hashes
 * that do not match, senders from another server than the origin, and requests whose
 * X-Matrix origin is not the calling peer. */



const enc = encodeURIComponent;

describe('forged federation input', () => {
  let A: AxonNode, E: AxonNode;
  let aUrl: string, aToken: string, aliceId: string;
  let eUrl: string, eToken: string, eveId: string;
  let roomId: string;

  beforeAll(async () => {
    const a = await startTestNode();
    A = a.node;
    aUrl = a.url;
    const e = await startTestNode({ p2p: { ...TEST_P2P, peers: [loopbackAddr(A)] } });
    E = e.node;
    eUrl = e.url;
    const alice = await registerUser(aUrl, 'alice');
    aToken = alice.access_token;
    aliceId = alice.user_id;
    const eve = await registerUser(eUrl, 'eve');
    eToken = eve.access_token;
    eveId = eve.user_id;
    const r = await clientCall(aUrl, 'POST', '/createRoom', aToken, { preset: 'public_chat', name: 'Target' });
    roomId = r.body.room_id;
    const j = await clientCall(eUrl, 'POST', `/join/${enc(roomId)}?via=${A.serverName}`, eToken, {});
    expect(j.status, JSON.stringify(j.body)).toBe(200);
  });

  afterAll(async () => {
    await Promise.all([A?.stop(), E?.stop()]);
  });

  /** A correctly signed message from E, built on E's view of the room. */
  async function eventFromE(body: string, sender = eveId): Promise<PDUJson> {
    const { pdu } = await E.roomserver.buildLocalEvent({ roomId, sender: eveId, type: 'm.room.message', content: { msgtype: 'm.text', body } });
    if (sender === eveId) return pdu;
    const { signatures: _s, ...rest } = pdu;
    return signEvent({ ...rest, sender, signatures: {} } as PDUJson, E.serverName, E.identity.key, getRoomVersion('12')!);
  }

  async function sendFromE(pdus: PDUJson[], txn: string): Promise<Record<string, { error?: string }>> {
    const res = await E.federation.client.sendTransaction(A.serverName, txn, { origin: E.serverName, origin_server_ts: Date.now(), pdus, edus: [] });
    return res.pdus;
  }

  async function timelineBodiesOnA(): Promise<string[]> {
    const r = await clientCall(aUrl, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=100`, aToken);
    return (r.body.chunk as ResponseJson[]).filter((e) => e.type === 'm.room.message').map((e) => String(e.content.body ?? ''));
  }

  it('accepts a well-formed event from the origin (the control case)', async () => {
    const good = await eventFromE('genuine');
    const res = await sendFromE([good], 'good-1');
    expect(Object.values(res)).toEqual([{}]);
    await until(async () => (await timelineBodiesOnA()).includes('genuine'), 'the genuine message on A');
  });

  it('rejects an event whose signature is wrong', async () => {
    const pdu = await eventFromE('bad signature');
    const sigs = pdu.signatures[E.serverName]!;
    const keyId = Object.keys(sigs)[0]!;
    const forged: PDUJson = { ...pdu, signatures: { [E.serverName]: { [keyId]: sigs[keyId]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) } } };
    const id = computeEventId(forged, getRoomVersion('12')!);
    const res = await sendFromE([forged], 'bad-sig');
    expect(res[id]?.error).toMatch(/signature/);
    expect(A.roomserver.eventsByIds([id])).toEqual([]);
    expect(await timelineBodiesOnA()).not.toContain('bad signature');
  });

  it('uses the redacted form of an event whose content hash does not match (the spec), so the forged content never shows', async () => {
    const pdu = await eventFromE('original');
    const tampered: PDUJson = { ...pdu, content: { msgtype: 'm.text', body: 'tampered after signing' } };
    const id = computeEventId(tampered, getRoomVersion('12')!);
    await sendFromE([tampered], 'bad-hash');
    const stored = await until(async () => A.roomserver.eventsByIds([id])[0], 'the redacted copy on A');
    expect(stored.content).toEqual({});
    expect(await timelineBodiesOnA()).not.toContain('tampered after signing');
  });

  it('rejects an event whose sender is on another server than the origin', async () => {
    const pdu = await eventFromE('impersonation', aliceId);
    const id = computeEventId(pdu, getRoomVersion('12')!);
    const res = await sendFromE([pdu], 'impersonate');
    expect(res[id]?.error).toMatch(/origin/);
    expect(A.roomserver.eventsByIds([id])).toEqual([]);
    expect(await timelineBodiesOnA()).not.toContain('impersonation');
  });

  it('refuses a request whose X-Matrix origin is not the calling peer', async () => {
    const other = generateKeyPair();
    const otherName = serverNameOf(other.publicKey);
    // Signed correctly by another server's key, but carried by E's libp2p identity.
    const liar = new FederationClient(otherName, other, (dest, req) => E.p2p!.fetch(dest, req));
    const pdu = await eventFromE('relayed lie');
    const err = await liar.sendTransaction(A.serverName, 'lie', { origin: otherName, origin_server_ts: Date.now(), pdus: [pdu], edus: [] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FederationError);
    expect((err as FederationError).status).toBe(401);
    expect((err as FederationError).errcode).toBe('M_UNAUTHORIZED');
    const id = computeEventId(pdu, getRoomVersion('12')!);
    expect(A.roomserver.eventsByIds([id])).toEqual([]);
    // And a request with no signature at all.
    const bare = await E.p2p!.fetch(A.serverName, new Request(`http://${A.serverName}/_matrix/federation/v1/event/${enc(id)}`));
    expect(bare.status).toBe(401);
  });
  it('answers malformed or out-of-place federation requests with the spec\'s errors', async () => {
    const c = E.federation.client;
    const A_ = A.serverName;
    const fail = async (p: Promise<unknown>) => {
      const e = await p.then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(FederationError);
      return { status: (e as FederationError).status, errcode: (e as FederationError).errcode };
    };
    const F = '/_matrix/federation/v1';
    expect(await fail(c.request(A_, 'GET', `${F}/state_ids/${enc(roomId)}`, { query: { event_id: '$nope' } }))).toEqual({ status: 404, errcode: 'M_NOT_FOUND' });
    expect(await fail(c.request(A_, 'GET', `${F}/state_ids/${enc(roomId)}`))).toEqual({ status: 400, errcode: 'M_MISSING_PARAM' });
    expect(await fail(c.event(A_, '$unknown'))).toEqual({ status: 404, errcode: 'M_NOT_FOUND' });
    expect(await fail(c.request(A_, 'POST', `${F}/get_missing_events/${enc(roomId)}`, { body: { earliest_events: 'x', latest_events: [] } }))).toEqual({ status: 400, errcode: 'M_BAD_JSON' });
    const many = Array.from({ length: 51 }, () => ({}));
    expect(await fail(c.request(A_, 'PUT', `${F}/send/too-many`, { body: { origin: E.serverName, origin_server_ts: 1, pdus: many } }))).toEqual({ status: 400, errcode: 'M_BAD_JSON' });
    expect(await fail(c.request(A_, 'PUT', `${F}/send/wrong-origin`, { body: { origin: A_, origin_server_ts: 1, pdus: [] } }))).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    expect(await fail(c.makeJoin(A_, roomId, `@someone:${E.serverName}`, ['1']))).toEqual({ status: 400, errcode: 'M_INCOMPATIBLE_ROOM_VERSION' });
    expect(await fail(c.makeJoin(A_, roomId, aliceId, ['12']))).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    expect(await fail(c.makeJoin(A_, `!unknown:${A_}`, `@x:${E.serverName}`, ['12']))).toEqual({ status: 404, errcode: 'M_NOT_FOUND' });
    const pdu = await eventFromE('not an invite');
    expect(await fail(c.invite(A_, roomId, '$x', { event: pdu, room_version: '12', invite_room_state: [] }))).toEqual({ status: 400, errcode: 'M_BAD_JSON' });
    expect(await fail(c.invite(A_, roomId, '$x', { event: pdu, room_version: '999', invite_room_state: [] }))).toEqual({ status: 400, errcode: 'M_INCOMPATIBLE_ROOM_VERSION' });
    expect(await fail(c.queryProfile(A_, `@nobody:${A_}`))).toEqual({ status: 404, errcode: 'M_NOT_FOUND' });
    expect(await fail(c.request(A_, 'POST', `${F}/user/keys/query`, { body: { device_keys: 'all' } }))).toEqual({ status: 400, errcode: 'M_BAD_JSON' });
    // A server not in a room may not read it.
    const secret = await clientCall(aUrl, 'POST', '/createRoom', aToken, { preset: 'private_chat' });
    const created = (await clientCall(aUrl, 'GET', `/rooms/${enc(secret.body.room_id)}/messages?dir=f&limit=1`, aToken)).body.chunk[0].event_id;
    expect(await fail(c.backfill(A_, secret.body.room_id, [created], 10))).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    expect(await fail(c.state(A_, secret.body.room_id, created))).toEqual({ status: 403, errcode: 'M_FORBIDDEN' });
    // The node still answers normally afterwards.
    expect(Object.values(await sendFromE([await eventFromE('still fine')], 'after-bad'))).toEqual([{}]);
  });
});
