import type Database from 'better-sqlite3';

/** The room server's tables. State is kept the Dendrite way: numeric ids for rooms, events,
 * event types and state keys; state as deduplicated blocks of (type, key, event) entries and
 * snapshots that list blocks; each event points at the snapshot of the state before it. */
export const ROOMSERVER_MIGRATIONS = [
  {
    version: 1,
    up(db: Database.Database): void {
      db.exec(`
        CREATE TABLE rs_rooms (
          room_nid INTEGER PRIMARY KEY,
          room_id TEXT NOT NULL UNIQUE,
          room_version TEXT NOT NULL,
          create_event_nid INTEGER NOT NULL DEFAULT 0,
          state_snapshot_nid INTEGER NOT NULL DEFAULT 0,
          latest_event_nids TEXT NOT NULL DEFAULT '[]',
          last_output_offset INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE rs_event_types (type_nid INTEGER PRIMARY KEY, type TEXT NOT NULL UNIQUE);
        CREATE TABLE rs_state_keys (state_key_nid INTEGER PRIMARY KEY, state_key TEXT NOT NULL UNIQUE);
        CREATE TABLE rs_events (
          event_nid INTEGER PRIMARY KEY,
          room_nid INTEGER NOT NULL,
          event_id TEXT NOT NULL UNIQUE,
          type_nid INTEGER NOT NULL,
          state_key_nid INTEGER,
          depth INTEGER NOT NULL,
          state_snapshot_nid INTEGER,
          -- 0 accepted, 1 rejected, 2 soft-failed
          status INTEGER NOT NULL DEFAULT 0,
          is_outlier INTEGER NOT NULL DEFAULT 0,
          reason TEXT,
          redacted_by TEXT,
          json TEXT NOT NULL
        );
        CREATE INDEX rs_events_room_depth ON rs_events(room_nid, depth);
        -- Which events reference which: an event that is already referenced is never an extremity.
        CREATE TABLE rs_prev_events (prev_event_id TEXT NOT NULL, event_nid INTEGER NOT NULL, PRIMARY KEY (prev_event_id, event_nid));
        -- entries: JSON array of [type_nid, state_key_nid, event_nid] sorted; event_nid 0 removes the key.
        CREATE TABLE rs_state_blocks (block_nid INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, entries TEXT NOT NULL);
        CREATE TABLE rs_state_snapshots (snapshot_nid INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, room_nid INTEGER NOT NULL, block_nids TEXT NOT NULL);
        -- Current membership of each user in each room, kept in step with current state.
        CREATE TABLE rs_membership (
          room_nid INTEGER NOT NULL,
          user_id TEXT NOT NULL,
          membership TEXT NOT NULL,
          event_nid INTEGER NOT NULL,
          PRIMARY KEY (room_nid, user_id)
        );
        CREATE INDEX rs_membership_user ON rs_membership(user_id, membership);
        -- The producer table of the durable room.output topic.
        CREATE TABLE rs_output (offset INTEGER PRIMARY KEY AUTOINCREMENT, room_id TEXT NOT NULL, entry TEXT NOT NULL);
        CREATE TABLE rs_room_aliases (alias TEXT PRIMARY KEY, room_id TEXT NOT NULL, creator TEXT NOT NULL);
        CREATE INDEX rs_room_aliases_room ON rs_room_aliases(room_id);
        CREATE TABLE rs_published_rooms (room_id TEXT PRIMARY KEY);
      `);
    },
  },
  {
    // POST /forget: the user's left room stays out of their sync (include_leave too) until
    // their membership changes again.
    version: 2,
    up(db: Database.Database): void {
      db.exec('ALTER TABLE rs_membership ADD COLUMN forgotten INTEGER NOT NULL DEFAULT 0');
    },
  },
  {
    // Local events sent from now on are stored without the server's signature, which
    // federation adds when they leave. No table changes: the version alone keeps an older
    // Axon, which would serve them as stored, off this database.
    version: 3,
    up(): void {},
  },
];
