import { ClientEvent, RoomEvent, RoomMemberEvent, RoomStateEvent, SyncState, createClient, type MatrixClient, type Room } from 'matrix-js-sdk';
import { useEffect, useState } from 'preact/hooks';
import type { Session } from '../types.js';

export type SyncStatus = 'starting' | 'ready' | 'reconnecting' | 'ended';

/** Everything that should redraw the chat: new rooms, timelines, members, typing, receipts. */
const REDRAW_ON = [
  ClientEvent.Room,
  ClientEvent.DeleteRoom,
  RoomEvent.Timeline,
  RoomEvent.TimelineReset,
  RoomEvent.MyMembership,
  RoomEvent.Name,
  RoomEvent.Receipt,
  RoomEvent.LocalEchoUpdated,
  RoomMemberEvent.Typing,
  RoomMemberEvent.Membership,
  RoomStateEvent.Members,
] as const;

/**
 * One matrix-js-sdk client for the session, syncing while the chat is open. `version` bumps
 * on every change worth drawing (batched to one redraw per frame).
 */
export function useMatrix(session: Session): { client: MatrixClient; sync: SyncStatus; version: number } {
  const [client] = useState(() =>
    createClient({ baseUrl: location.origin, userId: session.userId, deviceId: session.deviceId, accessToken: session.accessToken, timelineSupport: true }),
  );
  const [sync, setSync] = useState<SyncStatus>('starting');
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let frame = 0;
    const redraw = () => {
      if (frame) return;
      frame = requestAnimationFrame(() => {
        frame = 0;
        setVersion((v) => v + 1);
      });
    };
    const onSync = (state: SyncState) => {
      if (state === SyncState.Prepared || state === SyncState.Syncing) setSync('ready');
      else if (state === SyncState.Error || state === SyncState.Reconnecting) setSync('reconnecting');
      else if (state === SyncState.Stopped) setSync('ended');
      redraw();
    };
    client.on(ClientEvent.Sync, onSync);
    for (const e of REDRAW_ON) client.on(e as ClientEvent.Room, redraw);
    void client.startClient({ initialSyncLimit: 30, pollTimeout: 20_000 });
    return () => {
      cancelAnimationFrame(frame);
      client.off(ClientEvent.Sync, onSync);
      for (const e of REDRAW_ON) client.off(e as ClientEvent.Room, redraw);
      client.stopClient();
    };
  }, [client]);
  return { client, sync, version };
}

/** Messages from others after the user's read receipt. */
export function unreadCount(room: Room, me: string): number {
  const upTo = room.getEventReadUpTo(me);
  const events = room.getLiveTimeline().getEvents();
  let n = 0;
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if (e.getId() === upTo) break;
    if (e.getSender() !== me && e.getType() === 'm.room.message') n++;
  }
  return n;
}

export function roomLabel(room: Room): string {
  return room.name || room.getCanonicalAlias() || room.roomId;
}

export const USER_ID = /^@[^:\s]+:[^\s]+$/;
export const ROOM_ID_OR_ALIAS = /^[!#][^:\s]+:[^\s]+$/;
