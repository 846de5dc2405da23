import { afterEach, describe, expect, it } from 'vitest';
import { MatrixError } from '../http/errors.js';
import type { Db } from '../db/index.js';
import type { Log } from '../log/index.js';
import { clientCall, registerUser, startTestNode } from '../test/node.js';
import { serverNameKeys, testServer, testStorage, tmpDir } from '../test/fixtures.js';
import type { AxonNode } from '../node.js';
import { ROOM_OUTPUT_TOPIC, type RoomOutput } from './api.js';
import { NO_FETCHER, Roomserver } from './index.js';

const opened: Array<{ db: Db; log: Log }> = [];
const nodes: AxonNode[] = [];
afterEach(async () => {
  for (const o of opened.splice(0)) {
    await o.log.close();
    o.db.close();
  }
  for (const n of nodes.splice(0)) await n.stop();
});

/** A room server on a fresh database, with a room alice created. */
async function roomOfAlice() {
  const server = testServer();
  const { db, log, logger } = testStorage(tmpDir());
  opened.push({ db, log });
  const rs = new Roomserver({ db, log, logger, serverName: server.name, signingKey: server.key, keys: serverNameKeys, fetcher: NO_FETCHER });
  const alice = server.user('alice');
  const { roomId } = await rs.createRoom({ creator: alice });
  return { server, db, log, rs, alice, roomId };
}

describe('local sends batched into one transaction', () => {
  it('storing an event again: without a savepoint it fails on the id, with one it is a duplicate', async () => {
    const { db, rs, alice, roomId } = await roomOfAlice();
    const built = await rs.buildLocalEvent({ roomId, sender: alice, type: 'm.room.message', content: { body: 'once' } });
    const input = rs['input'];
    const store = (savepoint: boolean) => db.transaction(() => input.storeBuilt({ kind: 'new', pdu: built.pdu }, built.event, undefined, savepoint).outcome);
    expect(store(false)).toEqual({ status: 'accepted', eventId: built.event.eventId });
    expect(() => store(false)).toThrow(/UNIQUE/);
    expect(store(true)).toEqual({ status: 'duplicate', eventId: built.event.eventId });
  });

  it('builds sends of one tick as a chain, fails only the forbidden one, runs onStored only for accepted ones, publishes in order', async () => {
    const { server, db, log, rs, alice, roomId } = await roomOfAlice();
    const seen: string[][] = [];
    const consumer = log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, {
      name: 'test',
      fromOffset: 0,
      handle: (msgs) => {
        const ids = msgs.flatMap((m) => (m.value.type === 'new_room_event' && m.value.event.type === 'm.room.message' ? [m.value.eventId] : []));
        if (ids.length > 0) seen.push(ids);
      },
    });
    const stored: string[] = [];
    const send = (sender: string, body: string) =>
      rs.sendEvent({ roomId, sender, type: 'm.room.message', content: { body }, onStored: (id) => stored.push(id) });
    // Same tick: one batch. Bob is not in the room; a body that is not canonical JSON is a 400.
    const results = await Promise.allSettled([
      send(alice, 'one'),
      send(server.user('bob'), 'intruder'),
      send(alice, 'two'),
      rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { n: 1.5 } }),
      send(alice, 'three'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    const bobErr = (results[1] as PromiseRejectedResult).reason as MatrixError;
    expect(bobErr).toBeInstanceOf(MatrixError);
    expect(bobErr.errcode).toBe('M_FORBIDDEN');
    expect(((results[3] as PromiseRejectedResult).reason as MatrixError).errcode).toBe('M_BAD_JSON');
    const ids = [0, 2, 4].map((i) => (results[i] as PromiseFulfilledResult<{ eventId: string }>).value.eventId);
    expect(stored).toEqual(ids);
    // A chain: each accepted event's only prev event is the one before it.
    const events = rs.eventsByIds(ids);
    expect(events.map((e) => e.content.body)).toEqual(['one', 'two', 'three']);
    expect(events[1]!.prevEventIds).toEqual([ids[0]]);
    expect(events[2]!.prevEventIds).toEqual([ids[1]]);
    expect(events[2]!.depth).toBe(events[0]!.depth + 2);
    expect(rs.latestEvents(roomId).eventIds).toEqual([ids[2]]);
    // Published together after the one commit, in order: consumers get them as one batch.
    await consumer.drained();
    expect(seen).toEqual([ids]);
    await consumer.close();
  });

  it('a send whose storing fails unexpectedly fails alone: the batch is stored again with a savepoint per event', async () => {
    const { server, db, log, rs, alice, roomId } = await roomOfAlice();
    const newEventOutputs = () => (db.raw.prepare(`SELECT COUNT(*) AS n FROM rs_output WHERE entry LIKE '%"new_room_event"%'`).get() as { n: number }).n;
    const outputsBefore = newEventOutputs();
    const stored: string[] = [];
    let failures = 0;
    const send = (body: string, fail = false) =>
      rs.sendEvent({
        roomId,
        sender: alice,
        type: 'm.room.message',
        content: { body },
        onStored: (id) => {
          if (fail) {
            failures++;
            throw new Error('disk on fire');
          }
          stored.push(id);
        },
      });
    const results = await Promise.allSettled([send('one'), send('two', true), send('three')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // Tried without savepoints, then once more with them.
    expect(failures).toBe(2);
    const ids = [0, 2].map((i) => (results[i] as PromiseFulfilledResult<{ eventId: string }>).value.eventId);
    // Only what the second try stored is there: no event, record or output of the first.
    expect(stored.slice(-2)).toEqual(ids);
    const events = rs.eventsByIds(ids);
    expect(events.map((e) => e.content.body)).toEqual(['one', 'three']);
    expect(events[1]!.prevEventIds).toEqual([ids[0]]);
    expect(rs.latestEvents(roomId).eventIds).toEqual([ids[1]]);
    expect(newEventOutputs() - outputsBefore).toBe(2);
  });

  it('over HTTP: concurrent senders keep their order, txnIds stay idempotent, a forbidden sender gets 403 alone', async () => {
    const { node, url } = await startTestNode();
    nodes.push(node);
    const users = await Promise.all(['alice', 'bob', 'carol', 'mallory'].map((u) => registerUser(url, u)));
    const [alice, bob, carol, mallory] = users as [(typeof users)[0], (typeof users)[0], (typeof users)[0], (typeof users)[0]];
    const created = await clientCall(url, 'POST', '/createRoom', alice.access_token, { preset: 'public_chat' });
    const roomId = created.body.room_id as string;
    for (const u of [bob, carol]) expect((await clientCall(url, 'POST', `/join/${encodeURIComponent(roomId)}`, u.access_token, {})).status).toBe(200);
    const path = (txn: string) => `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txn}`;
    const perSender = 15;
    const members = [alice, bob, carol];
    // Each member sends back to back; all three (and mallory, not in the room) at once, and
    // every PUT is sent twice at the same time, as a retrying client might.
    const sent = await Promise.all([
      ...members.map(async (u, i) => {
        const ids: string[] = [];
        for (let k = 0; k < perSender; k++) {
          const body = { msgtype: 'm.text', body: `u${i} m${k}` };
          const [a, b] = await Promise.all([clientCall(url, 'PUT', path(`t${k}`), u.access_token, body), clientCall(url, 'PUT', path(`t${k}`), u.access_token, body)]);
          expect(a.status).toBe(200);
          expect(b.body.event_id).toBe(a.body.event_id);
          ids.push(a.body.event_id as string);
        }
        return ids;
      }),
      (async () => {
        for (let k = 0; k < 5; k++) {
          const r = await clientCall(url, 'PUT', path(`t${k}`), mallory.access_token, { msgtype: 'm.text', body: 'let me in' });
          expect(r.status).toBe(403);
          expect(r.body.errcode).toBe('M_FORBIDDEN');
        }
        return [];
      })(),
    ]);
    // A retry after the fact answers the stored event id; a new txnId makes a new event.
    const retry = await clientCall(url, 'PUT', path('t3'), bob.access_token, { msgtype: 'm.text', body: 'u1 m3' });
    expect(retry.body.event_id).toBe(sent[1]![3]);
    const fresh = await clientCall(url, 'PUT', path('t3'), mallory.access_token, { body: 'x' });
    expect(fresh.status).toBe(403);

    // The timeline holds each message once, each sender's in the order sent.
    const msgs = await clientCall(url, 'GET', `/rooms/${encodeURIComponent(roomId)}/messages?dir=f&limit=1000`, alice.access_token);
    const timeline = (msgs.body.chunk as Array<{ event_id: string; type: string; sender: string }>).filter((e) => e.type === 'm.room.message');
    expect(timeline).toHaveLength(perSender * members.length);
    expect(new Set(timeline.map((e) => e.event_id)).size).toBe(timeline.length);
    members.forEach((u, i) => expect(timeline.filter((e) => e.sender === u.user_id).map((e) => e.event_id)).toEqual(sent[i]));
    // One chain: every message's only prev event is the event just before it.
    const rs = node.roomserver;
    const events = rs.eventsByIds(timeline.map((e) => e.event_id));
    for (let i = 1; i < events.length; i++) expect(events[i]!.prevEventIds).toEqual([events[i - 1]!.eventId]);
    expect(rs.latestEvents(roomId).eventIds).toEqual([events.at(-1)!.eventId]);
  });
});
