import { EventStatus, type MatrixClient, type Room } from 'matrix-js-sdk';
import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { USER_ID, roomLabel } from './client.js';
import { Timeline } from './Timeline.js';

function InviteForm({ client, room, suggestions }: { client: MatrixClient; room: Room; suggestions: string[] }) {
  const [userId, setUserId] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (ev: Event) => {
    ev.preventDefault();
    const id = userId.trim();
    if (!USER_ID.test(id)) {
      setMessage({ ok: false, text: `“${id}” is not a user id. It looks like @name:server.` });
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      await client.invite(room.roomId, id);
      setMessage({ ok: true, text: `Invited ${id}.` });
      setUserId('');
    } catch (e) {
      setMessage({ ok: false, text: describeError(e) });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="inline-form" onSubmit={submit}>
      <input
        name="invite"
        placeholder="Invite @user:server"
        list="invite-suggestions"
        value={userId}
        onInput={(e) => setUserId((e.target as HTMLInputElement).value)}
        aria-label="User id to invite"
      />
      <datalist id="invite-suggestions">
        {suggestions.map((s) => (
          <option key={s} value={s} />
        ))}
      </datalist>
      <button type="submit" disabled={busy || !userId.trim()}>
        {busy ? 'Inviting…' : 'Invite'}
      </button>
      {message && <p class={message.ok ? 'ok' : 'error'} role="status">{message.text}</p>}
    </form>
  );
}

function Typing({ client, room }: { client: MatrixClient; room: Room }) {
  const me = client.getUserId();
  const names = room
    .getJoinedMembers()
    .filter((m) => m.typing && m.userId !== me)
    .map((m) => m.name);
  return (
    <div class="typing muted" aria-live="polite" data-testid="typing">
      {names.length === 0 ? '\u00a0' : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} typing…`}
    </div>
  );
}

function Composer({ client, room }: { client: MatrixClient; room: Room }) {
  const [text, setText] = useState('');
  const [uploading, setUploading] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const typingSent = useRef(0);
  useEffect(() => setError(null), [room.roomId]);
  const onInput = (value: string) => {
    setText(value);
    const now = Date.now();
    if (value && now - typingSent.current > 3000) {
      typingSent.current = now;
      client.sendTyping(room.roomId, true, 5000).catch(() => undefined);
    }
  };
  const send = async (ev: Event) => {
    ev.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText('');
    setError(null);
    typingSent.current = 0;
    client.sendTyping(room.roomId, false, 0).catch(() => undefined);
    try {
      await client.sendTextMessage(room.roomId, body);
    } catch (e) {
      // Drop the failed local echo: the text goes back into the composer to resend instead.
      for (const ev of room.getLiveTimeline().getEvents()) {
        if (ev.status === EventStatus.NOT_SENT && ev.getContent().body === body) {
          try {
            client.cancelPendingEvent(ev);
          } catch {
            // already gone
          }
        }
      }
      setText(body);
      setError(`Your message was not sent. ${describeError(e)}`);
    }
  };
  const attach = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    setError(null);
    setUploading(file.name);
    try {
      const { content_uri } = await client.uploadContent(file, { name: file.name, type: file.type || 'application/octet-stream' });
      const info: Record<string, unknown> = { mimetype: file.type || 'application/octet-stream', size: file.size };
      const image = file.type.startsWith('image/');
      if (image) {
        try {
          const bitmap = await createImageBitmap(file);
          info.w = bitmap.width;
          info.h = bitmap.height;
          bitmap.close();
        } catch {
          // not an image the browser reads: sent without its size
        }
      }
      await client.sendMessage(room.roomId, { msgtype: image ? 'm.image' : 'm.file', body: file.name, url: content_uri, info } as never);
    } catch (e) {
      setError(`${file.name} was not sent. ${describeError(e)}`);
    } finally {
      setUploading(null);
    }
  };
  return (
    <form class="composer" onSubmit={send}>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {uploading && <p class="muted">Sending {uploading}…</p>}
      <div class="row">
        <label class="attach" title="Attach a file">
          Attach
          <input type="file" aria-label="Attach a file" class="visually-hidden" onChange={(e) => void attach(e.target as HTMLInputElement)} />
        </label>
        <input
          name="message"
          placeholder={`Message ${roomLabel(room)}`}
          value={text}
          onInput={(e) => onInput((e.target as HTMLInputElement).value)}
          aria-label="Message"
          autocomplete="off"
        />
        <button type="submit" disabled={!text.trim()}>
          Send
        </button>
      </div>
    </form>
  );
}

/** One joined room: header with invite, timeline, typing line, composer. Marks it read. */
export function RoomView({ client, room, version, suggestions, onBack }: { client: MatrixClient; room: Room; version: number; suggestions: string[]; onBack: () => void }) {
  const [showInvite, setShowInvite] = useState(false);
  const me = client.getUserId()!;
  // Read receipt for the newest message from someone else, while the room is on screen.
  useEffect(() => {
    if (document.visibilityState !== 'visible') return;
    const events = room.getLiveTimeline().getEvents();
    const last = [...events].reverse().find((e) => e.getSender() !== me && e.getId()?.startsWith('$'));
    if (last && room.getEventReadUpTo(me) !== last.getId() && !room.hasUserReadEvent(me, last.getId()!)) {
      client.sendReadReceipt(last).catch(() => undefined);
    }
  }, [version, room.roomId]);
  return (
    <section class="room" aria-label={roomLabel(room)}>
      <header class="room-header">
        <button type="button" class="back small" onClick={onBack} aria-label="Back to rooms">
          ←
        </button>
        <div class="title">
          <h2 data-testid="room-title">{roomLabel(room)}</h2>
          <span class="muted mono ellipsis" data-testid="room-id">
            {room.roomId}
          </span>
        </div>
        <button type="button" class="small" onClick={() => setShowInvite(!showInvite)}>
          {showInvite ? 'Close' : 'Invite'}
        </button>
      </header>
      {showInvite && <InviteForm client={client} room={room} suggestions={suggestions} />}
      <Timeline client={client} room={room} version={version} />
      <Typing client={client} room={room} />
      <Composer client={client} room={room} />
    </section>
  );
}
