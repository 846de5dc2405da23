import { ApiError, call } from './api.js';
import type { Session } from './types.js';

const STORAGE_KEY = 'axon.session';

interface LoginResponse {
  user_id: string;
  device_id: string;
  access_token: string;
}

const toSession = (r: LoginResponse): Session => ({ userId: r.user_id, deviceId: r.device_id, accessToken: r.access_token });

export function savedSession(): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? 'null') as Session | null;
    return s && typeof s.accessToken === 'string' ? s : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(s));
}

export function forgetSession(): void {
  localStorage.removeItem(STORAGE_KEY);
}

/** The one-time token from a login link (#login_token=...), removed from the address bar so
 * that it is neither bookmarked nor reused. */
function takeLoginToken(): string | null {
  const m = /(?:^#|&)login_token=([^&]+)/.exec(location.hash);
  if (!m) return null;
  history.replaceState(null, '', location.pathname + location.search);
  return decodeURIComponent(m[1]!);
}

/**
 * Finds the session to start with: the desktop app's owner session, a login link's token, or
 * the session saved in this browser; null means show the login screen.
 */
export async function startingSession(): Promise<Session | null> {
  if (window.axon) return window.axon.session();
  const token = takeLoginToken();
  if (token) {
    try {
      const s = toSession(await call<LoginResponse>('POST', '/_matrix/client/v3/login', { body: { type: 'm.login.token', token, initial_device_display_name: 'Axon web' } }));
      saveSession(s);
      return s;
    } catch (e) {
      if (e instanceof ApiError && e.status === 403) {
        throw new Error('This login link was already used or has expired. Restart the node to print a new one, or log in with a password below.');
      }
      throw e;
    }
  }
  return savedSession();
}

export async function passwordLogin(user: string, password: string): Promise<Session> {
  const s = toSession(
    await call<LoginResponse>('POST', '/_matrix/client/v3/login', {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password, initial_device_display_name: 'Axon web' },
    }),
  );
  saveSession(s);
  return s;
}
