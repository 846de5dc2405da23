import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../db/index.js';

/** How long an OpenID token proves its user's identity (Synapse: one hour). */
export const OPENID_TOKEN_SECONDS = 3600;

const MIGRATIONS = [
  {
    version: 1,
    up: (db: import('better-sqlite3').Database) =>
      db.exec(`CREATE TABLE ua_openid_tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_ts INTEGER NOT NULL) WITHOUT ROWID;
        CREATE INDEX ua_openid_tokens_expiry ON ua_openid_tokens (expires_ts);`),
  },
];

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');

/**
 * OpenID tokens (spec "OpenID"): a user asks for one and hands it to a third party (a widget,
 * an integration manager), which asks this server's federation API whose it is. They prove
 * identity only, for an hour; stored hashed, like access tokens.
 */
export class OpenIdTokens {
  private readonly insert;
  private readonly lookup;
  private readonly prune;

  constructor(db: Db) {
    db.migrate('userapi.openid', MIGRATIONS);
    this.insert = db.raw.prepare<[string, string, number]>('INSERT INTO ua_openid_tokens (token_hash, user_id, expires_ts) VALUES (?, ?, ?)');
    this.lookup = db.raw.prepare<[string, number], { user_id: string }>('SELECT user_id FROM ua_openid_tokens WHERE token_hash = ? AND expires_ts > ?');
    this.prune = db.raw.prepare<[number]>('DELETE FROM ua_openid_tokens WHERE expires_ts <= ?');
  }

  create(userId: string, now = Date.now()): { token: string; expiresIn: number } {
    this.prune.run(now);
    const token = randomBytes(24).toString('base64url');
    this.insert.run(hash(token), userId, now + OPENID_TOKEN_SECONDS * 1000);
    return { token, expiresIn: OPENID_TOKEN_SECONDS };
  }

  /** The user a valid token was made for. */
  userOf(token: string, now = Date.now()): string | undefined {
    return this.lookup.get(hash(token), now)?.user_id;
  }
}
