import { useState } from 'preact/hooks';
import type { Session } from '../types.js';
import { useMatrix } from './client.js';
import { Directory } from './Directory.js';
import { RoomView } from './RoomView.js';
import { Sidebar } from './Sidebar.js';

/** The embedded client: sidebar and one pane (a room or the directory). On narrow screens
 * only one of the two shows at a time. */
export function ChatView({ session, peers }: { session: Session; peers: string[] }) {
  const { client, sync, version } = useMatrix(session);
  const [selected, setSelected] = useState<string | null>(null);
  const [directory, setDirectory] = useState(false);
  if (sync === 'starting') return <main class="center muted">Loading your rooms…</main>;
  const room = selected ? client.getRoom(selected) : null;
  const joinedRoom = room && room.getMyMembership() === 'join' ? room : null;
  const paneOpen = directory || joinedRoom !== null;
  const select = (roomId: string) => {
    setDirectory(false);
    setSelected(roomId);
  };
  const suggestions = peers.map((p) => `@owner:${p}`);
  return (
    <main class={`chat${paneOpen ? ' pane-open' : ''}`}>
      {sync === 'reconnecting' && <p class="error banner">Lost contact with your node. Reconnecting…</p>}
      <Sidebar client={client} selected={selected} onSelect={select} onDirectory={() => setDirectory(true)} />
      {directory ? (
        <Directory client={client} peers={peers} onJoined={select} onBack={() => setDirectory(false)} />
      ) : joinedRoom ? (
        <RoomView client={client} room={joinedRoom} version={version} suggestions={suggestions} onBack={() => setSelected(null)} />
      ) : (
        <section class="room empty center muted">
          {selected && room === null ? 'Joining… the room will open when it arrives.' : 'Pick a room, or create one.'}
        </section>
      )}
    </main>
  );
}
