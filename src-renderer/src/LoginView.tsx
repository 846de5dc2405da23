import { useState } from 'preact/hooks';
import { describeError } from './api.js';
import { passwordLogin } from './session.js';
import type { Session } from './types.js';

/** For accounts other than the owner's (the owner uses the printed login link). */
export function LoginView({ onLogin }: { onLogin: (s: Session) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await passwordLogin(user.trim(), password));
    } catch (e) {
      setError((e as { errcode?: string }).errcode === 'M_FORBIDDEN' ? 'Wrong user name or password.' : describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="center">
      <form class="card login" onSubmit={submit}>
        <h2>Log in</h2>
        <p class="muted">
          The node's owner logs in with the link the node printed when it started. Other accounts log in here.
        </p>
        <label>
          User name
          <input name="user" autocomplete="username" value={user} onInput={(e) => setUser((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit" disabled={busy || !user.trim() || !password}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
        {error && <p class="error">{error}</p>}
      </form>
    </main>
  );
}
