import { describe, expect, test } from 'vitest';
import { separateV1, separateV2 } from './separate.js';
import type { StateMap } from './types.js';

const state = (entries: Record<string, string>): StateMap => new Map(Object.entries(entries));
const plain = (m: Map<string, Set<string>>): Record<string, string[]> =>
  Object.fromEntries([...m].map(([k, ids]) => [k, [...ids].sort()]));

describe('separateV2', () => {
  test('a key every set gives the same event is unconflicted', () => {
    const { unconflicted, conflicted } = separateV2([state({ a: '$1', b: '$2' }), state({ a: '$1', b: '$3' })]);
    expect(Object.fromEntries(unconflicted)).toEqual({ a: '$1' });
    expect(plain(conflicted)).toEqual({ b: ['$2', '$3'] });
  });

  test('a key missing from one set is conflicted, with the events the others give', () => {
    const { unconflicted, conflicted } = separateV2([state({ a: '$1', b: '$2' }), state({ a: '$1' }), state({ a: '$1', b: '$2' })]);
    expect(Object.fromEntries(unconflicted)).toEqual({ a: '$1' });
    expect(plain(conflicted)).toEqual({ b: ['$2'] });
  });

  test('collects every distinct event across many sets', () => {
    const { conflicted } = separateV2([state({ k: '$1' }), state({ k: '$1' }), state({ k: '$2' }), state({ k: '$3' }), state({ k: '$2' })]);
    expect(plain(conflicted)).toEqual({ k: ['$1', '$2', '$3'] });
  });

  test('a single set is all unconflicted', () => {
    const { unconflicted, conflicted } = separateV2([state({ a: '$1', b: '$2' })]);
    expect(unconflicted.size).toBe(2);
    expect(conflicted.size).toBe(0);
  });
});

describe('separateV1', () => {
  test('a key missing from some sets is not a conflict', () => {
    const { unconflicted, conflicted } = separateV1([state({ a: '$1', b: '$2' }), state({ a: '$1' })]);
    expect(Object.fromEntries(unconflicted)).toEqual({ a: '$1', b: '$2' });
    expect(conflicted.size).toBe(0);
  });

  test('different events for one key conflict', () => {
    const { unconflicted, conflicted } = separateV1([state({ a: '$1', b: '$2' }), state({ b: '$3' }), state({})]);
    expect(Object.fromEntries(unconflicted)).toEqual({ a: '$1' });
    expect(plain(conflicted)).toEqual({ b: ['$2', '$3'] });
  });
});
