import { Direction, EventStatus, type MatrixClient, type MatrixEvent, type Room } from 'matrix-js-sdk';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api.js';
import { MessageFile, MessageImage } from './Media.js';

function describeMembership(e: MatrixEvent, who: string): string | null {
  const target = e.getContent().displayname ?? e.getStateKey();
  const prev = e.getPrevContent().membership;
  switch (e.getContent().membership) {
    case 'join':
      return prev === 'join' ? null : `${target} joined`;
    case 'invite':
      return `${who} invited ${target}`;
    case 'leave':
      return e.getSender() === e.getStateKey() ? (prev === 'invite' ? `${target} declined the invite` : `${target} left`) : `${who} removed ${target}`;
    case 'ban':
      return `${who} banned ${target}`;
    default:
      return null;
  }
}

/** What a message shows: its image or file, or its text. */
function MessageBody({ client, content }: { client: MatrixClient; content: Record<string, unknown> }) {
  const body = typeof content.body === 'string' ? content.body : '';
  const url = typeof content.url === 'string' && content.url.startsWith('mxc://') ? content.url : undefined;
  if (url && content.msgtype === 'm.image') return <MessageImage client={client} mxc={url} alt={body} />;
  if (url && ['m.file', 'm.video', 'm.audio'].includes(String(content.msgtype))) return <MessageFile client={client} mxc={url} name={body || 'file'} />;
  return <>{typeof content.body === 'string' ? body : '(unsupported message)'}</>;
}

function Line({ client, room, event, me }: { client: MatrixClient; room: Room; event: MatrixEvent; me: string }) {
  const sender = event.getSender() ?? '';
  const who = room.getMember(sender)?.name ?? sender;
  const time = new Date(event.getTs()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  let text: string | null = null;
  switch (event.getType()) {
    case 'm.room.message': {
      const seenBy = room
        .getReceiptsForEvent(event)
        .filter((r) => r.type === 'm.read' && r.userId !== me && r.userId !== sender)
        .map((r) => room.getMember(r.userId)?.name ?? r.userId);
      const failed = event.status === EventStatus.NOT_SENT;
      return (
        <li class={`msg${sender === me ? ' mine' : ''}`} data-testid="message">
          <div class="meta">
            <strong>{who}</strong> <span class="muted">{time}</span>
            {event.status === EventStatus.SENDING && <span class="muted"> · sending…</span>}
            {failed && <span class="error"> · not sent</span>}
          </div>
          <div class="body">
            <MessageBody client={client} content={event.getContent()} />
          </div>
          {seenBy.length > 0 && (
            <div class="seen muted" data-testid="seen-by">
              Seen by {seenBy.join(', ')}
            </div>
          )}
        </li>
      );
    }
    case 'm.room.member':
      text = describeMembership(event, who);
      break;
    case 'm.room.create':
      text = `${who} created the room`;
      break;
    case 'm.room.name':
      text = `${who} named the room “${String(event.getContent().name ?? '')}”`;
      break;
    case 'm.room.topic':
      text = `${who} set the topic: ${String(event.getContent().topic ?? '')}`;
      break;
    case 'm.room.encrypted':
      text = `${who} sent an encrypted message (not supported yet)`;
      break;
  }
  return text ? <li class="notice muted">{text}</li> : null;
}

/** The room's live timeline, newest at the bottom, with "load earlier" back pagination. */
export function Timeline({ client, room, version }: { client: MatrixClient; room: Room; version: number }) {
  const list = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const me = client.getUserId()!;
  const events = room.getLiveTimeline().getEvents();
  const atStart = events[0]?.getType() === 'm.room.create' || room.getLiveTimeline().getPaginationToken(Direction.Backward) === null;

  useLayoutEffect(() => {
    const el = list.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [version, room.roomId]);
  useEffect(() => {
    stick.current = true;
    setError(null);
  }, [room.roomId]);

  const loadEarlier = async () => {
    if (loading || atStart) return;
    setLoading(true);
    setError(null);
    const el = list.current;
    const fromBottom = el ? el.scrollHeight - el.scrollTop : 0;
    try {
      await client.scrollback(room, 30);
      requestAnimationFrame(() => {
        if (el) el.scrollTop = el.scrollHeight - fromBottom;
      });
    } catch (e) {
      setError(describeError(e));
    } finally {
      setLoading(false);
    }
  };

  const onScroll = () => {
    const el = list.current;
    if (!el) return;
    stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
    if (el.scrollTop < 20) void loadEarlier();
  };

  return (
    <div class="timeline" ref={list} onScroll={onScroll} data-testid="timeline">
      <div class="paginate">
        {atStart ? (
          <span class="muted">This is the beginning of the room.</span>
        ) : (
          <button type="button" class="small" onClick={loadEarlier} disabled={loading}>
            {loading ? 'Loading…' : 'Load earlier messages'}
          </button>
        )}
        {error && <p class="error">{error}</p>}
      </div>
      <ul class="plain">
        {events.map((e) => (
          <Line key={e.getId() ?? e.getTxnId()} client={client} room={room} event={e} me={me} />
        ))}
      </ul>
    </div>
  );
}
