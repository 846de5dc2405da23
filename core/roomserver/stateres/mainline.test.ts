import { describe, expect, test } from 'vitest';
import { compareCodePoints } from './compare.js';
import { EventGraph } from './eventgraph.js';
import { MainlinePositions, mainlineOf, mainlineOrder } from './mainline.js';
import { ALICE, BOB, DagBuilder } from './testutil.js';

/** P1 ← P2 ← P3 is the mainline; PB is a side branch off P1. */
function room() {
  const d = new DagBuilder('10');
  const create = d.add('CREATE', { type: 'm.room.create', sender: ALICE, stateKey: '', content: d.createContent(ALICE) }, [], []).eventId;
  const pl = (node: string, cites: string[]) =>
    d.add(node, { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100 } } }, [], [create, ...cites.map((n) => d.idOf(n))]);
  pl('P1', []);
  pl('P2', ['P1']);
  pl('P3', ['P2']);
  pl('PB', ['P1']);
  const topic = (node: string, cites: string[], ts: number) =>
    d.add(node, { type: 'm.room.topic', sender: BOB, stateKey: '' }, [], [create, ...cites.map((n) => d.idOf(n))], ts).eventId;
  return { d, topic, graph: new EventGraph(d.provider()) };
}

describe('mainline', () => {
  test('mainlineOf follows the power levels each cites', () => {
    const { d, graph } = room();
    expect([...mainlineOf(d.idOf('P3'), graph)]).toEqual([
      [d.idOf('P3'), 0],
      [d.idOf('P2'), 1],
      [d.idOf('P1'), 2],
    ]);
    expect(mainlineOf(undefined, graph).size).toBe(0);
  });

  test('the position is that of the first mainline event among the cited power levels, not the event itself', () => {
    const { d, topic, graph } = room();
    const positions = new MainlinePositions(mainlineOf(d.idOf('P3'), graph), graph);
    const ev = (id: string) => d.events.get(id)!;
    expect(positions.positionOf(ev(topic('T3', ['P3'], 1)))).toBe(0);
    expect(positions.positionOf(ev(topic('T1', ['P1'], 2)))).toBe(2);
    expect(positions.positionOf(ev(topic('TB', ['PB'], 3)))).toBe(2);
    expect(positions.positionOf(ev(topic('TNONE', [], 4)))).toBe(Infinity);
    // P2 itself (e₀) is skipped: it is placed by the power levels it cites.
    expect(positions.positionOf(ev(d.idOf('P2')))).toBe(2);
  });

  test('sorts the earliest epoch first (no power levels at all before any), then by origin_server_ts, then event id', () => {
    const { d, topic, graph } = room();
    const ids = [topic('NEW', ['P3'], 1), topic('MID', ['P2'], 1), topic('OLD_B', ['PB'], 5), topic('OLD_A', ['P1'], 5), topic('OLD_0', ['P1'], 2), topic('NONE', [], 9)];
    expect(mainlineOrder(ids, d.idOf('P3'), graph).map((id) => id.slice(1))).toEqual(['NONE', 'OLD_0', 'OLD_A', 'OLD_B', 'MID', 'NEW']);
  });

  test('without a resolved power levels event, only timestamps and ids order', () => {
    const { topic, graph } = room();
    const ids = [topic('B', ['P3'], 2), topic('A', ['P1'], 2), topic('C', [], 1)];
    expect(mainlineOrder(ids, undefined, graph).map((id) => id.slice(1))).toEqual(['C', 'A', 'B']);
  });

  test('unknown events are left out', () => {
    const { d, topic, graph } = room();
    expect(mainlineOrder([topic('T', ['P3'], 1), '$nope'], d.idOf('P3'), graph)).toEqual([d.idOf('T')]);
  });
});

describe('compareCodePoints', () => {
  test('orders by code point, not UTF-16 unit', () => {
    const astral = '\u{1F600}';
    const bmpHigh = '\uFFFD';
    expect(astral < bmpHigh).toBe(true); // JavaScript's unit order
    expect(compareCodePoints(astral, bmpHigh)).toBeGreaterThan(0);
    expect(compareCodePoints('$a', '$b')).toBeLessThan(0);
    expect(compareCodePoints('$a', '$ab')).toBeLessThan(0);
    expect(compareCodePoints('$x', '$x')).toBe(0);
  });
});
