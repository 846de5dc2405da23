import { randomBytes } from 'node:crypto';
import { MatrixError, invalidParam } from '../http/index.js';

export type Flow = { stages: string[] };

export const PASSWORD_FLOWS: Flow[] = [{ stages: ['m.login.password'] }];

/** The 401 of User-Interactive Auth: the body is the flows/session object (with errcode and
 * error only when a stage failed), as the spec shows it. */
export class UiaChallenge extends MatrixError {
  constructor(
    readonly body: Record<string, unknown>,
    failure?: MatrixError,
  ) {
    super(401, failure?.errcode ?? 'M_UNAUTHORIZED', failure?.message ?? 'Additional authentication required', body);
    this.failed = failure !== undefined;
  }
  private readonly failed: boolean;

  override toJSON(): Record<string, unknown> {
    return this.failed ? { errcode: this.errcode, error: this.message, ...this.body } : { ...this.body };
  }
}

interface Session {
  completed: Set<string>;
  expires: number;
  /** What the session was started for, so a session cannot be replayed on another request. */
  purpose: string;
}

const SESSION_TTL_MS = 10 * 60_000;

/** Runs stages against a given auth dict; `verify` throws a MatrixError when a stage fails. */
export type StageVerifier = (stage: string, auth: Record<string, unknown>) => Promise<void>;

/** User-Interactive Auth sessions, kept in memory: they only last for one registration or
 * one sensitive operation. */
export class UiaSessions {
  private readonly sessions = new Map<string, Session>();

  /** Resolves when `auth` completes one of `flows`; otherwise throws the 401 challenge. */
  async check(purpose: string, auth: unknown, flows: Flow[], verify: StageVerifier): Promise<void> {
    this.sweep();
    if (auth === undefined || auth === null) throw this.challenge(this.create(purpose), flows);
    if (typeof auth !== 'object' || Array.isArray(auth)) throw new MatrixError(400, 'M_BAD_JSON', 'auth must be an object');
    const a = auth as Record<string, unknown>;
    let sid: string;
    if (a.session === undefined) sid = this.create(purpose);
    else if (typeof a.session !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'auth.session must be a string');
    else sid = a.session;
    const session = this.sessions.get(sid);
    if (!session || session.purpose !== purpose) throw new MatrixError(400, 'M_UNKNOWN', 'Unknown or expired auth session');
    if (a.type === undefined) throw this.challenge(sid, flows);
    if (typeof a.type !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'auth.type must be a string');
    const stage = a.type;
    if (!flows.some((f) => f.stages.includes(stage))) throw invalidParam(`Unsupported auth type ${stage}`);
    try {
      await verify(stage, a);
    } catch (err) {
      if (err instanceof MatrixError) throw this.challenge(sid, flows, err);
      throw err;
    }
    session.completed.add(stage);
    if (flows.some((f) => f.stages.every((s) => session.completed.has(s)))) {
      this.sessions.delete(sid);
      return;
    }
    throw this.challenge(sid, flows);
  }

  private create(purpose: string): string {
    const id = randomBytes(18).toString('base64url');
    this.sessions.set(id, { completed: new Set(), expires: Date.now() + SESSION_TTL_MS, purpose });
    return id;
  }

  private challenge(sid: string, flows: Flow[], failure?: MatrixError): UiaChallenge {
    const completed = [...(this.sessions.get(sid)?.completed ?? [])];
    const body: Record<string, unknown> = { flows, params: {}, session: sid };
    if (completed.length > 0) body.completed = completed;
    return new UiaChallenge(body, failure);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, s] of this.sessions) if (s.expires < now) this.sessions.delete(id);
  }
}
