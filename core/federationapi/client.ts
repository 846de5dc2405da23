import type { SigningKey } from '../crypto/index.js';
import type { JsonObject, JsonValue, PDUJson } from '../events/types.js';
import { signRequest } from './xmatrix.js';

/** Carries a federation request to a server by name (the libp2p host in a node). */
export type FederationTransport = (destination: string, req: Request) => Promise<Response>;

/** A remote server answered with an error, or could not be reached (status 0). */
export class FederationError extends Error {
  override name = 'FederationError';
  constructor(
    readonly status: number,
    readonly errcode: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

const TIMEOUT_MS = 30_000;

export interface SendJoinResponse {
  state: PDUJson[];
  auth_chain: PDUJson[];
  event?: PDUJson;
  members_omitted?: boolean;
}

/** The federation client: signed (X-Matrix) requests to other servers, one method per
 * endpoint this server calls. */
export class FederationClient {
  constructor(
    private readonly serverName: string,
    private readonly key: SigningKey,
    private readonly transport: FederationTransport,
  ) {}

  async request<T = JsonObject>(destination: string, method: 'GET' | 'PUT' | 'POST', path: string, opts: { query?: Record<string, string | string[] | undefined>; body?: JsonValue; timeoutMs?: number } = {}): Promise<T> {
    const res = await this.send(destination, method, path, opts);
    const text = await res.text();
    let json: unknown;
    try {
      json = text.length > 0 ? JSON.parse(text) : {};
    } catch {
      throw new FederationError(res.status, undefined, `${destination} answered ${res.status} with non-JSON`);
    }
    if (!res.ok) {
      const err = json as { errcode?: string; error?: string };
      throw new FederationError(res.status, err.errcode, `${destination} answered ${res.status} ${err.errcode ?? ''} ${err.error ?? ''}`.trim());
    }
    return json as T;
  }

  /** A signed request, its response as it came (for answers that are not JSON). */
  async send(destination: string, method: 'GET' | 'PUT' | 'POST', path: string, opts: { query?: Record<string, string | string[] | undefined>; body?: JsonValue; timeoutMs?: number } = {}): Promise<Response> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      for (const one of Array.isArray(v) ? v : [v]) qs.append(k, one);
    }
    const url = new URL(`http://${destination}${path}${qs.size > 0 ? `?${qs.toString()}` : ''}`);
    // Signed as the receiver will see it: the URL's own serialisation of path and query.
    const uri = url.pathname + url.search;
    const auth = signRequest({ method, uri, origin: this.serverName, destination, content: opts.body }, this.key);
    const headers: Record<string, string> = { Authorization: auth };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    const req = new Request(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? TIMEOUT_MS),
    });
    try {
      return await this.transport(destination, req);
    } catch (e) {
      throw new FederationError(0, undefined, `${destination} unreachable: ${(e as Error).message}`);
    }
  }

  private static p(s: string): string {
    return encodeURIComponent(s);
  }

  makeJoin(dest: string, roomId: string, userId: string, versions: string[]): Promise<{ event: PDUJson; room_version?: string }> {
    return this.request(dest, 'GET', `/_matrix/federation/v1/make_join/${FederationClient.p(roomId)}/${FederationClient.p(userId)}`, { query: { ver: versions } });
  }

  sendJoin(dest: string, roomId: string, eventId: string, pdu: PDUJson): Promise<SendJoinResponse> {
    return this.request(dest, 'PUT', `/_matrix/federation/v2/send_join/${FederationClient.p(roomId)}/${FederationClient.p(eventId)}`, { body: pdu as unknown as JsonValue, timeoutMs: 120_000 });
  }

  makeLeave(dest: string, roomId: string, userId: string): Promise<{ event: PDUJson; room_version?: string }> {
    return this.request(dest, 'GET', `/_matrix/federation/v1/make_leave/${FederationClient.p(roomId)}/${FederationClient.p(userId)}`);
  }

  sendLeave(dest: string, roomId: string, eventId: string, pdu: PDUJson): Promise<JsonObject> {
    return this.request(dest, 'PUT', `/_matrix/federation/v2/send_leave/${FederationClient.p(roomId)}/${FederationClient.p(eventId)}`, { body: pdu as unknown as JsonValue });
  }

  makeKnock(dest: string, roomId: string, userId: string, versions: string[]): Promise<{ event: PDUJson; room_version: string }> {
    return this.request(dest, 'GET', `/_matrix/federation/v1/make_knock/${FederationClient.p(roomId)}/${FederationClient.p(userId)}`, { query: { ver: versions } });
  }

  sendKnock(dest: string, roomId: string, eventId: string, pdu: PDUJson): Promise<{ knock_room_state?: JsonObject[] }> {
    return this.request(dest, 'PUT', `/_matrix/federation/v1/send_knock/${FederationClient.p(roomId)}/${FederationClient.p(eventId)}`, { body: pdu as unknown as JsonValue });
  }

  invite(dest: string, roomId: string, eventId: string, body: { event: PDUJson; room_version: string; invite_room_state: JsonObject[] }): Promise<{ event: PDUJson }> {
    return this.request(dest, 'PUT', `/_matrix/federation/v2/invite/${FederationClient.p(roomId)}/${FederationClient.p(eventId)}`, { body: body as unknown as JsonValue });
  }

  sendTransaction(dest: string, txnId: string, body: { origin: string; origin_server_ts: number; pdus: PDUJson[]; edus: JsonObject[] }): Promise<{ pdus: Record<string, { error?: string }> }> {
    return this.request(dest, 'PUT', `/_matrix/federation/v1/send/${FederationClient.p(txnId)}`, { body: body as unknown as JsonValue, timeoutMs: 60_000 });
  }

  backfill(dest: string, roomId: string, from: string[], limit: number): Promise<{ pdus: PDUJson[] }> {
    return this.request(dest, 'GET', `/_matrix/federation/v1/backfill/${FederationClient.p(roomId)}`, { query: { v: from, limit: String(limit) } });
  }

  getMissingEvents(dest: string, roomId: string, body: { earliest_events: string[]; latest_events: string[]; limit: number; min_depth: number }): Promise<{ events: PDUJson[] }> {
    return this.request(dest, 'POST', `/_matrix/federation/v1/get_missing_events/${FederationClient.p(roomId)}`, { body });
  }

  event(dest: string, eventId: string): Promise<{ pdus: PDUJson[]; origin: string }> {
    return this.request(dest, 'GET', `/_matrix/federation/v1/event/${FederationClient.p(eventId)}`);
  }

  state(dest: string, roomId: string, eventId: string): Promise<{ pdus: PDUJson[]; auth_chain: PDUJson[] }> {
    return this.request(dest, 'GET', `/_matrix/federation/v1/state/${FederationClient.p(roomId)}`, { query: { event_id: eventId }, timeoutMs: 120_000 });
  }

  queryProfile(dest: string, userId: string, field?: string): Promise<JsonObject> {
    return this.request(dest, 'GET', '/_matrix/federation/v1/query/profile', { query: { user_id: userId, field } });
  }

  queryDirectory(dest: string, alias: string): Promise<{ room_id: string; servers: string[] }> {
    return this.request(dest, 'GET', '/_matrix/federation/v1/query/directory', { query: { room_alias: alias } });
  }

  publicRooms(dest: string, query: { limit?: number; since?: string }): Promise<JsonObject> {
    return this.request(dest, 'GET', '/_matrix/federation/v1/publicRooms', {
      query: { limit: query.limit === undefined ? undefined : String(query.limit), since: query.since },
    });
  }
}
