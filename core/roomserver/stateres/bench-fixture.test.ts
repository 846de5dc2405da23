import { describe, expect, test } from 'vitest';
import { stateKey } from '../../events/types.js';
import { generateConflictFixture, MODERATOR } from './bench-fixture.js';
import { resolveState } from './index.js';

const member = (i: number) => stateKey('m.room.member', `@u${i}:example.com`);

describe('generateConflictFixture', () => {
  test('makes about the requested number of conflicted events, deterministically', () => {
    const f = generateConflictFixture(1000, '11');
    // 500 users on both branches, plus the power levels (2) and the topic (1).
    expect(f.conflictedEvents).toBe(1003);
    const again = generateConflictFixture(1000, '11');
    expect([...again.events.keys()]).toEqual([...f.events.keys()]);
    expect(again.stateSets).toEqual(f.stateSets);
  });

  test.each(['11', '12'])('v%s: bans hold, later joins win, and all members survive', (id) => {
    const f = generateConflictFixture(1000, id);
    const [a, b] = f.stateSets as [Map<string, string>, Map<string, string>];
    const resolved = resolveState(f.version, f.stateSets, f.provider);
    // u39 was banned on branch A (by the moderator) and only joined on branch B.
    expect(f.events.get(resolved.get(member(39))!)!.content.membership).toBe('ban');
    // u0 joined on both; branch B's join is the later one in the same power levels epoch.
    expect(resolved.get(member(0))).toBe(b.get(member(0)));
    expect(a.get(member(0))).not.toBe(b.get(member(0)));
    // Branch B's last power levels are the resolved ones.
    expect(resolved.get(stateKey('m.room.power_levels', ''))).toBe(b.get(stateKey('m.room.power_levels', '')));
    expect(resolved.get(stateKey('m.room.member', MODERATOR))).toBe(a.get(stateKey('m.room.member', MODERATOR)));
    for (let i = 0; i < 500; i++) expect(resolved.has(member(i))).toBe(true);
  });

  test('v1 resolves it too', () => {
    const f = generateConflictFixture(1000, '1');
    const resolved = resolveState(f.version, f.stateSets, f.provider);
    for (let i = 0; i < 500; i++) expect(resolved.has(member(i))).toBe(true);
    expect(resolved.has(stateKey('m.room.topic', ''))).toBe(true);
  });
});
