/**
 * Web UI accounts in data_dir/users.json (mode 0600): user name, role and scrypt hash (with its cost
 * parameters: a hash made at a lower cost than the current one is replaced at the next successful
 * login). The first run has none: the UI then asks for the admin password (an installer account
 * named "admin").
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../common/atomicFile.js';
import { hashPassword, MIN_PASSWORD_LENGTH, needsRehash, verifyPassword } from './passwords.js';

export type Role = 'installer' | 'viewer';
export const ROLES: readonly Role[] = ['installer', 'viewer'];

interface StoredUser {
  username: string;
  role: Role;
  hash: string;
  created_at: string;
}

export class UserError extends Error {}

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) throw new UserError(`the password needs at least ${MIN_PASSWORD_LENGTH} characters`);
}

export class UserStore {
  private users: StoredUser[];
  // A hash to compare against when the user does not exist, so "no such user" takes as long as "wrong password".
  private dummyHash: Promise<string> | undefined;

  constructor(readonly file: string) {
    try {
      this.users = (JSON.parse(readFileSync(file, 'utf8')) as { users: StoredUser[] }).users;
    } catch {
      this.users = [];
    }
  }

  static inDataDir(dataDir: string): UserStore {
    return new UserStore(path.resolve(dataDir, 'users.json'));
  }

  get needsSetup(): boolean {
    return this.users.length === 0;
  }

  list(): { username: string; role: Role; created_at: string }[] {
    return this.users.map(({ username, role, created_at }) => ({ username, role, created_at }));
  }

  /** The role of an existing account (undefined: no such user). */
  role(username: string): Role | undefined {
    return this.users.find((u) => u.username === username)?.role;
  }

  async create(username: string, password: string, role: Role): Promise<void> {
    if (!/^[a-z0-9][a-z0-9._-]{1,31}$/.test(username)) throw new UserError('user names: 2–32 lower-case letters, digits, . _ -');
    checkPassword(password);
    if (this.users.some((u) => u.username === username)) throw new UserError(`user "${username}" exists`);
    this.users.push({ username, role, hash: await hashPassword(password), created_at: new Date().toISOString() });
    await this.save();
  }

  async remove(username: string): Promise<void> {
    const remaining = this.users.filter((u) => u.username !== username);
    if (!remaining.some((u) => u.role === 'installer')) throw new UserError('at least one installer account must remain');
    this.users = remaining;
    await this.save();
  }

  /** A new password for an existing account. */
  async setPassword(username: string, password: string): Promise<void> {
    checkPassword(password);
    const user = this.users.find((u) => u.username === username);
    if (!user) throw new UserError(`no user "${username}"`);
    await this.replaceHash(user, await hashPassword(password));
  }

  /** Whether the account's hash was made at a lower cost than the current one. */
  needsUpgrade(username: string): boolean {
    const user = this.users.find((u) => u.username === username);
    return user !== undefined && needsRehash(user.hash);
  }

  /**
   * Re-hashes a password just verified (a successful login) at the current cost. The old hash is
   * kept if the file cannot be written.
   */
  async upgradeHash(username: string, password: string): Promise<void> {
    const user = this.users.find((u) => u.username === username);
    if (!user || !needsRehash(user.hash)) return;
    await this.replaceHash(user, await hashPassword(password));
  }

  /** Saves the account with a new hash; nothing changes in memory if the file cannot be written. */
  private async replaceHash(user: StoredUser, hash: string): Promise<void> {
    const old = user.hash;
    user.hash = hash;
    try {
      await this.save();
    } catch (err) {
      user.hash = old;
      throw err;
    }
  }

  /** The user's role when the password is right. */
  async verify(username: string, password: string): Promise<Role | undefined> {
    const user = this.users.find((u) => u.username === username);
    if (!user) {
      this.dummyHash ??= hashPassword('not-a-real-password');
      await verifyPassword(password, await this.dummyHash);
      return undefined;
    }
    return (await verifyPassword(password, user.hash)) ? user.role : undefined;
  }

  private async save(): Promise<void> {
    await writeFileAtomic(this.file, `${JSON.stringify({ users: this.users }, null, 2)}\n`, { mode: 0o600 });
  }
}
