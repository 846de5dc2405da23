import type { StateMap } from './types.js';

export interface SeparatedState {
  unconflicted: StateMap;
  /** State key → the different event ids the state sets give it. */
  conflicted: Map<string, Set<string>>;
}

interface KeyTally {
  first: string;
  sets: number;
  /** Created on the first disagreement; holds every value seen for the key. */
  values: Set<string> | undefined;
}

function tally(stateSets: readonly StateMap[]): Map<string, KeyTally> {
  const byKey = new Map<string, KeyTally>();
  for (const set of stateSets) {
    for (const [key, id] of set) {
      const t = byKey.get(key);
      if (!t) {
        byKey.set(key, { first: id, sets: 1, values: undefined });
        continue;
      }
      t.sets += 1;
      if (t.values) t.values.add(id);
      else if (id !== t.first) t.values = new Set([t.first, id]);
    }
  }
  return byKey;
}

/**
 * v2 (rooms v2–12): a key is unconflicted only when every state set has it with the same
 * event; a key missing from some set is conflicted, its events forming part of the conflicted
 * state set.
 */
export function separateV2(stateSets: readonly StateMap[]): SeparatedState {
  const unconflicted: StateMap = new Map();
  const conflicted = new Map<string, Set<string>>();
  for (const [key, t] of tally(stateSets)) {
    if (!t.values && t.sets === stateSets.length) unconflicted.set(key, t.first);
    else conflicted.set(key, t.values ?? new Set([t.first]));
  }
  return { unconflicted, conflicted };
}

/**
 * v1 (room v1): a conflict is two state sets giving a key different events; a key some sets
 * lack is unconflicted.
 */
export function separateV1(stateSets: readonly StateMap[]): SeparatedState {
  const unconflicted: StateMap = new Map();
  const conflicted = new Map<string, Set<string>>();
  for (const [key, t] of tally(stateSets)) {
    if (t.values) conflicted.set(key, t.values);
    else unconflicted.set(key, t.first);
  }
  return { unconflicted, conflicted };
}
