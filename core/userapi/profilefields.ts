import type { Db } from '../db/index.js';
import type { JsonValue } from '../events/types.js';

const MIGRATIONS = [
  {
    version: 1,
    up: (db: import('better-sqlite3').Database) =>
      db.exec('CREATE TABLE ua_profile_fields (user_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (user_id, key)) WITHOUT ROWID'),
  },
];

/** Profile fields beyond the display name and avatar (spec v1.16: `m.tz` and namespaced
 * custom keys), as their JSON. */
export class ProfileFields {
  private readonly all;
  private readonly one;
  private readonly put;
  private readonly del;

  constructor(db: Db) {
    db.migrate('userapi.profilefields', MIGRATIONS);
    this.all = db.raw.prepare<[string], { key: string; value: string }>('SELECT key, value FROM ua_profile_fields WHERE user_id = ? ORDER BY key');
    this.one = db.raw.prepare<[string, string], { value: string }>('SELECT value FROM ua_profile_fields WHERE user_id = ? AND key = ?');
    this.put = db.raw.prepare<[string, string, string]>(
      'INSERT INTO ua_profile_fields (user_id, key, value) VALUES (?, ?, ?) ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value',
    );
    this.del = db.raw.prepare<[string, string]>('DELETE FROM ua_profile_fields WHERE user_id = ? AND key = ?');
  }

  fields(userId: string): Record<string, JsonValue> {
    return Object.fromEntries(this.all.all(userId).map((r) => [r.key, JSON.parse(r.value) as JsonValue]));
  }

  get(userId: string, key: string): JsonValue | undefined {
    const r = this.one.get(userId, key);
    return r === undefined ? undefined : (JSON.parse(r.value) as JsonValue);
  }

  set(userId: string, key: string, value: JsonValue): void {
    this.put.run(userId, key, JSON.stringify(value));
  }

  delete(userId: string, key: string): boolean {
    return this.del.run(userId, key).changes > 0;
  }
}
