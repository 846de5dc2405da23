import fs from 'node:fs';
import type { Roomserver } from '../core/roomserver/index.js';
import { SearchApi, type RoomEventsCriteria } from '../core/search/index.js';
import { benchRoomServer } from './roomsetup.js';
import { percentile, round } from './stats.js';

const MESSAGES = 100_000;
const REAL_MESSAGES = 500;
const RUNS = 40;

/** A small deterministic PRNG (mulberry32), so every run indexes the same text. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COMMON = ['the', 'and', 'meeting', 'lunch', 'today', 'tomorrow', 'code', 'review', 'deploy', 'coffee', 'hello', 'thanks'];

/** Roughly Zipf-distributed words: a few common ones, a long tail of rare ones. */
function sentence(r: () => number): string {
  const n = 5 + Math.floor(r() * 10);
  const words: string[] = [];
  for (let i = 0; i < n; i++) {
    const x = r();
    words.push(x < 0.5 ? COMMON[Math.floor(r() * COMMON.length)]! : `word${Math.floor(1 / (1 - r() * 0.9999)) % 20000}`);
  }
  return words.join(' ');
}

/**
 * POST /search latency (the search component's room_events query) over 100,000 indexed
 * messages in one room: a frequent word, a rare word, two words, recent order, and the
 * second page. The bulk of the index is inserted straight into the search tables; each
 * result's history visibility is checked by the real room server against a real message of
 * the room, so that per-result cost is the real one.
 */
export async function search(): Promise<Record<string, unknown>> {
  const { dir, db, log, logger, serverName, rs } = benchRoomServer('axon-bench-search-');
  const alice = `@alice:${serverName}`;
  const { roomId } = await rs.createRoom({ creator: alice });
  const realIds: string[] = [];
  const r = rng(42);
  for (let i = 0; i < REAL_MESSAGES; i++) {
    realIds.push((await rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: sentence(r) } })).eventId);
  }
  const realOf = new Map<string, string>();
  const roomserver = Object.create(rs) as Roomserver;
  roomserver.userMaySeeEvent = (userId, eventId) => rs.userMaySeeEvent(userId, realOf.get(eventId) ?? eventId);
  const api = new SearchApi({ db, log, logger, roomserver });
  await api.caughtUp();

  const bulk = MESSAGES - REAL_MESSAGES;
  const t0 = performance.now();
  db.raw.transaction(() => {
    for (let i = 0; i < bulk; i++) {
      const eventId = `$bulk${i}`;
      realOf.set(eventId, realIds[i % realIds.length]!);
      const body = sentence(r);
      const json = JSON.stringify({ event_id: eventId, room_id: roomId, sender: alice, type: 'm.room.message', origin_server_ts: 1_700_000_000_000 + i, content: { msgtype: 'm.text', body } });
      api.store.add({ event_id: eventId, room_id: roomId, sender: alice, type: 'm.room.message', room_version: '11', json }, { key: 'content.body', text: body });
    }
  })();
  const indexPerS = bulk / ((performance.now() - t0) / 1000);

  const query = (c: RoomEventsCriteria, token?: Parameters<SearchApi['searchRoomEvents']>[2]) => api.searchRoomEvents(alice, c, token);
  const measure = (c: RoomEventsCriteria, page2 = false) => {
    const first = query(c);
    let token: Parameters<SearchApi['searchRoomEvents']>[2];
    if (page2 && first.next_batch) token = JSON.parse(Buffer.from(first.next_batch, 'base64url').toString()) as typeof token;
    const times: number[] = [];
    let count = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const res = query(c, token);
      times.push(performance.now() - t);
      count = res.count;
    }
    times.sort((a, b) => a - b);
    return { matches: count, p50_ms: round(percentile(times, 50), 2), p95_ms: round(percentile(times, 95), 2) };
  };
  const out: Record<string, unknown> = {
    messages: MESSAGES,
    index_messages_per_s: round(indexPerS, 0),
    frequent_word_rank: measure({ search_term: 'meeting' }),
    frequent_word_recent: measure({ search_term: 'meeting', order_by: 'recent' }),
    frequent_word_page2: measure({ search_term: 'meeting' }, true),
    rare_word: measure({ search_term: 'word50' }),
    two_words: measure({ search_term: 'coffee review' }),
    with_context: measure({ search_term: 'deploy', event_context: { before_limit: 2, after_limit: 2 } }),
  };
  await api.close();
  await log.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
