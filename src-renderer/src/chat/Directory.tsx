import type { IPublicRoomsChunkRoom, MatrixClient } from 'matrix-js-sdk';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.js';

interface ServerRooms {
  server: string | null;
  rooms: IPublicRoomsChunkRoom[] | null;
  error: string | null;
}

/** Public rooms of this node and of every known peer (`/publicRooms?server=`). */
export function Directory({ client, peers, onJoined, onBack }: { client: MatrixClient; peers: string[]; onJoined: (roomId: string) => void; onBack: () => void }) {
  const servers = [null, ...peers];
  const [lists, setLists] = useState<ServerRooms[]>(servers.map((server) => ({ server, rooms: null, error: null })));
  const [joinError, setJoinError] = useState<string | null>(null);
  const key = peers.join(',');
  useEffect(() => {
    let live = true;
    setLists(servers.map((server) => ({ server, rooms: null, error: null })));
    servers.forEach((server, i) => {
      client
        .publicRooms(server ? { server, limit: 50 } : { limit: 50 })
        .then((r) => ({ server, rooms: r.chunk, error: null }))
        .catch((e: unknown) => ({ server, rooms: [], error: describeError(e) }))
        .then((entry) => {
          if (live) setLists((old) => old.map((o, j) => (j === i ? entry : o)));
        });
    });
    return () => {
      live = false;
    };
  }, [key]);
  const join = async (idOrAlias: string, server: string | null) => {
    setJoinError(null);
    try {
      const room = await client.joinRoom(idOrAlias, server ? { viaServers: [server] } : undefined);
      onJoined(room.roomId);
    } catch (e) {
      setJoinError(describeError(e));
    }
  };
  return (
    <section class="room directory">
      <header class="room-header">
        <button type="button" class="back small" onClick={onBack} aria-label="Back to rooms">
          ←
        </button>
        <div class="title">
          <h2>Public rooms</h2>
        </div>
      </header>
      {joinError && <p class="error">{joinError}</p>}
      <div class="timeline">
        {lists.map((l) => (
          <div key={l.server ?? 'local'} class="card" data-testid="directory-server">
            <h3 class="ellipsis server-heading" title={l.server ?? undefined}>
              {l.server ? (
                <>
                  On <span class="mono">{l.server}</span>
                </>
              ) : (
                'On this node'
              )}
            </h3>
            {l.rooms === null ? (
              <p class="muted">Loading…</p>
            ) : l.error ? (
              <p class="error">{l.error}</p>
            ) : l.rooms.length === 0 ? (
              <p class="muted">No public rooms.</p>
            ) : (
              <ul class="plain">
                {l.rooms.map((r) => (
                  <li key={r.room_id} class="row spread">
                    <span>
                      <strong>{r.name ?? r.canonical_alias ?? r.room_id}</strong> <span class="muted">· {r.num_joined_members} joined</span>
                      {r.topic && <div class="muted">{r.topic}</div>}
                    </span>
                    <button type="button" class="small" onClick={() => join(r.room_id, l.server)}>
                      Join
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        ))}
      </div>
    </section>
  );
}
