import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tmpDir } from '../test/fixtures.js';
import { openDatabase, type Db } from '../db/index.js';
import { Log, createOffsetStore, type LogMessage, type ReplaySource } from './index.js';
import { Ring } from './ring.js';

const dbs: Db[] = [];
const logs: Log[] = [];
afterEach(async () => {
  for (const l of logs.splice(0)) await l.close();
  for (const d of dbs.splice(0)) d.close();
});

function tmpFile(): string {
  return path.join(tmpDir('axon-log-'), 'axon.db');
}

function tmpDb(file = tmpFile()): Db {
  const db = openDatabase(file);
  dbs.push(db);
  return db;
}

function newLog(): Log {
  const log = new Log();
  logs.push(log);
  return log;
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** A producer that commits to its own table first, then publishes: the durable pattern. */
function producer(db: Db, log: Log, topic: string, opts: { bufferSize?: number; step?: number } = {}) {
  db.raw.exec('CREATE TABLE IF NOT EXISTS p_out (offset INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL)');
  const insert = db.raw.prepare<[number, string, string]>('INSERT INTO p_out (offset, key, value) VALUES (?, ?, ?)');
  const after = db.raw.prepare<[number, number], { offset: number; key: string; value: string }>(
    'SELECT offset, key, value FROM p_out WHERE offset > ? ORDER BY offset LIMIT ?',
  );
  const headStmt = db.raw.prepare<[], { m: number | null }>('SELECT MAX(offset) AS m FROM p_out');
  let replayReads = 0;
  const replay: ReplaySource<string> = {
    read: (o, limit) => {
      replayReads++;
      return after.all(o, limit).map((r) => ({ topic, offset: r.offset, key: r.key, value: r.value }));
    },
    head: () => headStmt.get()?.m ?? 0,
  };
  const t = log.topic<string>(topic, { durable: true, replay, bufferSize: opts.bufferSize });
  const publish = (key: string, value: string): number => {
    // Offsets need not be contiguous: `step` leaves gaps, as row ids of a shared table would.
    const offset = replay.head() + (opts.step ?? 1);
    db.transaction(() => insert.run(offset, key, value));
    return t.publish(key, value, offset);
  };
  return { publish, replayReads: () => replayReads };
}

/** A consumer whose effects and offset are committed together, as components do. */
function effectsConsumer(
  db: Db,
  log: Log,
  topic: string,
  opts: { name?: string; failBefore?: Set<string>; failAfterCommit?: Set<string> } = {},
) {
  db.raw.exec('CREATE TABLE IF NOT EXISTS c_effects (id INTEGER PRIMARY KEY, key TEXT, value TEXT)');
  const offsets = createOffsetStore(db.raw, 'c_offsets');
  const insert = db.raw.prepare<[string, string]>('INSERT INTO c_effects (key, value) VALUES (?, ?)');
  const name = opts.name ?? 'effects';
  const delivered: number[] = [];
  const c = log.consume<string>(topic, {
    name,
    fromOffset: offsets.get(name),
    batchSize: 3,
    handle: (msgs) => {
      delivered.push(...msgs.map((m) => m.offset));
      offsets.commit(name, msgs, (fresh) => {
        for (const m of fresh) {
          // Fails inside the transaction: the effects of the whole batch roll back.
          if (opts.failBefore?.delete(m.value)) throw new Error(`fail on ${m.value}`);
          insert.run(m.key, m.value);
        }
      });
      // Fails after the commit, as a crash before the acknowledgement would: redelivered.
      for (const m of msgs) if (opts.failAfterCommit?.delete(m.value)) throw new Error(`fail after ${m.value}`);
    },
  });
  const effects = () => db.raw.prepare<[], { value: string }>('SELECT value FROM c_effects ORDER BY id').all().map((r) => r.value);
  return { c, effects, delivered, stored: () => offsets.get(name) };
}

describe('ordering', () => {
  it('delivers in offset order in batches, so each key keeps its order', async () => {
    const log = newLog();
    const t = log.topic<number>('t', { durable: false });
    const got: LogMessage<number>[] = [];
    const sizes: number[] = [];
    t.consume({
      name: 'c',
      fromOffset: 0,
      batchSize: 7,
      handle: async (m) => {
        sizes.push(m.length);
        // Uneven handler times must not reorder anything.
        await new Promise((r) => setTimeout(r, m[0]!.offset % 3));
        got.push(...m);
      },
    });
    for (let i = 0; i < 100; i++) t.publish(`k${i % 3}`, i);
    await log.drain();
    for (const k of ['k0', 'k1', 'k2']) {
      const vals = got.filter((m) => m.key === k).map((m) => m.value);
      expect(vals).toEqual(range(0, 100).filter((i) => i % 3 === Number(k.slice(1))));
    }
    expect(got.map((m) => m.offset)).toEqual(range(1, 100));
    expect(Math.max(...sizes)).toBe(7);
  });

  it('does not deliver before consume() returns', () => {
    const log = newLog();
    log.topic<number>('t', { durable: false });
    log.publish('t', 'k', 1);
    let calls = 0;
    log.consume<number>('t', { name: 'c', fromOffset: 0, handle: () => void calls++ });
    expect(calls).toBe(0);
  });

  it('every consumer gets everything at its own pace', async () => {
    const log = newLog();
    const t = log.topic<number>('t', { durable: false });
    const fast: number[] = [];
    const slow: number[] = [];
    t.consume({ name: 'fast', fromOffset: 0, handle: (m) => void fast.push(...m.map((x) => x.value)) });
    t.consume({ name: 'slow', fromOffset: 0, batchSize: 2, handle: async (m) => void (await new Promise((r) => setTimeout(r, 1)), slow.push(...m.map((x) => x.value))) });
    for (let i = 0; i < 30; i++) t.publish('k', i);
    await log.drain();
    expect(fast).toEqual(range(0, 30));
    expect(slow).toEqual(range(0, 30));
  });

  it('a lingering consumer gathers what trickles in into one batch, and takes a full batch at once', async () => {
    const log = newLog();
    const t = log.topic<number>('t', { durable: false });
    const sizes: number[] = [];
    t.consume({ name: 'c', fromOffset: 0, batchSize: 10, lingerMs: 1000, handle: (m) => void sizes.push(m.length) });
    // Five messages over ~50 ms: a consumer without linger would take them one by one.
    for (let i = 0; i < 5; i++) {
      t.publish('k', i);
      await new Promise((r) => setTimeout(r, 10));
    }
    await log.drain();
    expect(sizes).toEqual([5]);
    // A full batch waiting is handled without lingering.
    const started = performance.now();
    for (let i = 0; i < 10; i++) t.publish('k', i);
    await log.drain();
    expect(sizes).toEqual([5, 10]);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('with a minimum backlog, a trickle is handled at once and only a pile-up lingers', async () => {
    const log = newLog();
    const t = log.topic<number>('t', { durable: false });
    const sizes: number[] = [];
    t.consume({ name: 'c', fromOffset: 0, batchSize: 100, lingerMs: 1000, lingerMinBacklog: 3, handle: (m) => void sizes.push(m.length) });
    const started = performance.now();
    for (let i = 0; i < 3; i++) {
      t.publish('k', i);
      await log.drain();
    }
    expect(sizes).toEqual([1, 1, 1]);
    expect(performance.now() - started).toBeLessThan(500);
    // Three at once: wait for more; two more come while it waits.
    for (let i = 0; i < 3; i++) t.publish('k', i);
    setTimeout(() => {
      t.publish('k', 3);
      t.publish('k', 4);
    }, 100);
    await new Promise((r) => setTimeout(r, 150));
    await log.drain();
    expect(sizes).toEqual([1, 1, 1, 5]);
  });
});

describe('at-least-once delivery', () => {
  it('redelivers a batch whose handler threw; effects show each message once', async () => {
    const db = tmpDb();
    const log = newLog();
    const { publish } = producer(db, log, 'room.output');
    const { effects, delivered, stored } = effectsConsumer(db, log, 'room.output', { failBefore: new Set(['m4']) });
    for (let i = 0; i < 10; i++) publish('!r', `m${i}`);
    await log.drain();
    expect(effects()).toEqual(range(0, 10).map((i) => `m${i}`));
    // Batches of 3: [1,2,3] [4,5,6] fails, [4,5,6] again, ...
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6, 4, 5, 6, 7, 8, 9, 10]);
    expect(stored()).toBe(10);
    expect(log.status()[0]!.consumers[0]).toMatchObject({ offset: 10, lag: 0, failures: 1 });
  });

  it('a batch redelivered after its effects were committed changes nothing (idempotent via the stored offset)', async () => {
    const db = tmpDb();
    const log = newLog();
    const { publish } = producer(db, log, 'room.output');
    const { effects, delivered } = effectsConsumer(db, log, 'room.output', { failAfterCommit: new Set(['m1', 'm7']) });
    for (let i = 0; i < 9; i++) publish('!r', `m${i}`);
    await log.drain();
    expect(delivered).toEqual([1, 2, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 7, 8, 9]);
    expect(effects()).toEqual(range(0, 9).map((i) => `m${i}`));
  });

  it('backs off exponentially and never skips the failing batch', async () => {
    const log = newLog();
    const t = log.topic<number>('t', { durable: false });
    const attempts: number[] = [];
    const got: number[] = [];
    t.consume({
      name: 'c',
      fromOffset: 0,
      handle: (m) => {
        attempts.push(performance.now());
        if (attempts.length <= 4) throw new Error('not yet');
        got.push(...m.map((x) => x.value));
      },
    });
    t.publish('k', 1);
    t.publish('k', 2);
    await log.drain();
    expect(got).toEqual([1, 2]);
    expect(attempts).toHaveLength(5);
    const gaps = attempts.slice(1).map((a, i) => a - attempts[i]!);
    // 10, 20, 40, 80 ms nominal; only lower bounds, as a loaded machine only adds delay
    // (and timers may fire a millisecond early).
    expect(gaps[2]!).toBeGreaterThanOrEqual(35);
    expect(gaps[3]!).toBeGreaterThanOrEqual(75);
    expect(log.status()[0]!.consumers[0]!.failures).toBe(4);
  });

  it('close() cuts a retry backoff short and stops redelivery', async () => {
    const log = newLog();
    const t = log.topic<number>('t', { durable: false });
    let calls = 0;
    const c = t.consume({
      name: 'c',
      fromOffset: 0,
      handle: () => {
        calls++;
        throw new Error('always');
      },
    });
    t.publish('k', 1);
    await new Promise((r) => setTimeout(r, 200)); // several retries, the backoff now ~160 ms
    const waiting = c.waitFor(1);
    const started = performance.now();
    await c.close();
    expect(performance.now() - started).toBeLessThan(100);
    await expect(waiting).rejects.toThrow(/closed/);
    const after = calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(after);
    expect(c.offset()).toBe(0);
  });
});

describe('restarts and replay', () => {
  it('a restarted consumer resumes from its stored offset and repeats nothing', async () => {
    const file = tmpFile();
    const db1 = tmpDb(file);
    const log1 = newLog();
    const p1 = producer(db1, log1, 'room.output');
    effectsConsumer(db1, log1, 'room.output');
    for (let i = 0; i < 5; i++) p1.publish('!r', `a${i}`);
    await log1.drain();
    await log1.close();
    db1.close();

    // "Process restart": a new log and database handle; the producer writes more first.
    const db2 = tmpDb(file);
    const log2 = newLog();
    const p2 = producer(db2, log2, 'room.output');
    p2.publish('!r', 'b0');
    const second = effectsConsumer(db2, log2, 'room.output');
    p2.publish('!r', 'b1');
    await log2.drain();
    expect(second.delivered).toEqual([6, 7]);
    expect(second.effects()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'b0', 'b1']);
  });

  it('replays a durable topic from the producer tables after a restart', async () => {
    const file = tmpFile();
    const db1 = tmpDb(file);
    const log1 = newLog();
    const p1 = producer(db1, log1, 'room.output', { step: 3 });
    for (let i = 0; i < 7; i++) p1.publish(`!r${i % 2}`, `v${i}`);
    await log1.close();
    db1.close();

    const db2 = tmpDb(file);
    const log2 = newLog();
    const p2 = producer(db2, log2, 'room.output', { step: 3 });
    expect(log2.head('room.output')).toBe(21);
    expect(log2.status()[0]!.buffered).toBe(0); // nothing of the old run is in memory
    const { effects, c } = effectsConsumer(db2, log2, 'room.output', { name: 'late' });
    p2.publish('!r0', 'v7');
    await c.waitFor(24);
    expect(effects()).toEqual(range(0, 8).map((i) => `v${i}`));
    expect(p2.replayReads()).toBeGreaterThan(0);
  });

  it('ignores a durable publish at or below the head (already replayable)', async () => {
    const db = tmpDb();
    const log = newLog();
    const { publish } = producer(db, log, 'd');
    publish('k', 'x');
    expect(log.publish('d', 'k', 'again', 1)).toBe(1);
    expect(log.status()[0]).toMatchObject({ head: 1, buffered: 1 });
  });
});

describe('bounded memory', () => {
  it('a slow consumer keeps memory bounded and still gets every durable message', async () => {
    const db = tmpDb();
    const log = newLog();
    const { publish, replayReads } = producer(db, log, 'room.output', { bufferSize: 8 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const got: string[] = [];
    let maxBuffered = 0;
    log.consume<string>('room.output', {
      name: 'slow',
      fromOffset: 0,
      batchSize: 5,
      handle: async (msgs) => {
        await gate;
        got.push(...msgs.map((m) => m.value));
      },
    });
    for (let i = 0; i < 200; i++) {
      publish('!r', `m${i}`);
      maxBuffered = Math.max(maxBuffered, log.status()[0]!.buffered);
    }
    expect(maxBuffered).toBe(8);
    expect(log.status()[0]!.consumers[0]!.lag).toBe(200);
    release();
    await log.drain();
    expect(got).toEqual(range(0, 200).map((i) => `m${i}`));
    // It caught up from the producer's table in pages, then from the window.
    expect(replayReads()).toBeGreaterThanOrEqual(38);
  });

  it('a consumer that falls behind a memory-only topic skips to the oldest retained message', async () => {
    const log = newLog();
    const t = log.topic<number>('typing', { durable: false, bufferSize: 4 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    let failed = false;
    t.consume({
      name: 'slow',
      fromOffset: 0,
      batchSize: 1,
      handle: async (msgs) => {
        await gate;
        // A failure right after the skip must not count the skip twice.
        if (msgs[0]!.value === 17 && !failed) {
          failed = true;
          throw new Error('once');
        }
        got.push(...msgs.map((m) => m.value));
      },
    });
    t.publish('!r', 1);
    await new Promise((r) => setImmediate(r)); // the batch [1] is now in flight
    for (let i = 2; i <= 20; i++) t.publish('!r', i);
    expect(log.status()[0]!.buffered).toBe(4);
    release();
    await log.drain();
    // The batch in flight finishes; the rest comes from the retained window only.
    expect(got).toEqual([1, 17, 18, 19, 20]);
    expect(log.status()[0]!.consumers[0]).toMatchObject({ offset: 20, lag: 0, skipped: 15, failures: 1 });
  });

  it('yields to the event loop while catching up with a synchronous handler', async () => {
    const log = newLog();
    const t = log.topic<number>('t', { durable: false, bufferSize: 1000 });
    for (let i = 0; i < 1000; i++) t.publish('k', i);
    let handled = 0;
    let handledWhenTimerRan = -1;
    setTimeout(() => (handledWhenTimerRan = handled), 0);
    t.consume({
      name: 'c',
      fromOffset: 0,
      batchSize: 1,
      handle: () => {
        const until = performance.now() + 0.2;
        while (performance.now() < until); // synchronous work
        handled++;
      },
    });
    await log.drain();
    expect(handled).toBe(1000);
    expect(handledWhenTimerRan).toBeGreaterThanOrEqual(0);
    expect(handledWhenTimerRan).toBeLessThan(1000);
  });
});

describe('api', () => {
  it('status shows heads, offsets and lag', async () => {
    const log = newLog();
    log.topic<string>('a', { durable: false });
    log.topic<string>('b', { durable: false });
    const c = log.consume<string>('a', { name: 'ca', fromOffset: 0, handle: () => undefined });
    log.publish('a', 'k', 'x');
    log.publish('a', 'k', 'y');
    await c.waitFor(2);
    log.consume<string>('b', { name: 'stuck', fromOffset: 0, handle: () => new Promise<void>(() => undefined) });
    log.publish('b', 'k', 'z');
    log.publish('b', 'k', 'z');
    expect(log.status()).toEqual([
      { name: 'a', durable: false, head: 2, buffered: 2, consumers: [{ name: 'ca', offset: 2, lag: 0, skipped: 0, failures: 0, batches: 1 }] },
      { name: 'b', durable: false, head: 2, buffered: 2, consumers: [{ name: 'stuck', offset: 0, lag: 2, skipped: 0, failures: 0, batches: 0 }] },
    ]);
    log.topic<string>('b', { durable: false }); // redeclaring is harmless
    expect(log.status()).toHaveLength(2);
    logs.splice(logs.indexOf(log), 1); // the stuck handler never finishes, so do not wait for close
  });

  it('drain waits for what consumers publish while handling', async () => {
    const log = newLog();
    const a = log.topic<number>('a', { durable: false });
    const b = log.topic<number>('b', { durable: false });
    const got: number[] = [];
    b.consume({ name: 'last', fromOffset: 0, handle: async (m) => void (await new Promise((r) => setTimeout(r, 5)), got.push(...m.map((x) => x.value))) });
    a.consume({ name: 'relay', fromOffset: 0, handle: async (m) => void (await new Promise((r) => setTimeout(r, 5)), m.forEach((x) => b.publish('k', x.value * 10))) });
    a.publish('k', 1);
    a.publish('k', 2);
    await log.drain();
    expect(got).toEqual([10, 20]);
  });

  it('rejects misuse with clear errors', async () => {
    const db = tmpDb();
    const log = newLog();
    const mem = log.topic<number>('mem', { durable: false });
    const { publish } = producer(db, log, 'dur');
    publish('k', 'v');
    expect(() => log.topic('mem', { durable: true, replay: { read: () => [], head: () => 0 } })).toThrow(/already declared memory-only/);
    expect(() => log.topic('x', { durable: true })).toThrow(/needs a replay source/);
    expect(() => log.topic('y', { durable: false, bufferSize: 0 })).toThrow(/positive integer/);
    expect(() => mem.publish('k', 1, 5)).toThrow(/assigns its own offsets/);
    expect(() => log.publish('dur', 'k', 'v')).toThrow(/committed offset/);
    expect(() => log.publish('nope', 'k', 1)).toThrow(/unknown log topic nope/);
    mem.consume({ name: 'c', fromOffset: 0, handle: () => undefined });
    expect(() => mem.consume({ name: 'c', fromOffset: 0, handle: () => undefined })).toThrow(/already exists/);
    await log.close();
    expect(() => mem.consume({ name: 'd', fromOffset: 0, handle: () => undefined })).toThrow(/closed/);
  });

  it('memory-only offsets from an earlier process are clamped to the head', async () => {
    const log = newLog();
    const t = log.topic<number>('presence', { durable: false });
    t.publish('@u', 1);
    const got: number[] = [];
    const c = t.consume({ name: 'c', fromOffset: 500, handle: (m) => void got.push(...m.map((x) => x.value)) });
    expect(c.offset()).toBe(1);
    t.publish('@u', 2);
    await c.waitFor(2);
    expect(got).toEqual([2]);
  });
});

describe('offset store', () => {
  it('keeps offsets per consumer in the component table', () => {
    const db = tmpDb();
    const s = createOffsetStore(db.raw, 'x_offsets');
    expect(s.get('a')).toBe(0);
    db.transaction(() => s.set('a', 7));
    s.set('b', 3);
    s.set('a', 9);
    expect([s.get('a'), s.get('b')]).toEqual([9, 3]);
    expect(createOffsetStore(db.raw, 'x_offsets').get('a')).toBe(9); // idempotent creation
    expect(() => createOffsetStore(db.raw, 'x; DROP TABLE y')).toThrow(/bad offset table name/);
  });

  it('commit applies only fresh messages and rolls the offset back with failed effects', () => {
    const db = tmpDb();
    const s = createOffsetStore(db.raw, 'x_offsets');
    const msg = (offset: number): LogMessage<number> => ({ topic: 't', offset, key: 'k', value: offset });
    const seen: number[] = [];
    expect(s.commit('c', [msg(1), msg(2)], (f) => void seen.push(...f.map((m) => m.offset)))).toBe(2);
    expect(s.commit('c', [msg(2), msg(3)], (f) => void seen.push(...f.map((m) => m.offset)))).toBe(1);
    expect(s.commit('c', [msg(1), msg(3)], () => void seen.push(-1))).toBe(0);
    expect(() =>
      s.commit('c', [msg(4)], () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(seen).toEqual([1, 2, 3]);
    expect(s.get('c')).toBe(3);
  });

  it('a commit inside a transaction that rolls back leaves the offset where it was', () => {
    const db = tmpDb();
    const s = createOffsetStore(db.raw, 'x_offsets');
    const msg = (offset: number): LogMessage<number> => ({ topic: 't', offset, key: 'k', value: offset });
    expect(s.commit('c', [msg(1)], () => true)).toBe(1);
    expect(() =>
      db.transaction(() => {
        s.commit('c', [msg(2)], () => true);
        throw new Error('outer fails');
      }),
    ).toThrow('outer fails');
    expect(s.get('c')).toBe(1);
    const seen: number[] = [];
    expect(s.commit('c', [msg(2)], (f) => void seen.push(...f.map((m) => m.offset)))).toBe(1);
    expect(seen).toEqual([2]);
  });

  it('an offset whose effects wrote nothing waits for the next batch that writes, within a bound', () => {
    const db = tmpDb();
    const s = createOffsetStore(db.raw, 'x_offsets');
    const msg = (offset: number): LogMessage<number> => ({ topic: 't', offset, key: 'k', value: offset });
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => msg(a + i));
    expect(s.commit('c', [msg(1)], () => true)).toBe(1);
    expect(s.get('c')).toBe(1);
    // Nothing written: the stored offset stays, and a crash now would apply 2–3 again.
    expect(s.commit('c', [msg(2), msg(3)], () => false)).toBe(2);
    expect(s.get('c')).toBe(1);
    const seen: number[] = [];
    expect(s.commit('c', [msg(4)], (f) => void seen.push(...f.map((m) => m.offset)))).toBe(1);
    expect(seen).toEqual([4]);
    expect(s.get('c')).toBe(4);
    // Never more than a thousand messages behind.
    expect(s.commit('c', range(5, 1003), () => false)).toBe(999);
    expect(s.get('c')).toBe(4);
    expect(s.commit('c', [msg(1004)], () => false)).toBe(1);
    expect(s.get('c')).toBe(1004);
  });
});

describe('ring', () => {
  it('keeps the newest `capacity` items in order', () => {
    const r = new Ring<number>(3);
    const evicted: Array<number | undefined> = [];
    for (let i = 1; i <= 7; i++) evicted.push(r.push(i));
    expect(evicted).toEqual([undefined, undefined, undefined, 1, 2, 3, 4]);
    expect(r.slice(0, 10)).toEqual([5, 6, 7]);
    expect(r.firstIndex((x) => x > 5)).toBe(1);
    expect(r.firstIndex((x) => x > 9)).toBe(3);
    expect(r.firstIndex(() => true)).toBe(0);
  });
});
