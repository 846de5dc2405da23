import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { LruCache } from '../../lru.js';

/** A state map in numeric form: packed (type_nid, state_key_nid) → event_nid. */
export type NidState = ReadonlyMap<number, number>;

/** Packs a (type_nid, state_key_nid) pair into one safe integer. */
export function packKey(typeNid: number, stateKeyNid: number): number {
  return typeNid * 2 ** 32 + stateKeyNid;
}

export function unpackKey(k: number): [number, number] {
  return [Math.floor(k / 2 ** 32), k % 2 ** 32];
}

/** Above this many blocks a snapshot is rewritten as full blocks, so reads stay short. */
const MAX_BLOCKS_PER_SNAPSHOT = 64;
const FULL_BLOCK_SIZE = 1024;

type Entry = [number, number, number];

function hashOf(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * State snapshots as deduplicated blocks. A new snapshot reuses the blocks of the snapshot
 * it derives from and adds one block with the difference; identical blocks and snapshots are
 * stored once. Blocks and snapshots never change, so both are cached.
 */
export class StateStore {
  private readonly blockCache = new LruCache<number, Entry[]>(8192);
  private readonly snapshotCache = new LruCache<number, NidState>(1024);
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    this.stmts = {
      blockByHash: db.prepare<[Buffer], { block_nid: number }>('SELECT block_nid FROM rs_state_blocks WHERE hash = ?'),
      insertBlock: db.prepare<[Buffer, string]>('INSERT INTO rs_state_blocks (hash, entries) VALUES (?, ?)'),
      block: db.prepare<[number], { entries: string }>('SELECT entries FROM rs_state_blocks WHERE block_nid = ?'),
      snapshotByHash: db.prepare<[Buffer], { snapshot_nid: number }>('SELECT snapshot_nid FROM rs_state_snapshots WHERE hash = ?'),
      insertSnapshot: db.prepare<[Buffer, number, string]>('INSERT INTO rs_state_snapshots (hash, room_nid, block_nids) VALUES (?, ?, ?)'),
      snapshot: db.prepare<[number], { block_nids: string }>('SELECT block_nids FROM rs_state_snapshots WHERE snapshot_nid = ?'),
    };
  }

  private blockNids(snapshotNid: number): number[] {
    if (snapshotNid === 0) return [];
    const row = this.stmts.snapshot.get(snapshotNid);
    if (!row) throw new Error(`unknown state snapshot ${snapshotNid}`);
    return JSON.parse(row.block_nids) as number[];
  }

  private block(blockNid: number): Entry[] {
    let entries = this.blockCache.get(blockNid);
    if (!entries) {
      const row = this.stmts.block.get(blockNid);
      if (!row) throw new Error(`unknown state block ${blockNid}`);
      entries = JSON.parse(row.entries) as Entry[];
      this.blockCache.set(blockNid, entries);
    }
    return entries;
  }

  /** The full state of a snapshot (0 = empty). The returned map is shared: never mutate it. */
  load(snapshotNid: number): NidState {
    if (snapshotNid === 0) return new Map();
    const cached = this.snapshotCache.get(snapshotNid);
    if (cached) return cached;
    const state = new Map<number, number>();
    for (const b of this.blockNids(snapshotNid)) {
      for (const [t, s, e] of this.block(b)) {
        const k = packKey(t, s);
        if (e === 0) state.delete(k);
        else state.set(k, e);
      }
    }
    this.snapshotCache.set(snapshotNid, state);
    return state;
  }

  private storeBlock(entries: Entry[]): number {
    entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const text = JSON.stringify(entries);
    const hash = hashOf(text);
    const existing = this.stmts.blockByHash.get(hash);
    if (existing) return existing.block_nid;
    const nid = Number(this.stmts.insertBlock.run(hash, text).lastInsertRowid);
    this.blockCache.set(nid, entries);
    return nid;
  }

  /**
   * Stores `state` as a snapshot derived from `baseSnapshotNid` (0 for none) and returns its
   * id; the base itself when nothing changed. Call inside the caller's transaction.
   */
  store(roomNid: number, baseSnapshotNid: number, state: NidState): number {
    const base = this.load(baseSnapshotNid);
    if (state === base && baseSnapshotNid !== 0) return baseSnapshotNid; // unchanged (message events)
    const delta: Entry[] = [];
    for (const [k, e] of state) {
      if (base.get(k) !== e) {
        const [t, s] = unpackKey(k);
        delta.push([t, s, e]);
      }
    }
    for (const k of base.keys()) {
      if (!state.has(k)) {
        const [t, s] = unpackKey(k);
        delta.push([t, s, 0]);
      }
    }
    if (delta.length === 0 && baseSnapshotNid !== 0) return baseSnapshotNid;
    let blocks = this.blockNids(baseSnapshotNid);
    if (blocks.length < MAX_BLOCKS_PER_SNAPSHOT) {
      blocks = delta.length > 0 ? [...blocks, this.storeBlock(delta)] : blocks;
    } else {
      const all: Entry[] = [...state].map(([k, e]) => [...unpackKey(k), e] as Entry);
      all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      blocks = [];
      for (let i = 0; i < all.length; i += FULL_BLOCK_SIZE) blocks.push(this.storeBlock(all.slice(i, i + FULL_BLOCK_SIZE)));
    }
    const text = JSON.stringify(blocks);
    const hash = hashOf(`${roomNid}:${text}`);
    const existing = this.stmts.snapshotByHash.get(hash);
    if (existing) return existing.snapshot_nid;
    const nid = Number(this.stmts.insertSnapshot.run(hash, roomNid, text).lastInsertRowid);
    const frozen = new Map(state);
    this.snapshotCache.set(nid, frozen);
    return nid;
  }

  /** Forgets cached snapshots (after a rolled-back transaction, ids may be reused). */
  resetCaches(): void {
    this.blockCache.clear();
    this.snapshotCache.clear();
  }
}
