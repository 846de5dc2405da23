import type { JsonObject, JsonValue } from '../events/types.js';
import type { PushRuleSet } from './pushrules.js';

/** The fields of an event the push rules look at; the rest of the event is matched by key. */
export interface PushEvent {
  type: string;
  content: JsonObject;
  sender: string;
  room_id: string;
  state_key?: string;
  [key: string]: JsonValue | undefined;
}

/** What the evaluator needs to know about the user and the room, beyond the event itself. */
export interface PushContext {
  /** The user whose rules these are. */
  userId: string;
  /** The user's display name in this room (for contains_display_name). */
  displayName?: string;
  /** Joined members of the room now. */
  roomMemberCount: number;
  /** The sender's power level in the room. */
  senderPowerLevel: number;
  /** `notifications` of the room's m.room.power_levels content; missing keys default to 50. */
  notificationPowerLevels: Record<string, number>;
}

export type PushAction = string | JsonObject;

export interface PushResult {
  /** The matching rule's actions, with the historical dont_notify/coalesce stripped. */
  actions: PushAction[];
  highlight: boolean;
  notify: boolean;
  ruleId: string;
}

export const RULE_KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Default notification power level (m.room.power_levels: notifications.room defaults to 50). */
const DEFAULT_NOTIFICATION_LEVEL = 50;
const HISTORICAL_ACTIONS = new Set(['dont_notify', 'coalesce']);

/**
 * What conditions concluded for one event, shared by all of its recipients: most of every
 * member's rules are the same defaults, and their regular expressions cost more than
 * everything else. Only valid for one event and one set of room facts (member count,
 * sender's power); make a new one per event.
 */
export type EventMemo = Map<number, boolean>;

/** Each distinct condition (and content pattern) as a small number, the memo's key: rules of
 * different users hold equal conditions as different strings, which a Map would compare in
 * full on every lookup. Grows with the distinct conditions of local users' rules. */
const conditionIds = new Map<string, number>();

function conditionId(text: string): number {
  let id = conditionIds.get(text);
  if (id === undefined) conditionIds.set(text, (id = conditionIds.size));
  return id;
}

/**
 * Evaluates `rules` for `event` in the spec's order (override, content, room, sender,
 * underride): the first enabled rule that matches wins. Returns undefined when none does.
 * The caller skips events the user sent themselves (the spec forbids notifying those).
 *
 * With a memo, `rules` must not change afterwards: it is compiled once, and what each
 * condition concluded is shared with the event's other recipients (all but a display name).
 */
export function evaluatePushRules(rules: PushRuleSet, event: PushEvent, ctx: PushContext, memo?: EventMemo): PushResult | undefined {
  if (memo) return evaluateCompiled(compiledRules(rules), event, ctx, memo);
  for (const kind of RULE_KINDS) {
    for (const rule of rules[kind]) {
      if (rule.enabled !== true) continue;
      const ruleId = rule.rule_id;
      if (typeof ruleId !== 'string') continue;
      if (!ruleMatches(kind, rule, event, ctx)) continue;
      return resultFor(rule, ruleId);
    }
  }
  return undefined;
}

/** Results per rule object: a user's rules are cached and read-only, so most events of most
 * members end in a result already made (callers must not modify it). */
const results = new WeakMap<JsonObject, PushResult>();

function resultFor(rule: JsonObject, ruleId: string): PushResult {
  let result = results.get(rule);
  if (!result || result.ruleId !== ruleId) results.set(rule, (result = resultOf(ruleId, rule.actions)));
  return result;
}

function resultOf(ruleId: string, raw: JsonValue | undefined): PushResult {
  const actions: PushAction[] = [];
  for (const a of Array.isArray(raw) ? raw : []) {
    if (typeof a === 'string') {
      if (!HISTORICAL_ACTIONS.has(a)) actions.push(a);
    } else if (a !== null && typeof a === 'object' && !Array.isArray(a)) {
      actions.push(a);
    }
  }
  const notify = actions.includes('notify');
  const highlight = actions.some(
    (a) => typeof a === 'object' && a.set_tweak === 'highlight' && (a.value === undefined || a.value === true),
  );
  return { actions, highlight, notify, ruleId };
}

/** An enabled rule, ready to test: its conditions with their memo keys (null: depends on the
 * user), or what it compares. */
interface CompiledRule {
  kind: RuleKind;
  rule: JsonObject;
  ruleId: string;
  conditions: JsonObject[];
  /** Per condition: its id, or -1 when it depends on the user. */
  keys: number[];
  /** content rules: the pattern; room and sender rules: the room or user id. */
  match?: string;
}

const compiled = new WeakMap<PushRuleSet, CompiledRule[]>();

function compiledRules(rules: PushRuleSet): CompiledRule[] {
  let list = compiled.get(rules);
  if (list) return list;
  list = [];
  for (const kind of RULE_KINDS) {
    for (const rule of rules[kind]) {
      const ruleId = rule.rule_id;
      if (rule.enabled !== true || typeof ruleId !== 'string') continue;
      const c: CompiledRule = { kind, rule, ruleId, conditions: [], keys: [] };
      if (kind === 'override' || kind === 'underride') {
        const conditions = rule.conditions ?? [];
        // Malformed: the rule never matches.
        if (!Array.isArray(conditions) || !conditions.every((x) => x !== null && typeof x === 'object' && !Array.isArray(x))) continue;
        c.conditions = conditions as JsonObject[];
        c.keys = c.conditions.map((x) => (x.kind === 'contains_display_name' ? -1 : conditionId(JSON.stringify(x))));
      } else if (kind === 'content') {
        if (typeof rule.pattern !== 'string') continue;
        c.match = rule.pattern;
        c.keys = [conditionId(`\u0000content:${rule.pattern}`)];
      } else {
        c.match = ruleId;
      }
      list.push(c);
    }
  }
  compiled.set(rules, list);
  return list;
}

function evaluateCompiled(rules: CompiledRule[], event: PushEvent, ctx: PushContext, memo: EventMemo): PushResult | undefined {
  for (const c of rules) {
    let ok = true;
    switch (c.kind) {
      case 'override':
      case 'underride':
        for (let i = 0; i < c.conditions.length && ok; i++) {
          const key = c.keys[i]!;
          let v = key < 0 ? undefined : memo.get(key);
          if (v === undefined) {
            v = conditionMatches(c.conditions[i]!, event, ctx);
            if (key >= 0) memo.set(key, v);
          }
          ok = v;
        }
        break;
      case 'content': {
        const key = c.keys[0]!;
        let v = memo.get(key);
        if (v === undefined) {
          const body = event.content.body;
          memo.set(key, (v = typeof body === 'string' && globMatches(c.match!, body, true)));
        }
        ok = v;
        break;
      }
      case 'room':
        ok = c.match === event.room_id;
        break;
      case 'sender':
        ok = c.match === event.sender;
        break;
    }
    if (ok) return resultFor(c.rule, c.ruleId);
  }
  return undefined;
}

function ruleMatches(kind: RuleKind, rule: JsonObject, event: PushEvent, ctx: PushContext): boolean {
  switch (kind) {
    case 'override':
    case 'underride': {
      const conditions = rule.conditions ?? [];
      if (!Array.isArray(conditions)) return false;
      return conditions.every((c) => c !== null && typeof c === 'object' && !Array.isArray(c) && conditionMatches(c, event, ctx));
    }
    case 'content': {
      const body = event.content.body;
      return typeof rule.pattern === 'string' && typeof body === 'string' && globMatches(rule.pattern, body, true);
    }
    case 'room':
      return rule.rule_id === event.room_id;
    case 'sender':
      return rule.rule_id === event.sender;
  }
}

/** Whether one condition holds; unknown kinds and malformed parameters never match. */
export function conditionMatches(cond: JsonObject, event: PushEvent, ctx: PushContext): boolean {
  switch (cond.kind) {
    case 'event_match': {
      if (typeof cond.key !== 'string' || typeof cond.pattern !== 'string') return false;
      const v = propertyAt(event, cond.key);
      return typeof v === 'string' && globMatches(cond.pattern, v, cond.key === 'content.body');
    }
    case 'event_property_is': {
      if (typeof cond.key !== 'string' || !isScalar(cond.value)) return false;
      const v = propertyAt(event, cond.key);
      return isScalar(v) && v === cond.value;
    }
    case 'event_property_contains': {
      if (typeof cond.key !== 'string' || !isScalar(cond.value)) return false;
      const v = propertyAt(event, cond.key);
      return Array.isArray(v) && v.some((x) => isScalar(x) && x === cond.value);
    }
    case 'contains_display_name': {
      const body = event.content.body;
      const name = ctx.displayName;
      if (typeof body !== 'string' || !name) return false;
      return wordRegex(escapeRegex(name)).test(body);
    }
    case 'room_member_count':
      return typeof cond.is === 'string' && memberCountMatches(cond.is, ctx.roomMemberCount);
    case 'sender_notification_permission': {
      if (typeof cond.key !== 'string') return false;
      const needed = Object.hasOwn(ctx.notificationPowerLevels, cond.key) ? ctx.notificationPowerLevels[cond.key]! : DEFAULT_NOTIFICATION_LEVEL;
      return ctx.senderPowerLevel >= needed;
    }
    default:
      return false;
  }
}

/** Non-compound canonical JSON values: strings, safe integers, booleans, null. */
function isScalar(v: JsonValue | undefined): v is string | number | boolean | null {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isSafeInteger(v));
}

/**
 * Splits a dot-separated property path: `\.` is a literal dot and `\\` a literal backslash;
 * any other backslash stays as it is (appendices, "Dot-separated property paths").
 */
export function splitPropertyPath(key: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    if (ch === '\\' && (key[i + 1] === '.' || key[i + 1] === '\\')) {
      cur += key[i + 1];
      i++;
    } else if (ch === '.') {
      parts.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  parts.push(cur);
  return parts;
}

/** The event's property at a dot-separated path; undefined if any step is missing or not an object. */
const pathCache = new Map<string, string[]>();

export function propertyAt(event: PushEvent | JsonObject, key: string): JsonValue | undefined {
  let parts = pathCache.get(key);
  if (!parts) {
    parts = splitPropertyPath(key);
    // Keys come from push rules: a few dozen in practice; bounded anyway.
    if (pathCache.size >= 10_000) pathCache.clear();
    pathCache.set(key, parts);
  }
  let v: JsonValue | undefined = event as JsonObject;
  for (const part of parts) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = v[part];
  }
  return v;
}

function escapeRegex(s: string): string {
  // Only syntax characters: escaping others (e.g. `-`) is an error in a `u` regex.
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

function globToRegex(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += '.*';
    else if (ch === '?') out += '.';
    else out += escapeRegex(ch);
  }
  return out;
}

/** Word boundary per the spec: start/end of the value or a character outside [A-Za-z0-9_]. */
function wordRegex(inner: string): RegExp {
  return new RegExp(`(?:^|[^A-Za-z0-9_])(?:${inner})(?:[^A-Za-z0-9_]|$)`, 'isu');
}

const globCache = new Map<string, RegExp>();

/** Case-insensitive glob match: of the whole value, or (for content.body) of any substring
 * that starts and ends at a word boundary. */
export function globMatches(pattern: string, value: string, words: boolean): boolean {
  const cacheKey = `${words ? 'w' : 'f'}:${pattern}`;
  let re = globCache.get(cacheKey);
  if (!re) {
    re = words ? wordRegex(globToRegex(pattern)) : new RegExp(`^${globToRegex(pattern)}$`, 'isu');
    if (globCache.size > 1000) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re.test(value);
}

/** `is` of room_member_count: a decimal integer, optionally prefixed by ==, <, >, <= or >=. */
export function memberCountMatches(is: string, count: number): boolean {
  const m = /^(==|<=|>=|<|>)?([0-9]+)$/.exec(is);
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1]) {
    case '<':
      return count < n;
    case '>':
      return count > n;
    case '<=':
      return count <= n;
    case '>=':
      return count >= n;
    default:
      return count === n;
  }
}
