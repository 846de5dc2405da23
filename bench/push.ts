import fs from 'node:fs';
import type { JsonObject } from '../core/events/types.js';
import type { RoomOutput } from '../core/roomserver/api.js';
import { ReceiptServer } from '../core/receipts/index.js';
import { ChangedCounts, Notifications } from '../core/userapi/notifications.js';
import { PushRuleStore } from '../core/userapi/pushstore.js';
import { evaluatePushRules, type PushEvent } from '../core/userapi/pusheval.js';
import { benchRoomServer } from './roomsetup.js';
import { round } from './stats.js';

const MEMBERS = 1000;
const EVENTS = 200;

/**
 * Push rule evaluation per event in a room of 1,000 local members: for each new event, the
 * rules of the 999 members who did not send it are evaluated and their notifications stored
 * (what the user API's room.output consumer does), timed without the log around it; and the
 * rules alone (`*_rules_only`), without storing.
 */
export async function push(): Promise<Record<string, unknown>> {
  const { dir, db, log, logger, serverName, rs } = benchRoomServer('axon-bench-push-');
  const rules = new PushRuleStore(db);
  // Declares the receipt topic the notification consumer also reads.
  new ReceiptServer({ db, log, roomserver: rs });
  const owner = `@owner:${serverName}`;
  const { roomId } = await rs.createRoom({ creator: owner, preset: 'public_chat' });
  const joinT = performance.now();
  for (let i = 1; i < MEMBERS; i++) {
    const u = `@user${i}:${serverName}`;
    await rs.sendEvent({ roomId, sender: u, type: 'm.room.member', stateKey: u, content: { membership: 'join', displayname: `User ${i}` } });
  }
  const joinMs = performance.now() - joinT;
  // The consumer only starts now: the joins are history, not part of the measurement.
  const notifications = new Notifications({ db, log, logger, serverName, roomserver: rs, rules: (u) => rules.rules(u) });
  await notifications.caughtUp();

  const base = (await rs.sendEvent({ roomId, sender: owner, type: 'm.room.message', content: { msgtype: 'm.text', body: 'warm-up' } })).event;
  await notifications.caughtUp();
  const kinds: Array<{ name: string; content: JsonObject }> = [
    { name: 'message', content: { msgtype: 'm.text', body: 'an ordinary message about lunch' } },
    { name: 'mention', content: { msgtype: 'm.text', body: 'user7: please look', 'm.mentions': { user_ids: [`@user7:${serverName}`] } } },
    { name: 'notice', content: { msgtype: 'm.notice', body: 'a bot notice' } },
  ];
  const out: Record<string, unknown> = { members: MEMBERS, events_per_kind: EVENTS, joins_ms: round(joinMs, 0) };
  let n = 0;
  for (const kind of kinds) {
    const outputs: Array<Extract<RoomOutput, { type: 'new_room_event' }>> = [];
    for (let i = 0; i < EVENTS; i++) {
      const eventId = `$bench-${kind.name}-${i}`;
      outputs.push({
        type: 'new_room_event',
        roomId,
        roomVersion: base.version.id,
        eventId,
        event: { ...base.json, content: kind.content, depth: base.depth + ++n, origin_server_ts: Date.now() },
        addsStateEventIds: [],
        removesStateEventIds: [],
        latestEventIds: [eventId],
        prevOutputOffset: 0,
      });
    }
    let notified = 0;
    const t = performance.now();
    for (const o of outputs) {
      const rows: Parameters<Notifications['evaluate']>[1] = [];
      db.raw.transaction(() => {
        notifications.evaluate(o, rows, [], new ChangedCounts());
        notifications.store.insert(rows);
      })();
      notified += rows.length;
    }
    const us = ((performance.now() - t) * 1000) / EVENTS;
    out[kind.name] = { us_per_event: round(us, 0), us_per_member: round(us / (MEMBERS - 1), 2), notified_per_event: round(notified / EVENTS, 1) };
  }
  // The rules alone, without storing anything: the evaluator's share of the cost.
  const members = rs.joinedMembers(roomId).filter((u) => u !== owner);
  const facts = { roomMemberCount: MEMBERS, senderPowerLevel: 100, notificationPowerLevels: {} };
  const ruleSets = new Map(members.map((u) => [u, rules.rules(u)]));
  for (const kind of kinds) {
    const event = { ...(base.json as unknown as JsonObject), content: kind.content, room_id: roomId } as unknown as PushEvent;
    const t = performance.now();
    for (let i = 0; i < EVENTS; i++) {
      // One memo per event, as the consumer makes it: shared by all of the event's recipients.
      const memo = new Map<number, boolean>();
      for (const u of members) evaluatePushRules(ruleSets.get(u)!, event, { userId: u, ...facts }, memo);
    }
    const us = ((performance.now() - t) * 1000) / EVENTS;
    out[`${kind.name}_rules_only`] = { us_per_event: round(us, 0), us_per_member: round(us / members.length, 2) };
  }
  await notifications.close();
  await log.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
