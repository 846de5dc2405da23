import { toRoomEvent } from '../../events/event.js';
import { getRoomVersion, type RoomVersion } from '../../events/roomversions.js';
import { stateKey, type EventRef, type JsonObject, type PDUJson, type RoomEvent } from '../../events/types.js';
import { authEventTypesNeeded, authStateFromEvents, checkAuth, roomCreators } from '../auth/index.js';
import { compareCodePoints } from './compare.js';
import { resolveState } from './index.js';
import { lexicographicalTopologicalSort } from './powerorder.js';
import type { EventProvider, StateMap } from './types.js';

export const ALICE = '@alice:example.com';
export const BOB = '@bob:example.com';
export const CHARLIE = '@charlie:example.com';
export const EVELYN = '@evelyn:example.com';
export const ZARA = '@zara:example.com';

/** An event as a test describes it; the builder fills in the rest. */
export interface EventSpec {
  type: string;
  sender: string;
  stateKey?: string;
  content?: JsonObject;
}

function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}

/**
 * Builds the events of one room from node names: `$NAME:example.com` ids in v1/v2, `$NAME`
 * from v3 (the v12 room id is `!CREATE`). Timestamps rise by one per event and depth is one
 * more than the deepest prev event. Signatures and hashes are dummies: state resolution does
 * not read them.
 */
export class DagBuilder {
  readonly version: RoomVersion;
  readonly roomId: string;
  readonly events = new Map<string, RoomEvent>();
  readonly rejected = new Set<string>();
  private clock = 0;

  constructor(versionId: string, readonly createNode = 'CREATE') {
    this.version = version(versionId);
    this.roomId = this.version.roomIdFromCreate ? `!${this.idOf(createNode).slice(1)}` : '!room:example.com';
  }

  idOf(node: string): string {
    return this.version.eventIdFormat === 'v1' ? `$${node}:example.com` : `$${node}`;
  }

  /** The room's create event content for `creator`, in this version's form. */
  createContent(creator: string): JsonObject {
    const content: JsonObject = { room_version: this.version.id };
    if (!this.version.implicitCreator) content.creator = creator;
    return content;
  }

  /**
   * v12 creators may not be listed in `users` and already have infinite power: the scenarios
   * (written as Synapse's, with the creator at 100) keep their meaning without them.
   */
  private adaptContent(spec: EventSpec): JsonObject {
    const content: JsonObject = { ...(spec.content ?? {}) };
    const create = this.events.get(this.idOf(this.createNode));
    const users = content.users;
    if (spec.type === 'm.room.power_levels' && this.version.privilegedCreators && create && typeof users === 'object' && users !== null && !Array.isArray(users)) {
      const kept: JsonObject = { ...users };
      for (const c of roomCreators(create)) delete kept[c];
      content.users = kept;
    }
    return content;
  }

  private ref(id: string): EventRef {
    return this.version.legacyEventRefs ? [id, { sha256: 'AAAA' }] : id;
  }

  /** Builds and keeps an event with exactly these prev and auth events (event ids); `originServerTs` overrides the clock. */
  add(node: string, spec: EventSpec, prevEvents: readonly string[], authEvents: readonly string[], originServerTs?: number): RoomEvent {
    const eventId = this.idOf(node);
    if (this.events.has(eventId)) throw new Error(`event ${node} already exists`);
    this.clock += 1;
    const depth = prevEvents.reduce((d, id) => Math.max(d, (this.events.get(id)?.depth ?? 0) + 1), 1);
    const json: PDUJson = {
      sender: spec.sender,
      type: spec.type,
      content: this.adaptContent(spec),
      prev_events: prevEvents.map((id) => this.ref(id)),
      auth_events: authEvents.map((id) => this.ref(id)),
      depth,
      origin_server_ts: originServerTs ?? this.clock,
      hashes: { sha256: 'AAAA' },
      signatures: { 'example.com': { 'ed25519:test': 'c2ln' } },
    };
    const isV12Create = this.version.roomIdFromCreate && spec.type === 'm.room.create';
    if (!isV12Create) json.room_id = this.roomId;
    if (spec.stateKey !== undefined) json.state_key = spec.stateKey;
    if (this.version.legacyEventRefs) json.event_id = eventId;
    const ev = toRoomEvent(json, eventId, this.version, this.roomId);
    this.events.set(eventId, ev);
    return ev;
  }

  /** The auth events the server-server spec's selection picks for `spec` from `state`. */
  authEventsFor(spec: EventSpec, state: StateMap): string[] {
    const out: string[] = [];
    for (const [type, key] of authEventTypesNeeded({ ...spec, content: spec.content ?? {} }, this.version)) {
      const id = state.get(stateKey(type, key));
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  /** Adds an event whose auth events are picked from `state`, and checks it passes auth against them. */
  addInState(node: string, spec: EventSpec, prevEvents: readonly string[], state: StateMap): RoomEvent {
    const ev = this.add(node, spec, prevEvents, this.authEventsFor(spec, state));
    this.assertAuthorised(ev);
    return ev;
  }

  /** Throws unless `ev` passes the auth rules against its own auth events: scenarios must hold no event rejected by its auth chain. */
  assertAuthorised(ev: RoomEvent): void {
    const authEvents = ev.authEventIds.map((id) => this.events.get(id)).filter((e): e is RoomEvent => e !== undefined);
    const create = this.events.get(this.idOf(this.createNode));
    if (this.version.roomIdFromCreate && create && ev !== create) authEvents.unshift(create);
    const result = checkAuth(ev, authStateFromEvents(authEvents));
    if (!result.allowed) throw new Error(`fixture event ${ev.eventId} fails auth: ${result.rule}: ${result.reason}`);
  }

  provider(): EventProvider {
    return { get: (id) => this.events.get(id), isRejected: (id) => this.rejected.has(id) };
  }

  /** A state map of these nodes' events. */
  stateOf(nodes: readonly string[]): StateMap {
    const state: StateMap = new Map();
    for (const node of nodes) {
      const ev = this.events.get(this.idOf(node));
      if (!ev || ev.stateKey === undefined) throw new Error(`${node} is not a known state event`);
      state.set(stateKey(ev.type, ev.stateKey), ev.eventId);
    }
    return state;
  }
}

/** The events every scenario starts with, in Synapse's test_v2 shape: alice creates a public room; bob, charlie and zara join. */
export const INITIAL_EVENTS: Readonly<Record<string, EventSpec>> = {
  CREATE: { type: 'm.room.create', sender: ALICE, stateKey: '' },
  IMA: { type: 'm.room.member', sender: ALICE, stateKey: ALICE, content: { membership: 'join' } },
  IPOWER: { type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: { users: { [ALICE]: 100 } } },
  IJR: { type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: 'public' } },
  IMB: { type: 'm.room.member', sender: BOB, stateKey: BOB, content: { membership: 'join' } },
  IMC: { type: 'm.room.member', sender: CHARLIE, stateKey: CHARLIE, content: { membership: 'join' } },
  IMZ: { type: 'm.room.member', sender: ZARA, stateKey: ZARA, content: { membership: 'join' } },
  START: { type: 'm.room.message', sender: ZARA, content: { body: 'start' } },
  END: { type: 'm.room.message', sender: ZARA, content: { body: 'end' } },
};

/** Each chain lists events newest first; each event's prev events include the next one. */
export const INITIAL_EDGES: readonly string[] = ['START', 'IMZ', 'IMC', 'IMB', 'IJR', 'IPOWER', 'IMA', 'CREATE'];

export interface Scenario {
  events: Readonly<Record<string, EventSpec>>;
  /** Chains of nodes, newest first: [A, B, C] makes B a prev event of A and C of B. */
  edges: ReadonlyArray<readonly string[]>;
}

export interface ScenarioRun {
  dag: DagBuilder;
  /** The state after each node. */
  stateAfter: Map<string, StateMap>;
  /**
   * The state at END as `"type state_key" → node`, limited (as Synapse's do_check does) to the
   * keys of `expectedNodes` and the keys that changed since START; and the expected one.
   */
  compare(expectedNodes: readonly string[]): { actual: Record<string, string>; expected: Record<string, string> };
}

function readableKey(k: string): string {
  return k.replace('\u0000', ' ');
}

/**
 * Runs a scenario the classic way: events are created in topological order (ties by node name);
 * the state before each is the resolution of the states after its prev events, and it cites
 * the auth events the selection rules pick from that state.
 */
export function runScenario(versionId: string, scenario: Scenario): ScenarioRun {
  const dag = new DagBuilder(versionId);
  const specs: Record<string, EventSpec> = { ...INITIAL_EVENTS, ...scenario.events };
  specs.CREATE = { ...specs.CREATE!, content: dag.createContent(ALICE) };
  const prevs = new Map<string, Set<string>>();
  for (const node of Object.keys(specs)) prevs.set(node, new Set());
  for (const chain of [INITIAL_EDGES, ...scenario.edges]) {
    for (let i = 0; i + 1 < chain.length; i++) {
      const from = prevs.get(chain[i]!);
      if (!from || !prevs.has(chain[i + 1]!)) throw new Error(`edge ${chain[i]} → ${chain[i + 1]} names an unknown node`);
      from.add(chain[i + 1]!);
    }
  }

  const provider = dag.provider();
  const stateAfter = new Map<string, StateMap>();
  for (const node of lexicographicalTopologicalSort(prevs, compareCodePoints)) {
    const spec = specs[node]!;
    const prevNodes = [...prevs.get(node)!].sort(compareCodePoints);
    const before =
      prevNodes.length === 0
        ? new Map<string, string>()
        : prevNodes.length === 1
          ? new Map(stateAfter.get(prevNodes[0]!)!)
          : resolveState(dag.version, prevNodes.map((p) => stateAfter.get(p)!), provider);
    const ev = dag.addInState(node, spec, prevNodes.map((p) => dag.idOf(p)), before);
    const after = new Map(before);
    if (ev.stateKey !== undefined) after.set(stateKey(ev.type, ev.stateKey), ev.eventId);
    stateAfter.set(node, after);
  }

  const nodeOf = new Map([...dag.events.keys()].map((id) => [id, id.slice(1).split(':')[0]!]));
  return {
    dag,
    stateAfter,
    compare(expectedNodes) {
      const expected: Record<string, string> = {};
      for (const node of expectedNodes) {
        const ev = dag.events.get(dag.idOf(node))!;
        expected[readableKey(stateKey(ev.type, ev.stateKey!))] = node;
      }
      const start = stateAfter.get('START')!;
      const actual: Record<string, string> = {};
      for (const [k, id] of stateAfter.get('END')!) {
        if (readableKey(k) in expected || start.get(k) !== id) actual[readableKey(k)] = nodeOf.get(id)!;
      }
      return { actual, expected };
    },
  };
}
