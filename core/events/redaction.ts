/**
 * The redaction algorithms of the room versions (content/rooms/fragments/*-redactions.md and
 * the v8 page). Redaction keeps the keys an event needs to stay verifiable and authorisable;
 * the reference hash and signatures are computed over the redacted form.
 */
import type { RedactionAlgorithm, RoomVersion } from './roomversions.js';
import type { JsonObject, JsonValue, PDUJson } from './types.js';

interface RedactionRules {
  /** Top-level keys kept. */
  readonly topLevel: ReadonlySet<string>;
  /** Content keys kept per event type ('all' keeps the whole content); others keep none. */
  readonly content: ReadonlyMap<string, readonly string[] | 'all'>;
  /** v11+: `m.room.member` keeps `third_party_invite`, reduced to its `signed` key. */
  readonly thirdPartyInviteSigned: boolean;
}

const TOP_LEVEL_V1 = [
  'event_id',
  'type',
  'room_id',
  'sender',
  'state_key',
  'content',
  'hashes',
  'signatures',
  'depth',
  'prev_events',
  'prev_state',
  'auth_events',
  'origin',
  'origin_server_ts',
  'membership',
];
const TOP_LEVEL_V11 = TOP_LEVEL_V1.filter((k) => k !== 'origin' && k !== 'membership' && k !== 'prev_state');

const POWER_LEVELS_V1 = ['ban', 'events', 'events_default', 'kick', 'redact', 'state_default', 'users', 'users_default'];

type ContentRules = Map<string, readonly string[] | 'all'>;

/** Room versions 1–5. */
const V1: RedactionRules = {
  topLevel: new Set(TOP_LEVEL_V1),
  content: new Map<string, readonly string[] | 'all'>([
    ['m.room.member', ['membership']],
    ['m.room.create', ['creator']],
    ['m.room.join_rules', ['join_rule']],
    ['m.room.power_levels', POWER_LEVELS_V1],
    ['m.room.aliases', ['aliases']],
    ['m.room.history_visibility', ['history_visibility']],
  ]),
  thirdPartyInviteSigned: false,
};

/** v6–7: `m.room.aliases` loses its special case. */
const V6: RedactionRules = {
  ...V1,
  content: new Map([...V1.content].filter(([type]) => type !== 'm.room.aliases')),
};

/** v8: join rules keep `allow` (restricted joins). */
const V8: RedactionRules = {
  ...V6,
  content: new Map([...V6.content, ['m.room.join_rules', ['join_rule', 'allow']]]) as ContentRules,
};

/** v9–10: member events keep `join_authorised_via_users_server`. */
const V9: RedactionRules = {
  ...V8,
  content: new Map([...V8.content, ['m.room.member', ['membership', 'join_authorised_via_users_server']]]) as ContentRules,
};

/** v11+: top-level origin/membership/prev_state go; create keeps all content; power levels
 * keep `invite`; redactions keep `redacts`; members keep `third_party_invite.signed`. */
const V11: RedactionRules = {
  topLevel: new Set(TOP_LEVEL_V11),
  content: new Map<string, readonly string[] | 'all'>([
    ['m.room.member', ['membership', 'join_authorised_via_users_server']],
    ['m.room.create', 'all'],
    ['m.room.join_rules', ['join_rule', 'allow']],
    ['m.room.power_levels', [...POWER_LEVELS_V1, 'invite']],
    ['m.room.history_visibility', ['history_visibility']],
    ['m.room.redaction', ['redacts']],
  ]),
  thirdPartyInviteSigned: true,
};

const RULES: Record<RedactionAlgorithm, RedactionRules> = { v1: V1, v6: V6, v8: V8, v9: V9, v11: V11 };

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function redactContent(type: unknown, content: unknown, rules: RedactionRules): JsonObject {
  if (!isObject(content) || typeof type !== 'string') return {};
  const keep = rules.content.get(type);
  if (keep === 'all') return content;
  const out: JsonObject = {};
  if (keep) {
    for (const k of keep) {
      const v = content[k];
      if (v !== undefined && Object.hasOwn(content, k)) out[k] = v;
    }
  }
  if (rules.thirdPartyInviteSigned && type === 'm.room.member') {
    // As Synapse does: an object `third_party_invite` stays, holding only `signed` if it had it.
    const invite = content.third_party_invite;
    if (isObject(invite)) {
      const signed = invite.signed;
      out.third_party_invite = signed !== undefined && Object.hasOwn(invite, 'signed') ? { signed } : {};
    }
  }
  return out;
}

/**
 * Returns the event redacted with the algorithm of `version`. The result is a new object; the
 * values it keeps are shared with the input, so neither may be mutated afterwards. `content`
 * is always present in the result.
 */
export function redactEvent(pdu: PDUJson, version: RoomVersion): PDUJson {
  const rules = RULES[version.redaction];
  const out: Record<string, JsonValue> = {};
  for (const k of Object.keys(pdu)) {
    const v = pdu[k];
    if (v !== undefined && rules.topLevel.has(k)) out[k] = v;
  }
  out.content = redactContent(pdu.type, pdu.content, rules);
  return out as unknown as PDUJson;
}
