import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { AxonConfig } from './config.js';
import { openDatabase, type Db } from './db/index.js';
import { HttpApp, RateLimiter, endpoint, type Endpoint } from './http/index.js';
import { SearchApi, searchEndpoints } from './search/index.js';
import { SyncApi, syncEndpoints } from './syncapi/index.js';
import { UserApi, userApiEndpoints } from './userapi/index.js';
import { pushRuleEndpoints } from './userapi/routes/pushrules.js';
import { PushRuleStore } from './userapi/pushstore.js';
import { Notifications } from './userapi/notifications.js';
import { notificationEndpoints } from './userapi/routes/notifications.js';
import { pusherEndpoints } from './userapi/routes/pushers.js';
import { loadOrCreateIdentity, type Identity } from './identity.js';
import { Log, type TopicStatus } from './log/index.js';
import { createLogger, type Logger } from './logger.js';
import { AXON_VERSION } from './version.js';
import { MediaApi, mediaEndpoints, mediaFederationEndpoints } from './mediaapi/index.js';
import { openIdUserInfoEndpoint } from './federationapi/openid.js';
import { ContentReports, TransactionCache, clientApiEndpoints } from './clientapi/index.js';
import { publicKeyFromServerName } from './identity.js';
import { NO_FETCHER, Roomserver } from './roomserver/index.js';
import { FederationApi, type DestinationStatus, type FederationTransport } from './federationapi/index.js';
import { createP2PHost, type P2PHost, type PeerInfo } from '../p2p/index.js';
import { TypingServer, typingEndpoints } from './typing/index.js';
import { ReceiptServer, receiptEndpoints } from './receipts/index.js';
import { ToDeviceServer, toDeviceEndpoints } from './todevice/index.js';
import { PresenceServer, presenceEndpoints } from './presence/index.js';
import { Owner } from './owner/index.js';
import { StatusModel, defaultUiDir, joinedRooms, statusStreamEndpoint, uiHandler } from './status/index.js';

/** Registration and login count against the per-client rate limit (guessing passwords). */
const RATE_LIMITED_USER_PATHS = /\/(register|login)$/;

/** The database file inside the data folder. */
export const DB_FILE = 'axon.db';

export interface NodeStatus {
  serverName: string;
  version: string;
  uptimeMs: number;
  http: { host: string; port: number; url: string } | null;
  databaseBytes: number;
  topics: TopicStatus[];
  /** Outbound federation queues per destination. */
  federation: { destinations: DestinationStatus[] };
  /** The libp2p host: null when federation runs without it (in-process tests). */
  peerId: string | null;
  multiaddrs: string[];
  peers: PeerInfo[];
}


export interface NodeOptions {
  /** Carries federation requests instead of libp2p (tests that run nodes in one process). */
  transport?: FederationTransport;
}

/** A startup problem the person can fix (folder not writable, port in use): the CLI prints
 * the message alone, without a stack trace. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface AxonNode {
  readonly config: AxonConfig;
  readonly serverName: string;
  readonly identity: Identity;
  readonly db: Db;
  readonly log: Log;
  readonly logger: Logger;
  readonly http: HttpApp;
  readonly roomserver: Roomserver;
  readonly users: UserApi;
  readonly sync: SyncApi;
  readonly search: SearchApi;
  readonly media: MediaApi;
  readonly typing: TypingServer;
  readonly receipts: ReceiptServer;
  readonly toDevice: ToDeviceServer;
  readonly presence: PresenceServer;
  /** Notification counts, /notifications and pushers (the user API's push side). */
  readonly notifications: Notifications;
  readonly federation: FederationApi;
  /** The libp2p host (absent when a test hands in its own federation transport). */
  readonly p2p: P2PHost | undefined;
  /** The person running the node: their account, login links and desktop session. */
  readonly owner: Owner;
  /** What the status page shows, shared by the desktop preload and the status stream. */
  readonly statusModel: StatusModel;
  /** Starts serving; resolves with the bound address. */
  start(): Promise<{ url: string; host: string; port: number }>;
  /** Stops accepting, drains in-flight requests and consumers, closes the database. */
  stop(): Promise<void>;
  status(): NodeStatus;
}

function prepareDataDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.accessSync(dir, fs.constants.W_OK | fs.constants.R_OK);
  } catch (e) {
    throw new StartupError(`data folder ${dir} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function urlOf(host: string, port: number): string {
  const h = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return `http://${h}:${port}`;
}

/** Builds the whole component graph of one node. Nothing listens until start(). */
export function createNode(config: AxonConfig, opts: NodeOptions = {}): AxonNode {
  prepareDataDir(config.dataDir);
  const logger = createLogger(config.logLevel);
  let identity: Identity;
  let db: Db;
  try {
    identity = loadOrCreateIdentity(config.dataDir);
    db = openDatabase(path.join(config.dataDir, DB_FILE));
  } catch (e) {
    throw new StartupError((e as Error).message);
  }
  const log = new Log({ logger });
  const rateLimiter = new RateLimiter({ perSecond: config.rateLimit, burst: Math.max(1, config.rateLimit * 5) });
  const http = new HttpApp({ logger, maxBody: config.maxBodyBytes, rateLimiter });
  const roomserver = new Roomserver({
    db,
    log,
    logger,
    serverName: identity.serverName,
    signingKey: identity.key,
    // An Axon server's verify key is its name; federation adds fetching missing events.
    keys: { verifyKey: (server) => publicKeyFromServerName(server) },
    // Replaced by federation's once it exists (below).
    fetcher: NO_FETCHER,
  });
  const users = new UserApi({
    db,
    log,
    logger,
    serverName: identity.serverName,
    config: {
      registration: config.registration,
      registrationSharedSecret: config.registrationSharedSecret,
      registrationTokens: config.registrationTokens,
    },
    roomserver,
  });
  // The EDU servers declare their topics before the sync API consumes them.
  const typing = new TypingServer({ log, roomserver });
  const receipts = new ReceiptServer({ db, log, roomserver });
  const toDevice = new ToDeviceServer({ db, log, serverName: identity.serverName, deviceIds: (u) => users.deviceIds(u) });
  users.onDeviceDeleted((u, d) => toDevice.deleteInbox(u, d));
  const pushRules = new PushRuleStore(db, {
    onChange: (userId, rules) => {
      notifications.rulesChanged(userId);
      // Clients read their rules from sync too (account data m.push_rules).
      users.putAccountData(userId, undefined, 'm.push_rules', { global: { ...rules } });
    },
  });
  const notifications = new Notifications({ db, log, logger, serverName: identity.serverName, roomserver, rules: (u) => pushRules.rules(u) });
  const presence = new PresenceServer({ log, roomserver, isLocal: (u) => u.endsWith(`:${identity.serverName}`), enabled: config.presence, timers: config.presenceTimers });
  // Federation runs over libp2p unless a test hands in its own transport.
  const p2p: P2PHost | undefined = opts.transport ? undefined : createP2PHost({ seed: identity.key.seed, ...config.p2p }, logger);
  const transport: FederationTransport = opts.transport ?? ((destination, req) => p2p!.fetch(destination, req));
  const federation = new FederationApi({
    db,
    log,
    logger,
    serverName: identity.serverName,
    key: identity.key,
    roomserver,
    users,
    typing,
    receipts,
    transport,
    knownServers: () => p2p?.status().peers.map((p) => p.serverName) ?? [],
    keys: users.keys,
    toDevice,
    presence,
  });
  roomserver.fetcher = federation.fetcher;
  users.remoteProfile = async (userId) => {
    const p = await federation.profile(userId);
    if (!p) return undefined;
    return { ...(typeof p.displayname === 'string' ? { displayname: p.displayname } : {}), ...(typeof p.avatar_url === 'string' ? { avatar_url: p.avatar_url } : {}) };
  };
  const sync = new SyncApi({
    db,
    log,
    logger,
    serverName: identity.serverName,
    roomserver,
    users,
    backfill: (roomId, from, limit) => roomserver.performBackfill(roomId, from, limit),
    toDevice,
    keys: users.keys,
    presence,
    notifications,
  });
  const search = new SearchApi({ db, log, logger, roomserver });
  const media = new MediaApi({ db, logger, serverName: identity.serverName, dir: MediaApi.dirOf(config.dataDir), maxUploadBytes: config.maxUploadBytes, remoteCacheBytes: config.remoteMediaCacheBytes });
  // Other nodes' media comes over federation; ours goes to them the same way.
  media.remote = (origin, mediaId, maxBytes) => federation.downloadMedia(origin, mediaId, maxBytes);
  federation.addEndpoints(...mediaFederationEndpoints(media));
  http.authenticate = (token, client) => users.authenticateRequest(token, client);
  const startedAt = Date.now();
  const owner = new Owner(users);
  const statusModel = new StatusModel(() => ({ ...node.status() }), { rooms: () => joinedRooms(roomserver, owner.userId) });
  // The built UI is served at / next to the APIs (headless and the desktop window alike).
  const ui = uiHandler(defaultUiDir());
  let server: Server | undefined;
  let bound: { host: string; port: number; url: string } | null = null;
  let stopping: Promise<void> | undefined;

  const node: AxonNode = {
    config,
    serverName: identity.serverName,
    identity,
    db,
    log,
    logger,
    http,
    roomserver,
    users,
    sync,
    search,
    media,
    typing,
    receipts,
    toDevice,
    presence,
    notifications,
    federation,
    p2p,
    owner,
    statusModel,
    async start() {
      if (bound) return bound;
      await owner.ensure();
      federation.start();
      if (p2p) {
        p2p.serve((req, remote) => federation.handle(req, { serverName: remote.serverName }));
        p2p.onPeerSeen((name) => federation.peerSeen(name));
        try {
          await p2p.start();
        } catch (e) {
          throw new StartupError(`cannot start libp2p: ${(e as Error).message}`);
        }
      }
      const s = createAdaptorServer({ fetch: (req: Request, env: unknown) => ui(req) ?? http.fetch(req, env) }) as Server;
      await new Promise<void>((resolve, reject) => {
        const onError = (e: NodeJS.ErrnoException) => {
          const where = `${config.http.host}:${config.http.port}`;
          reject(
            new StartupError(
              e.code === 'EADDRINUSE'
                ? `cannot listen on ${where}: address already in use`
                : e.code === 'EACCES'
                  ? `cannot listen on ${where}: permission denied`
                  : `cannot listen on ${where}: ${e.message}`,
            ),
          );
        };
        s.once('error', onError);
        s.listen(config.http.port, config.http.host, () => {
          s.off('error', onError);
          resolve();
        });
      });
      server = s;
      const addr = s.address() as AddressInfo;
      bound = { host: config.http.host, port: addr.port, url: urlOf(config.http.host, addr.port) };
      logger.info({ url: bound.url, server_name: identity.serverName }, 'node started');
      return bound;
    },
    stop() {
      stopping ??= (async () => {
        // Ends open status streams and long-polls, which would otherwise hold the server open.
        statusModel.close();
        sync.shutdown();
        if (server) {
          const s = server;
          // Stop accepting, let in-flight requests finish, then drop idle keep-alive sockets.
          const closed = new Promise<void>((resolve) => s.close(() => resolve()));
          s.closeIdleConnections();
          const timer = setTimeout(() => s.closeAllConnections(), 5000);
          await closed;
          clearTimeout(timer);
        }
        await federation.close();
        await p2p?.stop();
        await roomserver.idle();
        typing.close();
        await presence.close();
        await notifications.close();
        await search.close();
        await log.close();
        await media.settled();
        users.close();
        db.close();
        logger.info('node stopped');
      })();
      return stopping;
    },
    status() {
      return {
        serverName: identity.serverName,
        version: AXON_VERSION,
        uptimeMs: Date.now() - startedAt,
        http: bound,
        databaseBytes: db.sizeBytes(),
        topics: log.status(),
        federation: { destinations: federation.destinations() },
        ...(p2p ? (({ peerId, multiaddrs, peers }) => ({ peerId, multiaddrs, peers }))(p2p.status()) : { peerId: null, multiaddrs: [], peers: [] }),
      };
    },
  };

  const clientDeps = { serverName: identity.serverName, roomserver, users, receipts, txns: new TransactionCache(db), reports: new ContentReports(db), turn: config.turn, pushRules, logger, federation };
  const userEndpoints = userApiEndpoints(users).map((e) => (RATE_LIMITED_USER_PATHS.test(e.path) ? { ...e, rateLimited: true } : e));
  http.add(
    ...clientApiEndpoints(clientDeps, { baseUrl: () => bound?.url }),
    ...(userEndpoints as Endpoint<any, any, any, any>[]),
    ...syncEndpoints(sync),
    ...searchEndpoints(search),
    ...mediaEndpoints(media),
    ...typingEndpoints(typing, roomserver),
    ...receiptEndpoints(receipts, users, roomserver),
    ...toDeviceEndpoints(toDevice),
    ...presenceEndpoints(presence),
    ...pushRuleEndpoints(pushRules),
    ...notificationEndpoints(notifications, roomserver),
    ...pusherEndpoints(notifications),
    openIdUserInfoEndpoint(users),
    endpoint({ method: 'GET', path: '/_axon/status', auth: 'none', handler: () => node.status() }),
    statusStreamEndpoint(statusModel, (r) => owner.is(r)),
  );
  return node;
}
