import type { JsonObject, PDUJson } from '../events/types.js';
import type { Logger } from '../logger.js';
import type { DestinationStatus } from './api.js';
import type { FederationClient } from './client.js';
import type { FederationStorage } from './storage.js';

const MAX_PDUS = 50;
const MAX_EDUS = 100;
const BASE_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Outbound federation: one durable queue per destination (rows in fs_queue), sent as
 * transactions of at most 50 PDUs and 100 EDUs, one transaction in flight per destination.
 * A failure backs the destination off exponentially; `wake` (the peer was seen) clears the
 * backoff and sends at once.
 */
export class FederationSender {
  private readonly running = new Map<string, Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Destinations with new work while a send was in flight. */
  private readonly again = new Set<string>();
  private closed = false;

  constructor(
    private readonly serverName: string,
    private readonly store: FederationStorage,
    private readonly client: FederationClient,
    private readonly logger: Logger,
  ) {}

  /** Starts sending whatever the queue held when the node stopped. */
  start(): void {
    for (const d of this.store.destinationsWithWork()) this.kick(d);
  }

  /** Queues a PDU for destinations (callers run this inside their own transaction when they
   * need it to be atomic with their offset) and returns them, to kick once committed. */
  enqueuePdu(destinations: Iterable<string>, pdu: PDUJson): string[] {
    const ds = [...destinations].filter((d) => d !== this.serverName);
    if (ds.length > 0) this.store.enqueue(ds, 'pdu', JSON.stringify(pdu));
    return ds;
  }

  enqueueEdu(destinations: Iterable<string>, eduType: string, content: JsonObject): string[] {
    const ds = [...destinations].filter((d) => d !== this.serverName);
    if (ds.length > 0) this.store.enqueue(ds, 'edu', JSON.stringify({ edu_type: eduType, content }));
    return ds;
  }

  /** Sends to `destination` now unless it is backing off. */
  kick(destination: string): void {
    if (this.closed) return;
    const row = this.store.destination(destination);
    const wait = row ? row.retry_at - Date.now() : 0;
    if (wait > 0) {
      this.schedule(destination, wait);
      return;
    }
    if (this.running.has(destination)) {
      this.again.add(destination);
      return;
    }
    const p = this.drain(destination).finally(() => {
      this.running.delete(destination);
      if (this.again.delete(destination)) this.kick(destination);
    });
    this.running.set(destination, p);
  }

  /** The peer is reachable again: forget its backoff and send what is queued. */
  wake(destination: string): void {
    const row = this.store.destination(destination);
    if (row && row.retry_at > Date.now()) this.store.setDestination(destination, row.failures, 0, row.last_error);
    clearTimeout(this.timers.get(destination));
    this.timers.delete(destination);
    if (this.store.pending(destination, 'pdu', 1).length > 0 || this.store.pending(destination, 'edu', 1).length > 0) this.kick(destination);
  }

  private schedule(destination: string, ms: number): void {
    if (this.timers.has(destination)) return;
    const t = setTimeout(() => {
      this.timers.delete(destination);
      this.kick(destination);
    }, ms);
    t.unref();
    this.timers.set(destination, t);
  }

  private async drain(destination: string): Promise<void> {
    while (!this.closed) {
      const pdus = this.store.pending(destination, 'pdu', MAX_PDUS);
      const edus = this.store.pending(destination, 'edu', MAX_EDUS);
      if (pdus.length === 0 && edus.length === 0) return;
      const ids = [...pdus, ...edus].map((i) => i.id);
      // The same batch keeps the same id across retries, so the receiver can deduplicate.
      const txnId = `${Math.min(...ids)}-${Math.max(...ids)}-${ids.length}`;
      try {
        const res = await this.client.sendTransaction(destination, txnId, {
          origin: this.serverName,
          origin_server_ts: Date.now(),
          pdus: pdus.map((p) => JSON.parse(p.json) as PDUJson),
          edus: edus.map((e) => JSON.parse(e.json) as JsonObject),
        });
        for (const [id, r] of Object.entries(res.pdus ?? {})) {
          if (r && typeof r === 'object' && r.error) this.logger.debug({ peer: destination, event_id: id, reason: r.error }, 'PDU refused by destination');
        }
        this.logger.debug({ peer: destination, txn_id: txnId, pdus: pdus.length, edus: edus.length }, 'transaction sent');
        if (this.closed) return;
        this.store.remove(ids);
        const row = this.store.destination(destination);
        if (row && (row.failures > 0 || row.last_error)) this.store.setDestination(destination, 0, 0, null);
      } catch (e) {
        if (this.closed) return;
        const row = this.store.destination(destination);
        const failures = (row?.failures ?? 0) + 1;
        const backoff = Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** Math.min(failures - 1, 20));
        this.store.setDestination(destination, failures, Date.now() + backoff, (e as Error).message.slice(0, 500));
        this.logger.debug({ peer: destination, failures, backoff_ms: backoff, err: (e as Error).message }, 'transaction failed; backing off');
        this.schedule(destination, backoff);
        return;
      }
    }
  }

  status(): DestinationStatus[] {
    const counts = this.store.queueCounts();
    const rows = new Map(this.store.destinations().map((r) => [r.destination, r]));
    const names = new Set([...counts.keys(), ...rows.keys()]);
    return [...names].sort().map((d) => {
      const r = rows.get(d);
      return {
        serverName: d,
        pending: counts.get(d) ?? 0,
        failures: r?.failures ?? 0,
        backoffUntil: r && r.retry_at > Date.now() ? r.retry_at : null,
        lastError: r?.last_error ?? null,
      };
    });
  }

  /** Waits for in-flight sends to settle (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running.values()]);
  }
}
