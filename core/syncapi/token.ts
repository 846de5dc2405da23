import { invalidParam } from '../http/errors.js';

/** One position per stream. New streams are appended at the end of the token, so older
 * tokens (with fewer parts) still parse, the missing streams reading as 0. */
export interface StreamToken {
  pdu: number;
  accountData: number;
  typing: number;
  receipt: number;
  /** Send-to-device inbox position. */
  toDevice: number;
  /** Key-change (device list) position. */
  deviceList: number;
  /** Presence position (memory-only, like typing). */
  presence: number;
  /** Notification-count changes (the user API's notification-data position). */
  notifications: number;
}

const STREAMS = ['pdu', 'accountData', 'typing', 'receipt', 'toDevice', 'deviceList', 'presence', 'notifications'] as const;

/** `s{pdu}_{accountData}_{typing}_{receipt}_{toDevice}_{deviceList}_{presence}_{notifications}` */
export function formatToken(t: StreamToken): string {
  return 's' + STREAMS.map((k) => String(t[k])).join('_');
}

/** Parses a token; a malformed one is 400 M_INVALID_PARAM. */
export function parseToken(s: string, param = 'since'): StreamToken {
  // Pagination tokens may be negative: backfilled history sits below position 0. Sync
  // positions never are.
  const m = (param === 'since' ? /^s(\d{1,15}(?:_\d{1,15})*)$/ : /^s(-?\d{1,15}(?:_\d{1,15})*)$/).exec(s);
  if (!m) throw invalidParam(`Malformed ${param} token`);
  const parts = m[1]!.split('_').map(Number);
  if (parts.length > 16 || parts.some((n) => !Number.isSafeInteger(n))) throw invalidParam(`Malformed ${param} token`);
  return { pdu: parts[0] ?? 0, accountData: parts[1] ?? 0, typing: parts[2] ?? 0, receipt: parts[3] ?? 0, toDevice: parts[4] ?? 0, deviceList: parts[5] ?? 0, presence: parts[6] ?? 0, notifications: parts[7] ?? 0 };
}
