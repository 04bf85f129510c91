/**
 * Refused sensor messages, kept with the reason so an installer can fix the device. Writes are
 * batched (a misconfigured device can send thousands a second) and bounded: the payload is
 * truncated, and retention and the disk quota prune this table first. Card numbers in the payload
 * and the reason are masked before anything is kept, whatever the profile (sensors/cardNumbers.ts).
 */
import type { GatewayContext } from '../gateway/context.js';
import { maskCardNumbers, maskCardNumbersInBytes } from '../sensors/cardNumbers.js';
import type { RejectCode } from '../sensors/payload.js';
import { isDiskFull, type Db } from './database.js';

export const MAX_STORED_PAYLOAD = 1024;
/**
 * Masking looks this far past the stored part: a digit run that crosses the cut is then either seen
 * whole or seen with more than 19 digits (all masked), never cut into a short unmasked piece.
 */
const MASK_MARGIN = 64;
const FLUSH_AT = 500;

export interface DeadLetter {
  receivedAt: number;
  channel: 'mqtt' | 'ble';
  topic: string;
  /** The configured sensor the message was meant for; undefined when no sensor takes the topic. */
  sensor: string | undefined;
  code: RejectCode;
  reason: string;
  payload: Uint8Array;
}

export interface StoredDeadLetter {
  id: number;
  received_at: number;
  channel: string;
  topic: string;
  sensor: string | null;
  code: string;
  reason: string;
  /** UTF-8 text when it is text, else base64 with the `base64:` prefix. */
  payload: string;
  payload_bytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function printable(payload: Buffer): string {
  try {
    return utf8.decode(payload);
  } catch {
    return `base64:${payload.toString('base64')}`;
  }
}

/** What is kept of a letter: masked and truncated, with the size it had. */
interface PendingLetter extends DeadLetter {
  payloadBytes: number;
}

export class DeadLetters {
  private pending: PendingLetter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly ctx: GatewayContext,
  ) {}

  add(letter: DeadLetter): void {
    const payload = maskCardNumbersInBytes(letter.payload.subarray(0, MAX_STORED_PAYLOAD + MASK_MARGIN)).subarray(0, MAX_STORED_PAYLOAD);
    this.pending.push({ ...letter, reason: maskCardNumbers(letter.reason), payload: Buffer.from(payload), payloadBytes: letter.payload.length });
    if (this.pending.length >= FLUSH_AT) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), 100);
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const insert = this.db.prepare(
      'INSERT INTO dead_letters (received_at, channel, topic, sensor, code, reason, payload, payload_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    try {
      this.db.transaction(() => {
        for (const l of batch) {
          insert.run(l.receivedAt, l.channel, l.topic.slice(0, 256), l.sensor ?? null, l.code, l.reason.slice(0, 500), l.payload, l.payloadBytes);
        }
      })();
      this.ctx.metrics.storeWrites.inc({ table: 'dead_letters' }, batch.length);
    } catch (err) {
      // The reasons are still counted by the sensor metrics and logged; only the copies are lost.
      this.ctx.metrics.storeWriteErrors.inc({ reason: isDiskFull(err) ? 'disk_full' : 'io' });
      this.ctx.log.error({ err: (err as Error).message, dead_letters: batch.length }, 'cannot store dead letters');
    }
  }

  list(options: { after?: number; limit?: number; sensor?: string } = {}): StoredDeadLetter[] {
    this.flush();
    const rows = this.db
      .prepare(
        `SELECT id, received_at, channel, topic, sensor, code, reason, payload, payload_bytes FROM dead_letters
         WHERE id > ? AND (? IS NULL OR sensor = ?) ORDER BY id DESC LIMIT ?`,
      )
      .all(options.after ?? 0, options.sensor ?? null, options.sensor ?? null, Math.min(options.limit ?? 100, 1000)) as (Omit<StoredDeadLetter, 'payload'> & { payload: Buffer })[];
    return rows.map((r) => ({ ...r, payload: printable(r.payload) }));
  }

  count(): number {
    this.flush();
    return (this.db.prepare('SELECT count(*) AS n FROM dead_letters').get() as { n: number }).n;
  }
}
