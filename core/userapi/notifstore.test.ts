import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../db/index.js';
import { tmpDir } from '../test/fixtures.js';
import { NOTIFICATIONS_MIGRATIONS, NotificationStorage, READ_NOTIFICATION_RETENTION_MS, type NewNotification } from './notifstore.js';

const dbs: Db[] = [];
afterEach(() => {
  for (const d of dbs.splice(0)) d.close();
});
function db(file = path.join(tmpDir('axon-notif-'), 'axon.db')): Db {
  const d = openDatabase(file);
  dbs.push(d);
  return d;
}

const note = (userId: string, eventId: string, depth: number, extra: Partial<NewNotification> = {}): NewNotification => ({
  userId,
  roomId: '!r:x',
  eventId,
  threadId: 'main',
  depth,
  highlight: false,
  actions: '["notify"]',
  ts: Date.now(),
  ...extra,
});

describe('notification storage', () => {
  it('keeps counts per user, room and thread; a batch is one position; a read recounts and moves the position', () => {
    const s = new NotificationStorage(db());
    expect(s.head()).toBe(0);
    const p1 = s.insert([note('@a:x', '$1', 1), note('@b:x', '$1', 1, { highlight: true }), note('@a:x', '$2', 2, { threadId: '$t' })]);
    expect(p1).toBe(1);
    expect(Object.fromEntries(s.counts('@a:x', '!r:x'))).toEqual({ main: { notification_count: 1, highlight_count: 0 }, $t: { notification_count: 1, highlight_count: 0 } });
    expect(Object.fromEntries(s.counts('@b:x', '!r:x'))).toEqual({ main: { notification_count: 1, highlight_count: 1 } });
    s.insert([note('@a:x', '$3', 3), note('@c:x', '$3', 3), note('@c:x', '$4', 4, { highlight: true })]);
    expect(s.head()).toBe(2);
    // Two events of one batch in the same place add up.
    expect(Object.fromEntries(s.counts('@c:x', '!r:x'))).toEqual({ main: { notification_count: 2, highlight_count: 1 } });
    expect(s.unreadTotal('@a:x')).toBe(3);
    expect(s.changedRooms('@a:x', 1, 2)).toEqual(['!r:x']);
    expect(s.changedRooms('@b:x', 1, 2)).toEqual([]);

    // Reading the main timeline up to depth 3 leaves the thread; the change has a position.
    expect(s.markRead('@a:x', '!r:x', 3, 'main')).toBe(2);
    expect(s.head()).toBe(3);
    expect(Object.fromEntries(s.counts('@a:x', '!r:x'))).toEqual({ $t: { notification_count: 1, highlight_count: 0 } });
    expect(s.changedRooms('@a:x', 2, 3)).toEqual(['!r:x']);
    // Nothing left to read: no change, no new position.
    expect(s.markRead('@a:x', '!r:x', 3, 'main')).toBe(0);
    expect(s.head()).toBe(3);
    expect(s.markRead('@a:x', '!r:x', 3, undefined)).toBe(1);
    expect(s.counts('@a:x', '!r:x').size).toBe(0);
    expect(s.unreadTotal('@a:x')).toBe(0);
    // Newest first, ids in insertion order.
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => [r.event_id, r.read])).toEqual([
      ['$3', 1],
      ['$2', 1],
      ['$1', 1],
    ]);
  });

  it('a receipt drops read notifications older than the retention, and keeps the rest', () => {
    const s = new NotificationStorage(db());
    const old = Date.now() - READ_NOTIFICATION_RETENTION_MS - 1000;
    s.insert([note('@a:x', '$old', 1, { ts: old }), note('@a:x', '$oldUnread', 5, { ts: old }), note('@a:x', '$new', 2, { ts: Date.now() })]);
    s.insert([note('@a:x', '$other', 1, { ts: old, roomId: '!other:x' })]);
    s.markRead('@a:x', '!other:x', 1, undefined);
    // Read and old: gone at the next receipt in its room.
    expect(s.markRead('@a:x', '!r:x', 2, undefined)).toBe(2);
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => r.event_id)).toEqual(['$new', '$oldUnread']);
    expect(Object.fromEntries(s.counts('@a:x', '!r:x'))).toEqual({ main: { notification_count: 1, highlight_count: 0 } });
  });

  it('ids and positions continue after a restart', () => {
    const file = path.join(tmpDir('axon-notif-'), 'axon.db');
    const d = db(file);
    new NotificationStorage(d).insert([note('@a:x', '$1', 1), note('@a:x', '$2', 2)]);
    d.close();
    dbs.splice(dbs.indexOf(d), 1);
    const s = new NotificationStorage(db(file));
    expect(s.head()).toBe(1);
    s.insert([note('@a:x', '$3', 3), note('@c:x', '$3', 3), note('@c:x', '$4', 4, { highlight: true })]);
    expect(s.head()).toBe(2);
    // Two events of one batch in the same place add up.
    expect(Object.fromEntries(s.counts('@c:x', '!r:x'))).toEqual({ main: { notification_count: 2, highlight_count: 1 } });
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => r.id)).toEqual([3, 2, 1]);
  });

  it('migrates notifications and the change log of the old schema: counts, ids and positions carry over', () => {
    const d = db();
    d.migrate('notifications', NOTIFICATIONS_MIGRATIONS.slice(0, 2));
    const ins = d.raw.prepare(
      'INSERT INTO ua_notifications (user_id, room_id, event_id, thread_id, depth, highlight, actions, ts, read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    ins.run('@a:x', '!r:x', '$1', 'main', 1, 0, '[]', 1, 1);
    ins.run('@a:x', '!r:x', '$2', 'main', 2, 1, '[]', 1, 0);
    ins.run('@a:x', '!r:x', '$3', 'main', 3, 0, '[]', 1, 0);
    for (let i = 0; i < 7; i++) d.raw.prepare("INSERT INTO ua_notification_changes (user_id, room_id, event_id) VALUES ('', '!r:x', '$1')").run();
    const s = new NotificationStorage(d);
    // Sync tokens already handed out carry position 7: new changes come after it.
    expect(s.head()).toBe(7);
    expect(Object.fromEntries(s.counts('@a:x', '!r:x'))).toEqual({ main: { notification_count: 2, highlight_count: 1 } });
    expect(s.insert([note('@a:x', '$4', 4)])).toBe(8);
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => [r.id, r.event_id])).toEqual([
      [4, '$4'],
      [3, '$3'],
      [2, '$2'],
      [1, '$1'],
    ]);
  });

  it('keeps one row per event for every user it notified; each user pages only their own, with their own read state', () => {
    const s = new NotificationStorage(db());
    s.insert([note('@a:x', '$1', 1), note('@b:x', '$1', 1, { highlight: true, actions: '["notify",{"set_tweak":"highlight"}]' })]);
    s.insert([note('@b:x', '$2', 2), note('@a:x', '$3', 3, { highlight: true })]);
    // One row per event, whoever it notified.
    expect(s.raw.prepare('SELECT COUNT(*) AS n FROM ua_notified_events').get()).toEqual({ n: 3 });
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => [r.event_id, r.highlight])).toEqual([
      ['$3', 1],
      ['$1', 0],
    ]);
    expect(s.page('@b:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => [r.event_id, r.highlight, JSON.parse(r.actions)])).toEqual([
      ['$2', 0, ['notify']],
      ['$1', 1, ['notify', { set_tweak: 'highlight' }]],
    ]);
    expect(s.page('@b:x', Number.MAX_SAFE_INTEGER, 10, true).map((r) => r.event_id)).toEqual(['$1']);
    // Pages: below the last id of the one before.
    const first = s.page('@b:x', Number.MAX_SAFE_INTEGER, 1, false);
    expect(s.page('@b:x', first[0]!.id, 10, false).map((r) => r.event_id)).toEqual(['$1']);
    expect(s.page('@c:x', Number.MAX_SAFE_INTEGER, 10, false)).toEqual([]);
    // a reads: b's counts and read state stay.
    expect(s.markRead('@a:x', '!r:x', 3, undefined)).toBe(2);
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false).every((r) => r.read === 1)).toBe(true);
    expect(s.page('@b:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => r.read)).toEqual([0, 0]);
    expect(Object.fromEntries(s.counts('@b:x', '!r:x'))).toEqual({ main: { notification_count: 2, highlight_count: 1 } });
  });

  it('an event that arrives below the depth already read counts until the next receipt', () => {
    const s = new NotificationStorage(db());
    s.insert([note('@a:x', '$5', 5)]);
    expect(s.markRead('@a:x', '!r:x', 5, undefined)).toBe(1);
    s.insert([note('@a:x', '$late', 4)]);
    expect(s.unreadTotal('@a:x')).toBe(1);
    expect(s.markRead('@a:x', '!r:x', 5, undefined)).toBe(1);
    expect(s.unreadTotal('@a:x')).toBe(0);
  });

  it('an old notification goes once every user it notified has read it', () => {
    const s = new NotificationStorage(db());
    const old = Date.now() - READ_NOTIFICATION_RETENTION_MS - 1000;
    s.insert([note('@a:x', '$old', 1, { ts: old }), note('@b:x', '$old', 1, { ts: old })]);
    s.markRead('@a:x', '!r:x', 1, undefined);
    expect(s.page('@b:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => r.event_id)).toEqual(['$old']);
    s.markRead('@b:x', '!r:x', 1, 'main');
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false)).toEqual([]);
    expect(s.page('@b:x', Number.MAX_SAFE_INTEGER, 10, false)).toEqual([]);
  });

  it('migrates per-user notifications to one row per event, keeping ids, read state and counts', () => {
    const d = db();
    d.migrate('notifications', NOTIFICATIONS_MIGRATIONS.slice(0, 3));
    const ins = d.raw.prepare(
      'INSERT INTO ua_notifications (user_id, id, room_id, event_id, thread_id, depth, highlight, actions, ts, read) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    ins.run('@a:x', 1, '!r:x', '$1', 'main', 1, 0, '["notify"]', 1, 1);
    ins.run('@b:x', 2, '!r:x', '$1', 'main', 1, 1, '["notify",{"set_tweak":"highlight"}]', 1, 0);
    ins.run('@a:x', 3, '!r:x', '$2', 'main', 2, 0, '["notify"]', 1, 0);
    d.raw.exec(`INSERT INTO ua_notification_counts VALUES ('@a:x', '!r:x', 'main', 1, 0, 5), ('@b:x', '!r:x', 'main', 1, 1, 4);
      UPDATE ua_notification_stream SET pos = 5`);
    const s = new NotificationStorage(d);
    expect(s.head()).toBe(5);
    expect(s.page('@a:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => [r.id, r.event_id, r.read])).toEqual([
      [3, '$2', 0],
      [2, '$1', 1],
    ]);
    expect(s.page('@b:x', Number.MAX_SAFE_INTEGER, 10, false).map((r) => [r.event_id, r.read, r.highlight, JSON.parse(r.actions)])).toEqual([
      ['$1', 0, 1, ['notify', { set_tweak: 'highlight' }]],
    ]);
    expect(Object.fromEntries(s.counts('@b:x', '!r:x'))).toEqual({ main: { notification_count: 1, highlight_count: 1 } });
    expect(s.insert([note('@a:x', '$3', 3)])).toBe(6);
    expect(s.markRead('@a:x', '!r:x', 3, undefined)).toBe(2);
  });

  it('knows which users have pushers without asking the database per event', () => {
    const s = new NotificationStorage(db());
    const p = { user_id: '@a:x', app_id: 'app', pushkey: 'k', kind: 'http', app_display_name: 'A', device_display_name: 'D', profile_tag: null, lang: 'en', data: '{}', pushkey_ts: 1 };
    expect(s.hasPushers('@a:x')).toBe(false);
    s.upsertPusher(p);
    s.upsertPusher({ ...p, app_id: 'app2' });
    expect(s.hasPushers('@a:x')).toBe(true);
    s.deletePusher('@a:x', 'app', 'k');
    expect(s.hasPushers('@a:x')).toBe(true);
    s.deletePusher('@a:x', 'app2', 'k');
    expect(s.hasPushers('@a:x')).toBe(false);
    // Another user taking over the same app id and key removes the first user's pusher.
    s.upsertPusher(p);
    s.upsertPusher({ ...p, user_id: '@b:x' });
    s.deleteOthersPushers('@b:x', 'app', 'k');
    expect(s.hasPushers('@a:x')).toBe(false);
    expect(s.hasPushers('@b:x')).toBe(true);
  });
});
