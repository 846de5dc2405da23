import { createHash, randomBytes } from 'node:crypto';

/** Default lifetime of a login token: long enough to open a printed link, short enough that
 * a leaked terminal scrollback is soon useless. */
export const LOGIN_TOKEN_TTL_MS = 15 * 60_000;

const hash = (t: string) => createHash('sha256').update(t).digest('base64url');

/**
 * One-time login tokens (the spec's m.login.token). Kept in memory only, hashed: a token is
 * worth one login before it expires, and a restart forgets all of them.
 */
export class LoginTokens {
  private readonly byHash = new Map<string, { userId: string; expiresTs: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  issue(userId: string, ttlMs = LOGIN_TOKEN_TTL_MS): { token: string; expiresTs: number } {
    this.prune();
    const token = randomBytes(32).toString('base64url');
    const expiresTs = this.now() + ttlMs;
    this.byHash.set(hash(token), { userId, expiresTs });
    return { token, expiresTs };
  }

  /** The token's user, once; undefined when unknown, used or expired. */
  consume(token: string): string | undefined {
    const h = hash(token);
    const hit = this.byHash.get(h);
    if (!hit) return undefined;
    this.byHash.delete(h);
    return hit.expiresTs > this.now() ? hit.userId : undefined;
  }

  private prune(): void {
    const now = this.now();
    for (const [h, v] of this.byHash) if (v.expiresTs <= now) this.byHash.delete(h);
  }
}
