/**
 * Login sessions: random 256-bit ids in an HttpOnly, SameSite=Strict cookie, held in memory (a
 * gateway restart logs everyone out, which is fine for a store tool). Idle sessions expire.
 */
import { randomBytes } from 'node:crypto';
import type { Role } from './users.js';

export const SESSION_COOKIE = 'storepulse_session';
const IDLE_MS = 8 * 3_600_000;

export interface Session {
  username: string;
  role: Role;
  lastUsed: number;
}

export class Sessions {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number) {}

  create(username: string, role: Role): string {
    const id = randomBytes(32).toString('base64url');
    this.sessions.set(id, { username, role, lastUsed: this.now() });
    return id;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (this.now() - session.lastUsed > IDLE_MS) {
      this.sessions.delete(id);
      return undefined;
    }
    session.lastUsed = this.now();
    return session;
  }

  end(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  /** A removed user is logged out everywhere. */
  endUser(username: string): void {
    for (const [id, s] of this.sessions) if (s.username === username) this.sessions.delete(id);
  }
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${IDLE_MS / 1000}${secure ? '; Secure' : ''}`;
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
}
