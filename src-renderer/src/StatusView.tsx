import { useState } from 'preact/hooks';
import { formatAgo, formatBytes, formatDuration } from './api.js';
import { useNow, type Connection } from './status.js';
import type { StatusSnapshot } from './types.js';

function Copyable({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // No clipboard access (insecure context): the text stays selectable.
    }
  };
  return (
    <span class="copyable">
      <code class="mono" data-testid={label}>
        {text}
      </code>
      <button type="button" class="small" onClick={copy} aria-label={`Copy ${label}`}>
        {copied ? 'Copied' : 'Copy'}
      </button>
    </span>
  );
}

function Section({ title, children, empty }: { title: string; children?: preact.ComponentChildren; empty?: string | false }) {
  return (
    <section class="card">
      <h2>{title}</h2>
      {empty ? <p class="muted">{empty}</p> : children}
    </section>
  );
}

export function StatusView({ status, connection }: { status: StatusSnapshot | null; connection: Connection }) {
  const now = useNow();
  if (!status) {
    return (
      <main class="status">
        <p class={connection === 'offline' ? 'error' : 'muted'}>
          {connection === 'offline' ? 'Cannot reach your Axon node. Is it running? Retrying…' : 'Connecting to your node…'}
        </p>
      </main>
    );
  }
  const startedAt = status.startedAt ?? now - status.uptimeMs;
  const peers = status.peers ?? [];
  const dests = status.federation?.destinations ?? [];
  const rooms = status.rooms;
  return (
    <main class="status">
      {connection === 'offline' && <p class="error banner">Lost contact with the node. Showing the last known status; retrying…</p>}
      <section class="card">
        <h2>This node</h2>
        <dl class="facts">
          <dt>Server name</dt>
          <dd>
            <Copyable text={status.serverName} label="server-name" />
          </dd>
          <dt>Peer id</dt>
          <dd>{status.peerId ? <Copyable text={status.peerId} label="peer-id" /> : <span class="muted">federation is not running</span>}</dd>
          <dt>Version</dt>
          <dd>{status.version}</dd>
          <dt>Uptime</dt>
          <dd data-testid="uptime">{formatDuration(now - startedAt)}</dd>
          <dt>Database</dt>
          <dd>{formatBytes(status.databaseBytes)}</dd>
          <dt>Client URL</dt>
          <dd class="mono">{status.http?.url ?? '—'}</dd>
        </dl>
      </section>
      <Section title="Listen addresses" empty={!status.multiaddrs?.length && 'No libp2p addresses yet: federation is not running.'}>
        <ul class="plain mono">
          {status.multiaddrs?.map((a) => (
            <li key={a}>{a}</li>
          ))}
        </ul>
      </Section>
      <Section title={`Peers (${peers.filter((p) => p.connected).length} connected)`} empty={peers.length === 0 && 'No peers yet. Start another node with --peer, or wait for one on your network.'}>
        <div class="scroll-x">
          <table data-testid="peers">
            <thead>
              <tr>
                <th>Server</th>
                <th>State</th>
                <th>RTT</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {peers.map((p) => (
                <tr key={p.peerId}>
                  <td class="mono ellipsis" title={p.serverName}>
                    {p.serverName}
                  </td>
                  <td>{p.connected ? <span class="ok">connected</span> : <span class="muted">known</span>}</td>
                  <td>{p.rttMs === null ? '—' : `${p.rttMs} ms`}</td>
                  <td>{p.connected ? 'now' : formatAgo(p.lastSeen, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section
        title={`Rooms${rooms ? ` (${rooms.length})` : ''}`}
        empty={rooms === undefined ? 'Log in as the owner to see rooms.' : rooms.length === 0 && 'No rooms yet. Create one in Chat.'}
      >
        <ul class="plain" data-testid="status-rooms">
          {rooms?.map((r) => (
            <li key={r.roomId}>
              <strong>{r.name ?? r.roomId}</strong> <span class="muted">· {r.joinedMembers} joined</span>
            </li>
          ))}
        </ul>
      </Section>
      <Section title="Federation queues" empty={dests.length === 0 && 'Nothing waiting to be sent to other servers.'}>
        <div class="scroll-x">
          <table>
            <thead>
              <tr>
                <th>Destination</th>
                <th>Pending</th>
                <th>Backoff</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {dests.map((d) => (
                <tr key={d.serverName}>
                  <td class="mono ellipsis" title={d.serverName}>
                    {d.serverName}
                  </td>
                  <td>{d.pending}</td>
                  <td>{d.backoffUntil && d.backoffUntil > now ? `retry in ${formatDuration(d.backoffUntil - now)}` : '—'}</td>
                  <td class={d.lastError ? 'error' : 'muted'}>{d.lastError ?? 'none'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title="Log topics" empty={status.topics.length === 0 && 'No topics.'}>
        <div class="scroll-x">
          <table>
            <thead>
              <tr>
                <th>Topic</th>
                <th>Head</th>
                <th>Consumer</th>
                <th>Lag</th>
              </tr>
            </thead>
            <tbody>
              {status.topics.flatMap((t) =>
                (t.consumers.length ? t.consumers : [null]).map((c, i) => (
                  <tr key={`${t.name}/${c?.name ?? ''}`}>
                    <td>{i === 0 ? t.name : ''}</td>
                    <td>{i === 0 ? t.head : ''}</td>
                    <td>{c?.name ?? <span class="muted">none</span>}</td>
                    <td class={c && c.lag > 0 ? 'warn' : ''}>{c ? c.lag : ''}</td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </div>
      </Section>
    </main>
  );
}
