import type { Requester } from '../http/index.js';
import type { UserApi } from '../userapi/index.js';

/** The owner's localpart on every Axon node. */
export const OWNER_LOCALPART = 'owner';
/** The device of the desktop app's embedded client: reused on every start, so the owner's
 * device list does not grow by one per launch. */
export const DESKTOP_DEVICE_ID = 'AXONDESKTOP';

/** What the embedded client needs to act as the owner. */
export interface OwnerSession {
  userId: string;
  deviceId: string;
  accessToken: string;
}

/**
 * The person who runs the node: an admin account made on first start, with no password, so
 * the only ways in are a one-time login link (headless) or the desktop app's own session.
 */
export class Owner {
  readonly userId: string;

  constructor(private readonly users: UserApi) {
    this.userId = users.userId(OWNER_LOCALPART);
  }

  /** Creates the owner's account when missing; true when it was made now. */
  async ensure(): Promise<boolean> {
    if (this.users.accountExists(this.userId)) return false;
    await this.users.createAccount(OWNER_LOCALPART, undefined, { admin: true, displayname: 'Owner' });
    return true;
  }

  is(requester: Requester | undefined): boolean {
    return requester !== undefined && requester.userId === this.userId;
  }

  /** The client URL with a one-time m.login.token in the fragment (never sent to servers, so
   * it stays out of access logs and Referer headers). */
  loginLink(clientUrl: string, ttlMs?: number): string {
    const { token } = this.users.loginTokens.issue(this.userId, ttlMs);
    return `${clientUrl.replace(/\/$/, '')}/#login_token=${encodeURIComponent(token)}`;
  }

  /** A fresh session for the desktop app's device. Earlier tokens of that device are revoked
   * first, so only the running app holds a valid one. */
  desktopSession(): OwnerSession {
    this.users.deleteDevices(this.userId, [DESKTOP_DEVICE_ID]);
    const r = this.users.login(this.userId, { deviceId: DESKTOP_DEVICE_ID, displayName: 'Axon desktop' });
    return { userId: r.user_id, deviceId: r.device_id, accessToken: r.access_token };
  }
}
