/**
 * Till transactions for conversion: {"amount": 42.5, "register": "till-2", "currency": "EUR",
 * "items": 3, "id": "T-1029", "ts": …}. With an `id`, a redelivered transaction is counted once.
 */
import type { PosTransaction } from '../../kpi/events.js';
import type { PosConfig } from '../sensorConfigSchema.js';
import { isObject, numberField, optionalString, reject, type JsonValue } from '../payload.js';
import { JsonProfile, type ReadOutcome } from './profile.js';

/** Transaction ids remembered for de-duplication (a till's QoS 1 retries arrive within seconds). */
const REMEMBERED_IDS = 10_000;

export class PosProfile extends JsonProfile<PosConfig> {
  private readonly recentIds = new Set<string>();

  protected interpret(body: JsonValue, receivedAt: number): ReadOutcome {
    if (!isObject(body)) return reject('not_object', 'a POS transaction is an object such as {"amount": 42.5, "register": "till-2"}');
    const amount = numberField(body.amount, 'amount', { min: 0, max: this.config.max_amount });
    if (!amount.ok) return amount.code === 'out_of_range' && (body.amount as number) < 0 ? reject('out_of_range', 'a negative amount (refund) is not a sale') : amount;
    const register = optionalString(body.register, 'register', /^[\w.:-]{1,64}$/, 'up to 64 letters, digits, _ . : -');
    if (!register.ok) return register;
    const currency = optionalString(body.currency, 'currency', /^[A-Z]{3}$/, 'an ISO 4217 code such as EUR');
    if (!currency.ok) return currency;
    const txId = optionalString(body.id, 'id', /^[\w.:/-]{1,128}$/, 'up to 128 letters, digits, _ . : / -');
    if (!txId.ok) return txId;
    let items: number | undefined;
    if (body.items !== undefined && body.items !== null) {
      const n = numberField(body.items, 'items', { integer: true, min: 0, max: 100_000 });
      if (!n.ok) return n;
      items = n.value;
    }
    const ts = this.timeOf(body, receivedAt);
    if (!ts.ok) return ts;
    if (txId.value !== undefined) {
      if (this.recentIds.has(txId.value)) return { ok: true, events: [], duplicate: true };
      this.recentIds.add(txId.value);
      if (this.recentIds.size > REMEMBERED_IDS) this.recentIds.delete(this.recentIds.values().next().value!);
    }
    const event: PosTransaction = { type: 'pos_transaction', ts: ts.value, register: register.value ?? this.config.register ?? this.config.id, amount: amount.value };
    const cur = currency.value ?? this.config.currency;
    if (cur !== undefined) event.currency = cur;
    if (items !== undefined) event.items = items;
    return { ok: true, events: [event] };
  }
}
