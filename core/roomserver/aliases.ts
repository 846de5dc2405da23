import type Database from 'better-sqlite3';
import type { RoomserverAliasAPI } from './api.js';

/** Room aliases and the published room directory, over the room server's own tables. */
export class RoomAliases implements RoomserverAliasAPI {
  private readonly s;

  constructor(db: Database.Database) {
    this.s = {
      insert: db.prepare<[string, string, string]>('INSERT OR IGNORE INTO rs_room_aliases (alias, room_id, creator) VALUES (?, ?, ?)'),
      get: db.prepare<[string], { room_id: string; creator: string }>('SELECT room_id, creator FROM rs_room_aliases WHERE alias = ?'),
      remove: db.prepare<[string]>('DELETE FROM rs_room_aliases WHERE alias = ?'),
      forRoom: db.prepare<[string], { alias: string }>('SELECT alias FROM rs_room_aliases WHERE room_id = ? ORDER BY alias'),
      publish: db.prepare<[string]>('INSERT OR IGNORE INTO rs_published_rooms (room_id) VALUES (?)'),
      unpublish: db.prepare<[string]>('DELETE FROM rs_published_rooms WHERE room_id = ?'),
      isPublished: db.prepare<[string], { room_id: string }>('SELECT room_id FROM rs_published_rooms WHERE room_id = ?'),
      published: db.prepare<[], { room_id: string }>('SELECT room_id FROM rs_published_rooms ORDER BY room_id'),
    };
  }

  setAlias(alias: string, roomId: string, creator: string): boolean {
    return this.s.insert.run(alias, roomId, creator).changes === 1;
  }

  resolveAlias(alias: string): string | undefined {
    return this.s.get.get(alias)?.room_id;
  }

  aliasCreator(alias: string): string | undefined {
    return this.s.get.get(alias)?.creator;
  }

  removeAlias(alias: string): boolean {
    return this.s.remove.run(alias).changes === 1;
  }

  aliasesForRoom(roomId: string): string[] {
    return this.s.forRoom.all(roomId).map((r) => r.alias);
  }

  setPublished(roomId: string, published: boolean): void {
    if (published) this.s.publish.run(roomId);
    else this.s.unpublish.run(roomId);
  }

  isPublished(roomId: string): boolean {
    return this.s.isPublished.get(roomId) !== undefined;
  }

  publishedRooms(): string[] {
    return this.s.published.all().map((r) => r.room_id);
  }
}
