import type Database from 'better-sqlite3';

/** Prepares each SQL statement once per connection and hands back the cached one after. */
export class StatementCache {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly raw: Database.Database) {}

  get<P extends unknown[] | object = unknown[], R = unknown>(sql: string): Database.Statement<P, R> {
    let s = this.statements.get(sql);
    if (!s) this.statements.set(sql, (s = this.raw.prepare(sql)));
    return s as Database.Statement<P, R>;
  }
}
