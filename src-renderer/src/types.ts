/** The status snapshot as the node sends it. Federation fields are optional: they appear
 * once the node runs libp2p. */
export interface TopicConsumer {
  name: string;
  offset: number;
  lag: number;
  skipped: number;
  failures: number;
}

export interface Topic {
  name: string;
  durable: boolean;
  head: number;
  buffered: number;
  consumers: TopicConsumer[];
}

export interface Peer {
  peerId: string;
  serverName: string;
  addresses: string[];
  connected: boolean;
  lastSeen: number;
  rttMs: number | null;
}

export interface Destination {
  serverName: string;
  pending: number;
  backoffUntil: number | null;
  lastError: string | null;
}

export interface StatusRoom {
  roomId: string;
  name: string | null;
  joinedMembers: number;
}

export interface StatusSnapshot {
  serverName: string;
  version: string;
  uptimeMs: number;
  /** Absent from the public /_axon/status; the UI then derives it from uptimeMs. */
  startedAt?: number;
  http: { host: string; port: number; url: string } | null;
  databaseBytes: number;
  topics: Topic[];
  rooms?: StatusRoom[];
  peerId?: string;
  multiaddrs?: string[];
  peers?: Peer[];
  federation?: { destinations: Destination[] };
}

/** What the embedded client needs to act as a user. */
export interface Session {
  userId: string;
  deviceId: string;
  accessToken: string;
}

/** What the desktop app's preload exposes (nothing else from Node reaches the page). */
export interface AxonBridge {
  session(): Promise<Session>;
  onStatus(cb: (s: StatusSnapshot) => void): () => void;
}

declare global {
  interface Window {
    axon?: AxonBridge;
  }
}
