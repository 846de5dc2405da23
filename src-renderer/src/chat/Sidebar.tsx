import { type MatrixClient, type Room } from 'matrix-js-sdk';
import { useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { ROOM_ID_OR_ALIAS, roomLabel, unreadCount } from './client.js';

type Panel = 'none' | 'create' | 'join';

function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

function CreateRoom({ client, onDone }: { client: MatrixClient; onDone: (roomId: string) => void }) {
  const [name, setName] = useState('');
  const [publish, setPublish] = useState(false);
  const a = useAction();
  const submit = (ev: Event) => {
    ev.preventDefault();
    void a.run(async () => {
      const opts = publish ? { name: name.trim(), visibility: 'public' as never, preset: 'public_chat' as never } : { name: name.trim() };
      const { room_id } = await client.createRoom(opts);
      setName('');
      onDone(room_id);
    });
  };
  return (
    <form class="panel" onSubmit={submit}>
      <input name="room-name" placeholder="Room name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} aria-label="Room name" />
      <label class="check">
        <input type="checkbox" checked={publish} onChange={(e) => setPublish((e.target as HTMLInputElement).checked)} /> List in public rooms
      </label>
      <button type="submit" disabled={a.busy || !name.trim()}>
        {a.busy ? 'Creating…' : 'Create room'}
      </button>
      {a.error && <p class="error">{a.error}</p>}
    </form>
  );
}

function JoinRoom({ client, onDone }: { client: MatrixClient; onDone: (roomId: string) => void }) {
  const [target, setTarget] = useState('');
  const a = useAction();
  const submit = (ev: Event) => {
    ev.preventDefault();
    const t = target.trim();
    if (!ROOM_ID_OR_ALIAS.test(t)) {
      a.setError(`“${t}” is not a room id or alias. Room ids look like !abc:server, aliases like #name:server.`);
      return;
    }
    void a.run(async () => {
      const room = await client.joinRoom(t);
      setTarget('');
      onDone(room.roomId);
    });
  };
  return (
    <form class="panel" onSubmit={submit}>
      <input name="join" placeholder="!room:server or #alias:server" value={target} onInput={(e) => setTarget((e.target as HTMLInputElement).value)} aria-label="Room id or alias" />
      <button type="submit" disabled={a.busy || !target.trim()}>
        {a.busy ? 'Joining…' : 'Join'}
      </button>
      {a.error && <p class="error">{a.error}</p>}
    </form>
  );
}

function Invite({ client, room, onJoined }: { client: MatrixClient; room: Room; onJoined: (roomId: string) => void }) {
  const a = useAction();
  const inviter = room.getMember(client.getUserId()!)?.events.member?.getSender();
  return (
    <li class="invite" data-testid="invite">
      <div>
        <strong>{roomLabel(room)}</strong>
        {inviter && <div class="muted small-text">from {inviter}</div>}
      </div>
      <div class="row">
        <button type="button" class="small" disabled={a.busy} onClick={() => a.run(async () => onJoined((await client.joinRoom(room.roomId)).roomId))}>
          Accept
        </button>
        <button type="button" class="small secondary" disabled={a.busy} onClick={() => a.run(async () => void (await client.leave(room.roomId)))}>
          Reject
        </button>
      </div>
      {a.error && <p class="error">{a.error}</p>}
    </li>
  );
}

/** Rooms with unread counts, pending invites, and the create / join / directory actions. */
export function Sidebar({
  client,
  selected,
  onSelect,
  onDirectory,
}: {
  client: MatrixClient;
  selected: string | null;
  onSelect: (roomId: string) => void;
  onDirectory: () => void;
}) {
  const [panel, setPanel] = useState<Panel>('none');
  const me = client.getUserId()!;
  const rooms = client.getRooms();
  const invites = rooms.filter((r) => r.getMyMembership() === 'invite');
  const joined = rooms
    .filter((r) => r.getMyMembership() === 'join')
    .sort((a, b) => (b.getLastActiveTimestamp() ?? 0) - (a.getLastActiveTimestamp() ?? 0));
  const toggle = (p: Panel) => setPanel(panel === p ? 'none' : p);
  const done = (roomId: string) => {
    setPanel('none');
    onSelect(roomId);
  };
  return (
    <nav class="sidebar" aria-label="Rooms">
      <div class="actions">
        <button type="button" class="small" onClick={() => toggle('create')} aria-expanded={panel === 'create'}>
          New room
        </button>
        <button type="button" class="small" onClick={() => toggle('join')} aria-expanded={panel === 'join'}>
          Join
        </button>
        <button type="button" class="small" onClick={onDirectory}>
          Public rooms
        </button>
      </div>
      {panel === 'create' && <CreateRoom client={client} onDone={done} />}
      {panel === 'join' && <JoinRoom client={client} onDone={done} />}
      {invites.length > 0 && (
        <>
          <h3>Invites</h3>
          <ul class="plain">
            {invites.map((r) => (
              <Invite key={r.roomId} client={client} room={r} onJoined={done} />
            ))}
          </ul>
        </>
      )}
      <h3>Rooms</h3>
      {joined.length === 0 ? (
        <p class="muted">No rooms yet. Create one, join one, or browse public rooms.</p>
      ) : (
        <ul class="plain room-list">
          {joined.map((r) => {
            const n = unreadCount(r, me);
            return (
              <li key={r.roomId}>
                <button type="button" class={`room-item${r.roomId === selected ? ' selected' : ''}`} onClick={() => onSelect(r.roomId)} data-testid="room-item">
                  <span class="ellipsis">{roomLabel(r)}</span>
                  {n > 0 && (
                    <span class="badge" aria-label={`${n} unread`}>
                      {n}
                    </span>
                  )}
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </nav>
  );
}
