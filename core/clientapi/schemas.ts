import { z } from 'zod';
import { parseEventId, parseRoomAlias, parseRoomId, parseUserId } from '../events/index.js';

/** Identifiers validated at the edge, once. */
export const roomIdSchema = z.string().refine((s) => parseRoomId(s) !== undefined, 'not a room id');
export const userIdSchema = z.string().refine((s) => parseUserId(s, { historical: true }) !== undefined, 'not a user id');
export const roomAliasSchema = z.string().refine((s) => parseRoomAlias(s) !== undefined, 'not a room alias');
export const roomIdOrAliasSchema = z.string().refine((s) => parseRoomId(s) !== undefined || parseRoomAlias(s) !== undefined, 'not a room id or alias');
export const eventIdSchema = z.string().refine((s) => parseEventId(s) !== undefined, 'not an event id');
export const jsonObject = z.record(z.string(), z.unknown());
