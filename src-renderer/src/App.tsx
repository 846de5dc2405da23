import { useEffect, useState } from 'preact/hooks';
import { call, describeError } from './api.js';
import { ChatView } from './chat/ChatView.js';
import { ErrorBoundary } from './ErrorBoundary.js';
import { LoginView } from './LoginView.js';
import { forgetSession, startingSession } from './session.js';
import { useStatus } from './status.js';
import { StatusView } from './StatusView.js';
import type { Session } from './types.js';

type Tab = 'status' | 'chat';

const tabOf = (path: string): Tab => (path.startsWith('/chat') ? 'chat' : 'status');

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [booting, setBooting] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  const [tab, setTab] = useState<Tab>(tabOf(location.pathname));
  const { status, connection } = useStatus(session);

  useEffect(() => {
    startingSession()
      .then(setSession, (e: unknown) => setNotice(e instanceof Error && !('errcode' in e) ? e.message : describeError(e)))
      .finally(() => setBooting(false));
    const onPop = () => setTab(tabOf(location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const go = (t: Tab) => {
    history.pushState(null, '', t === 'chat' ? '/chat' : '/status');
    setTab(t);
  };
  const logout = async () => {
    const s = session;
    forgetSession();
    setSession(null);
    if (s && !window.axon) await call('POST', '/_matrix/client/v3/logout', { token: s.accessToken, body: {} }).catch(() => undefined);
  };
  const peers = (status?.peers ?? []).map((p) => p.serverName);

  return (
    <div class="app">
      <header class="topbar">
        <h1>Axon</h1>
        <nav class="tabs">
          <button type="button" class={tab === 'status' ? 'active' : ''} onClick={() => go('status')}>
            Status
          </button>
          <button type="button" class={tab === 'chat' ? 'active' : ''} onClick={() => go('chat')}>
            Chat
          </button>
        </nav>
        <span class={`dot ${connection}`} title={connection === 'live' ? 'Node is running' : connection === 'offline' ? 'Node unreachable' : 'Connecting'} />
        {session && (
          <span class="whoami">
            <span class="ellipsis mono" data-testid="whoami">
              {session.userId}
            </span>
            {!window.axon && (
              <button type="button" class="small secondary" onClick={logout}>
                Log out
              </button>
            )}
          </span>
        )}
      </header>
      {notice && !session && (
        <p class="error banner" role="alert">
          {notice}
        </p>
      )}
      <ErrorBoundary key={tab} resetKey={tab === 'status' ? status : undefined}>
        {tab === 'status' ? (
          <StatusView status={status} connection={connection} />
        ) : booting ? (
          <main class="center muted">Loading…</main>
        ) : session ? (
          <ChatView key={session.accessToken} session={session} peers={peers} />
        ) : (
          <LoginView onLogin={(s) => (setNotice(null), setSession(s))} />
        )}
      </ErrorBoundary>
    </div>
  );
}
