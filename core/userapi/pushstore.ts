import type { Db, Migration } from '../db/index.js';
import type { JsonObject, JsonValue } from '../events/types.js';
import { MatrixError, invalidParam, notFound } from '../http/errors.js';
import { RULE_KINDS, type PushAction, type RuleKind } from './pusheval.js';
import { defaultPushRules, type PushRuleSet } from './pushrules.js';

export const PUSHRULES_COMPONENT = 'pushrules';

export const PUSHRULES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) => {
      db.exec(`
        CREATE TABLE pr_rules (
          user_id TEXT NOT NULL,
          kind TEXT NOT NULL,
          rule_id TEXT NOT NULL,
          position INTEGER NOT NULL,
          enabled INTEGER NOT NULL,
          actions TEXT NOT NULL,
          conditions TEXT,
          pattern TEXT,
          PRIMARY KEY (user_id, kind, rule_id)
        );
        CREATE TABLE pr_default_overrides (
          user_id TEXT NOT NULL,
          kind TEXT NOT NULL,
          rule_id TEXT NOT NULL,
          enabled INTEGER,
          actions TEXT,
          PRIMARY KEY (user_id, kind, rule_id)
        );
      `);
    },
  },
];

/** The body of a user-defined rule as PUT by a client (already validated). */
export interface UserRuleBody {
  actions: PushAction[];
  /** override and underride rules only. */
  conditions?: JsonObject[];
  /** content rules only. */
  pattern?: string;
}

/** Where a PUT places the rule among the user's rules of its kind. */
export interface RulePosition {
  before?: string;
  after?: string;
}

export interface PushRuleStoreOptions {
  /** Called after any change, with the user's new rule set (e.g. to publish m.push_rules
   * account data). */
  onChange?: (userId: string, rules: PushRuleSet) => void;
}

interface RuleRow {
  kind: string;
  rule_id: string;
  enabled: number;
  actions: string;
  conditions: string | null;
  pattern: string | null;
}

interface OverrideRow {
  kind: string;
  rule_id: string;
  enabled: number | null;
  actions: string | null;
}

const MASTER = '.m.rule.master';
const HISTORICAL_ACTIONS = new Set(['dont_notify', 'coalesce']);

/** The spec says servers ignore dont_notify/coalesce, so they are dropped on the way in. */
function cleanActions(actions: PushAction[]): PushAction[] {
  return actions.filter((a) => typeof a !== 'string' || !HISTORICAL_ACTIONS.has(a));
}

/** Per-user push rules: the user's own rules plus their changes to server-default rules. */
export class PushRuleStore {
  private readonly onChange: ((userId: string, rules: PushRuleSet) => void) | undefined;

  constructor(
    private readonly db: Db,
    opts: PushRuleStoreOptions = {},
  ) {
    db.migrate(PUSHRULES_COMPONENT, PUSHRULES_MIGRATIONS);
    this.onChange = opts.onChange;
  }

  /**
   * The user's effective rule set. User rules come before the server-default rules of the
   * same kind, except that .m.rule.master stays the most important rule of all.
   */
  rules(userId: string): PushRuleSet {
    const defaults = defaultPushRules(userId);
    const overrides = new Map<string, OverrideRow>();
    for (const o of this.db.raw
      .prepare<[string], OverrideRow>('SELECT kind, rule_id, enabled, actions FROM pr_default_overrides WHERE user_id = ?')
      .all(userId)) {
      overrides.set(`${o.kind}\u0000${o.rule_id}`, o);
    }
    const applied = (kind: RuleKind, rule: JsonObject): JsonObject => {
      const o = overrides.get(`${kind}\u0000${String(rule.rule_id)}`);
      if (!o) return rule;
      return {
        ...rule,
        ...(o.enabled !== null ? { enabled: o.enabled === 1 } : {}),
        ...(o.actions !== null ? { actions: JSON.parse(o.actions) as JsonValue } : {}),
      };
    };
    const user: Record<RuleKind, JsonObject[]> = { override: [], content: [], room: [], sender: [], underride: [] };
    for (const r of this.db.raw
      .prepare<[string], RuleRow>('SELECT kind, rule_id, enabled, actions, conditions, pattern FROM pr_rules WHERE user_id = ? ORDER BY kind, position')
      .all(userId)) {
      user[r.kind as RuleKind].push(rowToRule(r));
    }
    const out = {} as PushRuleSet;
    for (const kind of RULE_KINDS) {
      const defs = defaults[kind].map((r) => applied(kind, r));
      if (kind === 'override') {
        const master = defs.filter((r) => r.rule_id === MASTER);
        out.override = [...master, ...user.override, ...defs.filter((r) => r.rule_id !== MASTER)];
      } else {
        out[kind] = [...user[kind], ...defs];
      }
    }
    return out;
  }

  /** One rule of the user's effective set, or undefined. */
  rule(userId: string, kind: RuleKind, ruleId: string): JsonObject | undefined {
    return this.rules(userId)[kind].find((r) => r.rule_id === ruleId);
  }

  /** Creates or updates a user-defined rule. A new rule is enabled and, with no before/after,
   * the most important user rule of its kind; an updated one keeps its place unless moved. */
  putRule(userId: string, kind: RuleKind, ruleId: string, body: UserRuleBody, pos: RulePosition = {}): void {
    if (ruleId.startsWith('.')) throw invalidParam('Rule IDs starting with "." are reserved for server-default rules');
    if (ruleId.includes('/') || ruleId.includes('\\')) throw invalidParam('Rule IDs may not contain "/" or "\\"');
    for (const rel of [pos.before, pos.after]) {
      if (rel !== undefined && rel.startsWith('.')) throw invalidParam('Rules cannot be placed relative to a server-default rule');
    }
    this.db.transaction(() => {
      const order = this.db.raw
        .prepare<[string, string], { rule_id: string; enabled: number }>('SELECT rule_id, enabled FROM pr_rules WHERE user_id = ? AND kind = ? ORDER BY position')
        .all(userId, kind);
      const existing = order.find((r) => r.rule_id === ruleId);
      const ids = order.map((r) => r.rule_id).filter((id) => id !== ruleId);
      let index: number;
      const anchor = pos.before ?? pos.after;
      if (anchor !== undefined) {
        const at = ids.indexOf(anchor);
        // The spec's own example answers an unknown before/after with 400 M_UNKNOWN.
        if (at < 0) throw new MatrixError(400, 'M_UNKNOWN', `before/after rule not found: ${anchor}`);
        index = pos.before !== undefined ? at : at + 1;
      } else if (existing) {
        index = order.findIndex((r) => r.rule_id === ruleId);
      } else {
        index = 0;
      }
      ids.splice(index, 0, ruleId);
      this.db.raw
        .prepare(
          `INSERT INTO pr_rules (user_id, kind, rule_id, position, enabled, actions, conditions, pattern) VALUES (?, ?, ?, 0, 1, ?, ?, ?)
           ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET actions = excluded.actions, conditions = excluded.conditions, pattern = excluded.pattern`,
        )
        .run(
          userId,
          kind,
          ruleId,
          JSON.stringify(cleanActions(body.actions)),
          kind === 'override' || kind === 'underride' ? JSON.stringify(body.conditions ?? []) : null,
          kind === 'content' ? (body.pattern ?? null) : null,
        );
      const setPos = this.db.raw.prepare<[number, string, string, string]>('UPDATE pr_rules SET position = ? WHERE user_id = ? AND kind = ? AND rule_id = ?');
      ids.forEach((id, i) => setPos.run(i, userId, kind, id));
    });
    this.changed(userId);
  }

  /** Deletes a user-defined rule. Server-default rules cannot be deleted (404, the only
   * error the spec lists for this endpoint). */
  deleteRule(userId: string, kind: RuleKind, ruleId: string): void {
    const r = this.db.raw.prepare('DELETE FROM pr_rules WHERE user_id = ? AND kind = ? AND rule_id = ?').run(userId, kind, ruleId);
    if (r.changes === 0) {
      if (ruleId.startsWith('.') && this.isDefault(userId, kind, ruleId)) throw notFound(`Server-default rule ${kind}/${ruleId} cannot be deleted`);
      throw notFound(`No push rule ${kind}/${ruleId}`);
    }
    this.changed(userId);
  }

  setEnabled(userId: string, kind: RuleKind, ruleId: string, enabled: boolean): void {
    this.update(userId, kind, ruleId, 'enabled', enabled ? 1 : 0);
  }

  setActions(userId: string, kind: RuleKind, ruleId: string, actions: PushAction[]): void {
    this.update(userId, kind, ruleId, 'actions', JSON.stringify(cleanActions(actions)));
  }

  /**
   * A user joined `toRoom`, the replacement of `fromRoom` after an upgrade: their rules for
   * the old room (named after it, as clients name a room's rules, e.g. Element's mute and
   * mentions-only) are copied for the new one, room id conditions rewritten, unless the
   * user already has such a rule there. Returns how many were copied.
   */
  copyRoomRules(userId: string, fromRoom: string, toRoom: string): number {
    const rows = this.db.raw
      .prepare<[string, string], RuleRow>('SELECT kind, rule_id, enabled, actions, conditions, pattern FROM pr_rules WHERE user_id = ? AND rule_id = ?')
      .all(userId, fromRoom);
    let copied = 0;
    for (const r of rows) {
      const kind = r.kind as RuleKind;
      if (this.rules(userId)[kind].some((x) => x.rule_id === toRoom)) continue;
      const conditions =
        r.conditions === null
          ? undefined
          : (JSON.parse(r.conditions) as JsonObject[]).map((c) => (c.key === 'room_id' && c.pattern === fromRoom ? { ...c, pattern: toRoom } : c));
      this.putRule(userId, kind, toRoom, { actions: JSON.parse(r.actions) as PushAction[], ...(conditions ? { conditions } : {}) });
      if (r.enabled !== 1) this.setEnabled(userId, kind, toRoom, false);
      copied++;
    }
    return copied;
  }

  private update(userId: string, kind: RuleKind, ruleId: string, column: 'enabled' | 'actions', value: number | string): void {
    const r = this.db.raw.prepare(`UPDATE pr_rules SET ${column} = ? WHERE user_id = ? AND kind = ? AND rule_id = ?`).run(value, userId, kind, ruleId);
    if (r.changes === 0) {
      if (!this.isDefault(userId, kind, ruleId)) throw notFound(`No push rule ${kind}/${ruleId}`);
      this.db.raw
        .prepare(
          `INSERT INTO pr_default_overrides (user_id, kind, rule_id, ${column}) VALUES (?, ?, ?, ?)
           ON CONFLICT (user_id, kind, rule_id) DO UPDATE SET ${column} = excluded.${column}`,
        )
        .run(userId, kind, ruleId, value);
    }
    this.changed(userId);
  }

  private isDefault(userId: string, kind: RuleKind, ruleId: string): boolean {
    return defaultPushRules(userId)[kind].some((r) => r.rule_id === ruleId);
  }

  private changed(userId: string): void {
    this.onChange?.(userId, this.rules(userId));
  }
}

function rowToRule(r: RuleRow): JsonObject {
  const rule: JsonObject = {
    rule_id: r.rule_id,
    default: false,
    enabled: r.enabled === 1,
    actions: JSON.parse(r.actions) as JsonValue,
  };
  if (r.conditions !== null) rule.conditions = JSON.parse(r.conditions) as JsonValue;
  if (r.pattern !== null) rule.pattern = r.pattern;
  return rule;
}
