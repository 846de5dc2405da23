import type { TurnConfig } from '../config.js';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import type { ReceiptsAPI } from '../receipts/api.js';
import type { RoomserverAPI } from '../roomserver/api.js';
import type { UserAPI } from '../userapi/api.js';
import type { FederationAPI } from '../federationapi/api.js';
import type { ContentReports } from './reports.js';
import type { TransactionCache } from './transactions.js';

/** What the client API's routes need: the components they call, by interface. */
export interface ClientApiDeps {
  serverName: string;
  roomserver: RoomserverAPI;
  users: UserAPI;
  receipts: ReceiptsAPI;
  txns: TransactionCache;
  reports: ContentReports;
  /** Carries a user's room push rules over to an upgraded room they join. */
  pushRules?: { copyRoomRules(userId: string, fromRoom: string, toRoom: string): number };
  /** TURN servers for calls, when configured. */
  turn?: TurnConfig;
  logger: Logger;
  /** Joins, invites and lookups across servers; absent when the node has no federation. */
  federation?: FederationAPI;
}

export type { Db };
