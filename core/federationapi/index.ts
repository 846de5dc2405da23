import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import type { SigningKey } from '../crypto/index.js';
import type { Db } from '../db/index.js';
import { computeEventId, domainOf, getRoomVersion, signEvent, withOwnSignature, type RoomVersion } from '../events/index.js';
import type { JsonObject, PDUJson } from '../events/types.js';
import { HttpApp, MatrixError, notFound, type AnyEndpoint } from '../http/index.js';
import { multipartBoundary, parseMultipart, type Part } from '../http/multipart.js';
import { createOffsetStore, type Consumer, type Log, type LogMessage, type OffsetStore } from '../log/index.js';
import type { Logger } from '../logger.js';
import { publicKeyFromServerName } from '../identity.js';
import { RECEIPT_TOPIC, type ReceiptOutput, type ReceiptsAPI } from '../receipts/api.js';
import { ROOM_OUTPUT_TOPIC, type MissingEventFetcher, type NewEventRequest, type RoomOutput, type RoomserverAPI } from '../roomserver/api.js';
import { TYPING_TOPIC, type TypingAPI, type TypingOutput } from '../typing/api.js';
import type { UserAPI } from '../userapi/api.js';
import type { DestinationStatus, EduHandler, FederationAPI } from './api.js';
import { FederationClient, FederationError, type FederationTransport } from './client.js';
import { SUPPORTED_VERSIONS, federationEndpoints } from './routes.js';
import { FederationSender } from './sender.js';
import { FEDERATION_MIGRATIONS, FederationStorage } from './storage.js';
import { parseXMatrix, verifyRequest } from './xmatrix.js';
import { e2eeEduHandlers, keyChangeEdus, keyEndpoints, remoteKeys, toDeviceEdus, type FederationKeyServer } from './e2ee.js';
import { KEY_CHANGE_TOPIC, type KeyChangeOutput } from '../userapi/keys/api.js';
import { TO_DEVICE_TOPIC, type FederationToDeviceAPI, type ToDeviceOutput } from '../todevice/api.js';
import { PRESENCE_STATES, PRESENCE_TOPIC, type PresenceAPI, type PresenceOutput, type PresenceState } from '../presence/api.js';

export type { FederationAPI, EduHandler, DestinationStatus } from './api.js';
export { FederationClient, FederationError, type FederationTransport } from './client.js';

/** Who is calling, as the transport authenticated them (libp2p's remote peer). */
export interface CallingPeer {
  serverName: string;
}

export interface FederationApiDeps {
  db: Db;
  log: Log;
  logger: Logger;
  serverName: string;
  key: SigningKey;
  roomserver: RoomserverAPI;
  users: Pick<UserAPI, 'accountExists' | 'profile' | 'openIdUser'>;
  typing: TypingAPI;
  receipts: ReceiptsAPI;
  transport: FederationTransport;
  /** Servers seen on the network, for public room lists across the mesh. */
  knownServers?: () => string[];
  /** The key server and to-device inboxes, for E2EE across servers. */
  keys?: FederationKeyServer;
  toDevice?: FederationToDeviceAPI;
  presence?: Pick<PresenceAPI, 'receiveRemote'>;
  maxBody?: number;
}

const TYPING_TIMEOUT_MS = 30_000;

/**
 * The federation API: the server-server routes (served over libp2p by `handle`), the client
 * for other servers, the outbound queues fed from `room.output`, `typing` and `receipt`, and
 * the fetcher the room server uses for events it lacks.
 */
export class FederationApi implements FederationAPI {
  readonly store: FederationStorage;
  readonly client: FederationClient;
  readonly sender: FederationSender;
  readonly app: HttpApp;
  readonly edus = new Map<string, EduHandler>();
  private readonly offsets: OffsetStore;
  private readonly consumers: Consumer[] = [];
  /** Our joins in progress, per room. */
  private readonly joining = new Map<string, Promise<void>>();
  /** Local users typing per room, as last sent. */
  private readonly typingSent = new Map<string, Set<string>>();

  constructor(private readonly deps: FederationApiDeps) {
    deps.db.migrate('federationapi', FEDERATION_MIGRATIONS);
    this.store = new FederationStorage(deps.db.raw);
    this.offsets = createOffsetStore(deps.db.raw, 'fs_offsets');
    this.client = new FederationClient(deps.serverName, deps.key, deps.transport);
    this.sender = new FederationSender(deps.serverName, this.store, this.client, deps.logger);
    this.app = new HttpApp({ logger: deps.logger, maxBody: deps.maxBody ?? 1024 * 1024 });
    this.app.authenticateServer = (c, content) => this.authenticate(c, content);
    this.app.add(
      ...(federationEndpoints({
        serverName: deps.serverName,
        key: deps.key,
        roomserver: deps.roomserver,
        users: deps.users,
        store: this.store,
        edus: this.edus,
        relay: (roomId, pdu, except) => this.relay(roomId, pdu, except),
        joined: async (roomId) => {
          await this.joining.get(roomId)?.catch(() => undefined);
        },
        logger: deps.logger,
      }) as AnyEndpoint[]),
    );
    this.edus.set('m.typing', (origin, c) => this.onTyping(origin, c));
    this.edus.set('m.receipt', (origin, c) => this.onReceipt(origin, c));
    if (deps.keys) {
      Object.assign(deps.keys.remote, remoteKeys(this.client));
      this.app.add(...keyEndpoints(deps.serverName, deps.keys, (u) => deps.users.accountExists(u)));
    }
    if (deps.keys && deps.toDevice) for (const [type, h] of Object.entries(e2eeEduHandlers(deps.keys, deps.toDevice))) this.edus.set(type, h);
    if (deps.presence) this.edus.set('m.presence', (origin, c) => this.onPresence(origin, c));
  }

  /** Starts the consumers and the queues. The room server's fetcher is set by the node. */
  start(): void {
    this.consumers.push(
      this.deps.log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, {
        name: 'federationapi',
        fromOffset: this.offsets.get('federation.room'),
        handle: (msgs) => this.commit('federation.room', msgs, (m, kick) => this.onRoomOutput(m.value, kick)),
      }),
      this.deps.log.consume<ReceiptOutput>(RECEIPT_TOPIC, {
        name: 'federationapi',
        fromOffset: this.offsets.get('federation.receipt'),
        handle: (msgs) => this.commit('federation.receipt', msgs, (m, kick) => this.onLocalReceipt(m.value, kick)),
      }),
      this.deps.log.consume<TypingOutput>(TYPING_TOPIC, { name: 'federationapi', fromOffset: 0, handle: (msgs) => this.onTypingOutputs(msgs) }),
    );
    const keys = this.deps.keys;
    if (keys) {
      this.consumers.push(
        this.deps.log.consume<KeyChangeOutput>(KEY_CHANGE_TOPIC, {
          name: 'federationapi',
          fromOffset: this.offsets.get('federation.keychange'),
          handle: (msgs) =>
            this.commit('federation.keychange', msgs, (m, kick) => keyChangeEdus(this.deps.serverName, keys, (u) => this.serversSharingWith(u), this.sender, m, kick)),
        }),
      );
    }
    if (this.deps.presence) {
      // Memory-only, like the topic: each process starts from the topic's start.
      this.consumers.push(this.deps.log.consume<PresenceOutput>(PRESENCE_TOPIC, { name: 'federationapi', fromOffset: 0, handle: (msgs) => this.onPresenceOutputs(msgs) }));
    }
    const toDevice = this.deps.toDevice;
    if (toDevice) {
      this.consumers.push(
        this.deps.log.consume<ToDeviceOutput>(TO_DEVICE_TOPIC, {
          name: 'federationapi',
          fromOffset: this.offsets.get('federation.todevice'),
          handle: (msgs) => {
            const kick = new Set<string>();
            this.offsets.commit('federation.todevice', msgs, (fresh) => toDeviceEdus(fresh, this.sender, kick));
            // Queued durably: the to-device server may drop its copies.
            if (msgs.length > 0) toDevice.forgetRemote(msgs[msgs.length - 1]!.offset);
            for (const d of kick) this.sender.kick(d);
          },
        }),
      );
    }
    this.sender.start();
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((c) => c.close()));
    await this.sender.close();
  }

  /** Adds federation endpoints another component serves (the media repository's). */
  addEndpoints(...endpoints: AnyEndpoint[]): void {
    this.app.add(...endpoints);
  }

  /**
   * Downloads a media item from the server that has it (GET /_matrix/federation/v1/media/
   * download, a multipart answer: metadata, then the bytes). Undefined if that server does
   * not have it; MatrixError 502 when it cannot be reached, answers something else, or the
   * media is over `maxBytes`. Redirects to a URL are not followed: peers are reached over
   * libp2p, not the web.
   */
  async downloadMedia(origin: string, mediaId: string, maxBytes: number): Promise<{ bytes: Buffer; contentType: string; disposition?: string } | undefined> {
    let res: Response;
    try {
      res = await this.client.send(origin, 'GET', `/_matrix/federation/v1/media/download/${encodeURIComponent(mediaId)}`);
    } catch (e) {
      throw new MatrixError(502, 'M_UNKNOWN', `Could not reach ${origin}: ${(e as Error).message}`);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (!res.ok || (Number.isFinite(declared) && declared > maxBytes + 64 * 1024)) {
      await res.body?.cancel();
      throw new MatrixError(502, res.ok ? 'M_TOO_LARGE' : 'M_UNKNOWN', `${origin} answered ${res.status} for media ${mediaId}`);
    }
    const boundary = multipartBoundary(res.headers.get('content-type'));
    let parts: Part[];
    try {
      if (!boundary) throw new Error('not multipart');
      parts = parseMultipart(Buffer.from(await res.arrayBuffer()), boundary);
    } catch (e) {
      throw new MatrixError(502, 'M_UNKNOWN', `${origin} sent media ${mediaId} in a form not understood: ${(e as Error).message}`);
    }
    const media = parts[1];
    if (parts.length !== 2 || !media || media.headers.location !== undefined) {
      throw new MatrixError(502, 'M_UNKNOWN', `${origin} did not send media ${mediaId} itself (${parts.length} parts${media?.headers.location ? ', a redirect' : ''})`);
    }
    if (media.body.byteLength > maxBytes) throw new MatrixError(502, 'M_TOO_LARGE', `Media ${mediaId} of ${origin} is larger than this server accepts`);
    return {
      bytes: media.body,
      contentType: media.headers['content-type'] ?? 'application/octet-stream',
      ...(media.headers['content-disposition'] ? { disposition: media.headers['content-disposition'] } : {}),
    };
  }

  /** Serves one inbound federation request from an authenticated peer. */
  handle(req: Request, peer: CallingPeer): Promise<Response> {
    return Promise.resolve(this.app.fetch(req, { peer }));
  }

  /** The peer is reachable (connected, discovered, called us): send what waits for it. */
  peerSeen(serverName: string): void {
    this.sender.wake(serverName);
  }

  destinations(): DestinationStatus[] {
    return this.sender.status();
  }

  private commit<T>(name: string, msgs: LogMessage<T>[], apply: (m: LogMessage<T>, kick: Set<string>) => void): void {
    const kick = new Set<string>();
    this.offsets.commit(name, msgs, (fresh) => {
      for (const m of fresh) apply(m, kick);
      // Only what was queued for a destination is written (and kicked): in rooms of this
      // server alone, nothing is.
      return kick.size > 0;
    });
    for (const d of kick) this.sender.kick(d);
  }

  /** X-Matrix: a valid signature by the origin's key (its name), addressed to us, from the
   * peer the transport authenticated. */
  private authenticate(c: Context, content: unknown): string {
    const auth = parseXMatrix(c.req.header('authorization'));
    if (!auth) throw new MatrixError(401, 'M_UNAUTHORIZED', 'Missing or malformed X-Matrix authorization');
    const key = publicKeyFromServerName(auth.origin);
    if (!key) throw new MatrixError(401, 'M_UNAUTHORIZED', `Unknown origin ${auth.origin}`);
    const url = new URL(c.req.url);
    const ok = verifyRequest(
      { method: c.req.method, uri: url.pathname + url.search, destination: this.deps.serverName, content: content as JsonObject | undefined },
      auth,
      key,
    );
    if (!ok) throw new MatrixError(401, 'M_UNAUTHORIZED', 'Bad X-Matrix signature');
    const peer = (c.env as { peer?: CallingPeer } | undefined)?.peer;
    if (!peer || peer.serverName !== auth.origin) throw new MatrixError(401, 'M_UNAUTHORIZED', 'The X-Matrix origin is not the calling peer');
    return auth.origin;
  }

  // ---- outbound ----

  /** Servers that share a room with a user (where their device list changes must go). */
  private serversSharingWith(userId: string): string[] {
    const out = new Set<string>();
    for (const roomId of this.deps.roomserver.roomsForUser(userId, 'join')) for (const s of this.deps.roomserver.joinedServers(roomId)) out.add(s);
    out.delete(this.deps.serverName);
    return [...out];
  }

  private onRoomOutput(o: RoomOutput, kick: Set<string>): void {
    if (o.type !== 'new_room_event') return;
    const ev = o.event;
    if (typeof ev.sender !== 'string' || domainOf(ev.sender) !== this.deps.serverName) return;
    const dests = new Set(this.deps.roomserver.joinedServers(o.roomId));
    // A remote user we kick, ban or whose invite we withdraw is no longer joined: tell them too.
    if (ev.type === 'm.room.member' && typeof ev.state_key === 'string') {
      const m = (ev.content as JsonObject).membership;
      if (m === 'leave' || m === 'ban') dests.add(domainOf(ev.state_key));
    }
    dests.delete(this.deps.serverName);
    if (dests.size === 0) return;
    // Stored unsigned (sendEvent): signed here, once for all its destinations.
    const version = getRoomVersion(o.roomVersion);
    const pdu = version ? withOwnSignature(ev, this.deps.serverName, this.deps.key, version) : ev;
    for (const d of this.sender.enqueuePdu(dests, pdu)) kick.add(d);
  }

  private relay(roomId: string, pdu: PDUJson, except: string[]): void {
    const dests = this.deps.roomserver.joinedServers(roomId).filter((s) => !except.includes(s));
    for (const d of this.sender.enqueuePdu(dests, pdu)) this.sender.kick(d);
  }

  private onLocalReceipt(r: ReceiptOutput, kick: Set<string>): void {
    if (r.type !== 'm.read' || domainOf(r.userId) !== this.deps.serverName) return;
    const data: JsonObject = { ts: r.ts };
    if (r.threadId) data.thread_id = r.threadId;
    const content = { [r.roomId]: { 'm.read': { [r.userId]: { event_ids: [r.eventId], data } } } };
    for (const d of this.sender.enqueueEdu(this.deps.roomserver.joinedServers(r.roomId), 'm.receipt', content)) kick.add(d);
  }

  private onTypingOutputs(msgs: LogMessage<TypingOutput>[]): void {
    const kick = new Set<string>();
    for (const { value } of msgs) {
      const local = new Set(value.userIds.filter((u) => domainOf(u) === this.deps.serverName));
      const before = this.typingSent.get(value.roomId) ?? new Set<string>();
      const changes: Array<[string, boolean]> = [];
      for (const u of local) if (!before.has(u)) changes.push([u, true]);
      for (const u of before) if (!local.has(u)) changes.push([u, false]);
      if (local.size > 0) this.typingSent.set(value.roomId, local);
      else this.typingSent.delete(value.roomId);
      if (changes.length === 0) continue;
      const dests = this.deps.roomserver.joinedServers(value.roomId);
      for (const [user_id, typing] of changes) {
        for (const d of this.sender.enqueueEdu(dests, 'm.typing', { room_id: value.roomId, user_id, typing })) kick.add(d);
      }
    }
    for (const d of kick) this.sender.kick(d);
  }

  /** Local users' presence → `m.presence` EDUs to the servers that share a room with them. */
  private onPresenceOutputs(msgs: LogMessage<PresenceOutput>[]): void {
    const now = Date.now();
    const byServer = new Map<string, JsonObject[]>();
    for (const { value: p } of msgs) {
      if (p.remote || domainOf(p.userId) !== this.deps.serverName) continue;
      const item: JsonObject = { user_id: p.userId, presence: p.presence, last_active_ago: p.lastActiveTs > 0 ? Math.max(0, now - p.lastActiveTs) : 0, currently_active: p.currentlyActive };
      if (p.statusMsg !== undefined) item.status_msg = p.statusMsg;
      for (const s of this.serversSharingWith(p.userId)) {
        const list = byServer.get(s) ?? [];
        list.push(item);
        byServer.set(s, list);
      }
    }
    for (const [server, push] of byServer) for (const d of this.sender.enqueueEdu([server], 'm.presence', { push })) this.sender.kick(d);
  }

  // ---- inbound EDUs ----

  private onPresence(origin: string, c: JsonObject): void {
    if (!Array.isArray(c.push)) return;
    const now = Date.now();
    for (const item of c.push.slice(0, 1000)) {
      if (typeof item !== 'object' || item === null || Array.isArray(item)) continue;
      const { user_id: userId, presence, last_active_ago: ago, status_msg: msg, currently_active: active } = item;
      if (typeof userId !== 'string' || domainOf(userId) !== origin) continue;
      if (typeof presence !== 'string' || !PRESENCE_STATES.includes(presence as PresenceState)) continue;
      this.deps.presence!.receiveRemote({
        userId,
        presence: presence as PresenceState,
        ...(typeof msg === 'string' ? { statusMsg: msg } : {}),
        lastActiveTs: typeof ago === 'number' && ago >= 0 ? now - ago : 0,
        currentlyActive: active === true,
      });
    }
  }

  private onTyping(origin: string, c: JsonObject): void {
    const { room_id: roomId, user_id: userId, typing } = c;
    if (typeof roomId !== 'string' || typeof userId !== 'string' || typeof typing !== 'boolean') return;
    if (domainOf(userId) !== origin) return;
    if (this.deps.roomserver.membership(roomId, userId)?.membership !== 'join') return;
    this.deps.typing.setTyping(roomId, userId, typing, TYPING_TIMEOUT_MS);
  }

  private onReceipt(origin: string, c: JsonObject): void {
    for (const [roomId, byType] of Object.entries(c)) {
      if (typeof byType !== 'object' || byType === null || Array.isArray(byType)) continue;
      const read = (byType as JsonObject)['m.read'];
      if (typeof read !== 'object' || read === null || Array.isArray(read)) continue;
      for (const [userId, r] of Object.entries(read)) {
        if (domainOf(userId) !== origin || typeof r !== 'object' || r === null || Array.isArray(r)) continue;
        const ids = r.event_ids;
        const data = r.data as JsonObject | undefined;
        const eventId = Array.isArray(ids) && typeof ids[0] === 'string' ? ids[0] : undefined;
        if (!eventId) continue;
        const thread = typeof data?.thread_id === 'string' ? data.thread_id : undefined;
        try {
          this.deps.receipts.putReceipt(roomId, userId, 'm.read', eventId, thread);
        } catch (e) {
          this.deps.logger.debug({ err: (e as Error).message, peer: origin, room_id: roomId }, 'remote receipt ignored');
        }
      }
    }
  }

  // ---- the room server's fetcher ----

  private serversFor(roomId: string, origin: string | undefined): string[] {
    const all = [...(origin ? [origin] : []), ...this.deps.roomserver.joinedServers(roomId)];
    return [...new Set(all)].filter((s) => s !== this.deps.serverName);
  }

  readonly fetcher: MissingEventFetcher = {
    fetchEvents: async (roomId, eventIds, origin) => {
      const out: PDUJson[] = [];
      for (const id of eventIds) {
        for (const s of this.serversFor(roomId, origin)) {
          try {
            const r = await this.client.event(s, id);
            if (Array.isArray(r.pdus) && r.pdus[0]) {
              out.push(r.pdus[0]);
              break;
            }
          } catch {
            // try the next server
          }
        }
      }
      return out;
    },
    missingEvents: async (roomId, earliest, latest, limit, minDepth, origin) => {
      const s = this.serversFor(roomId, origin)[0];
      if (!s) return [];
      const r = await this.client.getMissingEvents(s, roomId, { earliest_events: earliest, latest_events: latest, limit, min_depth: minDepth });
      return Array.isArray(r.events) ? r.events : [];
    },
    stateAt: async (roomId, eventId, origin) => {
      for (const s of this.serversFor(roomId, origin)) {
        try {
          const r = await this.client.state(s, roomId, eventId);
          if (Array.isArray(r.pdus) && Array.isArray(r.auth_chain)) return { pdus: r.pdus, authChain: r.auth_chain };
        } catch {
          // try the next server
        }
      }
      return undefined;
    },
    backfill: async (roomId, from, limit) => {
      // A server may answer with nothing it lets us see, e.g. one that has not heard of our
      // join yet: ask the next one then.
      for (const s of this.serversFor(roomId, undefined)) {
        try {
          const r = await this.client.backfill(s, roomId, from, limit);
          if (Array.isArray(r.pdus) && r.pdus.length > 0) return r.pdus;
        } catch {
          // try the next server
        }
      }
      return [];
    },
  };

  // ---- client-side operations ----

  /** Signs our event from a resident server's template. */
  private fromTemplate(template: PDUJson, roomId: string, userId: string, content: JsonObject, version: RoomVersion): { pdu: PDUJson; eventId: string } {
    if (template?.type !== 'm.room.member' || template.state_key !== userId || template.sender !== userId || template.room_id !== roomId) {
      throw new MatrixError(502, 'M_UNKNOWN', 'The remote server sent a bad event template');
    }
    const { signatures: _s, hashes: _h, unsigned: _u, event_id: _e, ...rest } = template;
    const draft: PDUJson = {
      ...rest,
      content: { ...((template.content as JsonObject | undefined) ?? {}), ...content },
      origin_server_ts: Date.now(),
      hashes: { sha256: '' },
      signatures: {},
    };
    if (version.redaction !== 'v11') draft.origin = this.deps.serverName;
    else delete draft.origin;
    if (version.eventIdFormat === 'v1') draft.event_id = `$${randomBytes(12).toString('hex')}:${this.deps.serverName}`;
    const pdu = signEvent(draft, this.deps.serverName, this.deps.key, version);
    return { pdu, eventId: computeEventId(pdu, version) };
  }

  private candidates(servers: string[]): string[] {
    const list = [...new Set(servers)].filter((s) => s !== this.deps.serverName && publicKeyFromServerName(s) !== undefined);
    if (list.length === 0) throw notFound('No server to reach the room through');
    return list;
  }

  private static unreachable(e: unknown): MatrixError {
    if (e instanceof MatrixError) return e;
    if (e instanceof FederationError) {
      if (e.status === 403) return new MatrixError(403, 'M_FORBIDDEN', e.message);
      if (e.status === 404) return new MatrixError(404, 'M_NOT_FOUND', e.message);
      if (e.status === 400 && e.errcode === 'M_INCOMPATIBLE_ROOM_VERSION') return new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', e.message);
    }
    return new MatrixError(502, 'M_UNKNOWN', `Could not reach the room's servers: ${(e as Error).message}`);
  }

  async joinRemote(userId: string, roomId: string, servers: string[], content: JsonObject): Promise<void> {
    const before = this.joining.get(roomId);
    const p = (async () => {
      await before?.catch(() => undefined);
      await this.join(userId, roomId, servers, content);
    })();
    this.joining.set(roomId, p);
    try {
      await p;
    } finally {
      if (this.joining.get(roomId) === p) this.joining.delete(roomId);
    }
  }

  private async join(userId: string, roomId: string, servers: string[], content: JsonObject): Promise<void> {
    let last: unknown;
    for (const server of this.candidates(servers)) {
      try {
        const made = await this.client.makeJoin(server, roomId, userId, SUPPORTED_VERSIONS);
        const versionId = made.room_version ?? '1';
        const version = getRoomVersion(versionId);
        if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${versionId} is not supported`);
        const { pdu, eventId } = this.fromTemplate(made.event, roomId, userId, { ...content, membership: 'join' }, version);
        const res = await this.client.sendJoin(server, roomId, eventId, pdu);
        const joinPdu = res.event && typeof res.event === 'object' && computeEventId(res.event, version) === eventId ? res.event : pdu;
        const state = Array.isArray(res.state) ? res.state : [];
        const chain = Array.isArray(res.auth_chain) ? res.auth_chain : [];
        await this.storeOutliers([...chain, ...state], versionId, server);
        const stateIds = state.map((p) => (version.eventIdFormat === 'v1' ? p.event_id : computeEventId(p, version))).filter((x): x is string => typeof x === 'string');
        const out = await this.deps.roomserver.inputEvent({ kind: 'new', pdu: joinPdu, roomVersion: versionId, origin: server, stateEventIds: stateIds });
        if (out.status === 'rejected' || out.status === 'soft_failed') throw new MatrixError(403, 'M_FORBIDDEN', `Join refused: ${out.reason}`);
        return;
      } catch (e) {
        last = e;
        if (e instanceof MatrixError && e.status !== 502) throw e;
        this.deps.logger.debug({ err: (e as Error).message, peer: server, room_id: roomId }, 'join through server failed');
      }
    }
    throw FederationApi.unreachable(last);
  }

  /** Stores a state and auth chain as outliers, oldest first so auth events come first. */
  private async storeOutliers(pdus: PDUJson[], roomVersion: string, origin: string): Promise<void> {
    const sorted = pdus.filter((p) => typeof p === 'object' && p !== null).sort((a, b) => (Number(a.depth) || 0) - (Number(b.depth) || 0));
    for (const pdu of sorted) await this.deps.roomserver.inputEvent({ kind: 'outlier', pdu, roomVersion, origin });
  }

  async inviteRemote(req: NewEventRequest): Promise<string> {
    const { pdu, event } = await this.deps.roomserver.buildLocalEvent(req);
    const target = domainOf(req.stateKey ?? '');
    const stripped = [...this.deps.roomserver.strippedState(req.roomId)];
    const inviter = this.deps.roomserver.currentStateEvent(req.roomId, 'm.room.member', req.sender);
    if (inviter) stripped.push({ type: inviter.type, state_key: inviter.stateKey ?? '', sender: inviter.sender, content: inviter.content });
    let res: { event: PDUJson };
    try {
      res = await this.client.invite(target, req.roomId, event.eventId, { event: pdu, room_version: event.version.id, invite_room_state: stripped });
    } catch (e) {
      throw FederationApi.unreachable(e);
    }
    const signed = res.event;
    if (!signed || typeof signed !== 'object' || computeEventId(signed, event.version) !== event.eventId || !signed.signatures?.[target]) {
      throw new MatrixError(502, 'M_UNKNOWN', 'The invitee server returned a bad invite');
    }
    const out = await this.deps.roomserver.inputEvent({ kind: 'new', pdu: signed });
    if (out.status === 'rejected' || out.status === 'soft_failed') throw new MatrixError(403, 'M_FORBIDDEN', `Invite refused: ${out.reason}`);
    return event.eventId;
  }

  async leaveRemote(userId: string, roomId: string, reason?: string): Promise<void> {
    const invite = this.deps.roomserver.pendingInvite(roomId, userId);
    const servers = [invite ? domainOf(invite.sender) : '', ...(roomId.includes(':') ? [domainOf(roomId)] : [])].filter((s) => s !== '');
    const version = invite?.version ?? getRoomVersion('1')!;
    const content: JsonObject = { membership: 'leave' };
    if (reason) content.reason = reason;
    for (const server of [...new Set(servers)].filter((s) => s !== this.deps.serverName)) {
      try {
        const made = await this.client.makeLeave(server, roomId, userId);
        const v = getRoomVersion(made.room_version ?? version.id) ?? version;
        const { pdu, eventId } = this.fromTemplate(made.event, roomId, userId, content, v);
        await this.client.sendLeave(server, roomId, eventId, pdu);
        await this.deps.roomserver.storeOutOfRoomMembership(pdu, v.id);
        return;
      } catch (e) {
        this.deps.logger.debug({ err: (e as Error).message, peer: server, room_id: roomId }, 'remote leave failed');
      }
    }
    // Nobody to tell: drop the invite here with a leave of our own.
    if (!invite) throw notFound(`Not invited to ${roomId}`);
    const draft: PDUJson = {
      type: 'm.room.member',
      state_key: userId,
      sender: userId,
      room_id: roomId,
      content,
      prev_events: version.legacyEventRefs ? [] : [invite.eventId],
      auth_events: [],
      depth: invite.depth + 1,
      origin_server_ts: Date.now(),
      hashes: { sha256: '' },
      signatures: {},
    };
    if (version.eventIdFormat === 'v1') draft.event_id = `$${randomBytes(12).toString('hex')}:${this.deps.serverName}`;
    const pdu = signEvent(draft, this.deps.serverName, this.deps.key, version);
    await this.deps.roomserver.storeOutOfRoomMembership(pdu, version.id);
  }

  async knockRemote(userId: string, roomId: string, servers: string[], content: JsonObject): Promise<void> {
    let last: unknown;
    for (const server of this.candidates(servers)) {
      try {
        const made = await this.client.makeKnock(server, roomId, userId, SUPPORTED_VERSIONS);
        const version = getRoomVersion(made.room_version);
        if (!version) throw new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${made.room_version} is not supported`);
        const { pdu, eventId } = this.fromTemplate(made.event, roomId, userId, { ...content, membership: 'knock' }, version);
        const res = await this.client.sendKnock(server, roomId, eventId, pdu);
        const stored: PDUJson = { ...pdu, unsigned: { invite_room_state: Array.isArray(res.knock_room_state) ? res.knock_room_state : [] } };
        await this.deps.roomserver.storeOutOfRoomMembership(stored, version.id);
        return;
      } catch (e) {
        last = e;
        if (e instanceof MatrixError && e.status !== 502) throw e;
      }
    }
    throw FederationApi.unreachable(last);
  }

  async resolveAlias(alias: string): Promise<{ roomId: string; servers: string[] }> {
    try {
      const r = await this.client.queryDirectory(domainOf(alias), alias);
      if (typeof r.room_id !== 'string') throw notFound(`Room alias ${alias} not found`);
      return { roomId: r.room_id, servers: Array.isArray(r.servers) ? r.servers.filter((s): s is string => typeof s === 'string') : [domainOf(alias)] };
    } catch (e) {
      throw FederationApi.unreachable(e);
    }
  }

  async profile(userId: string): Promise<JsonObject | undefined> {
    try {
      return await this.client.queryProfile(domainOf(userId), userId);
    } catch (e) {
      if (e instanceof FederationError && e.status === 404) return undefined;
      throw FederationApi.unreachable(e);
    }
  }

  async publicRooms(server: string, limit: number | undefined, since: string | undefined): Promise<JsonObject> {
    try {
      return await this.client.publicRooms(server, { limit, since });
    } catch (e) {
      throw FederationApi.unreachable(e);
    }
  }

  knownServers(): string[] {
    return (this.deps.knownServers?.() ?? []).filter((s) => s !== this.deps.serverName);
  }
}
