/**
 * Change annotations mixed into a simulated gateway's message stream, as a gateway's outbox would
 * hold them between its events and bins: an annotation every `every` messages, and every third one
 * removed again (its tombstone) a few messages later. Deterministic, so that the exactly-once test
 * knows what central must end up with.
 */
import type { SimulatedGateway } from '../../src/central/fleetSimulation.js';
import { annotationMessage, annotationTombstone, type OutboxMessage } from '../../src/upstream/messages.js';

export interface AnnotatedStream {
  messages: OutboxMessage[];
  /** Annotation ids that stay. */
  live: number[];
  /** Annotation ids removed (a tombstone follows them). */
  removed: number[];
}

export function withAnnotations(gw: SimulatedGateway, messages: readonly OutboxMessage[], start: number, every = 40): AnnotatedStream {
  const out: OutboxMessage[] = [];
  const live: number[] = [];
  const removed: number[] = [];
  const pendingTombstones = new Map<number, OutboxMessage>(); // index in `messages` → tombstone
  let id = 0;
  messages.forEach((m, i) => {
    out.push(m);
    const tombstone = pendingTombstones.get(i);
    if (tombstone) out.push(tombstone);
    if (i % every !== every - 1) return;
    id += 1;
    const ts = start + i * 60_000;
    out.push(annotationMessage({ id, ts, text: `change ${id} at ${gw.storeId}`, subject: id % 2 ? 'store' : 'zone:promo', created_by: 'someone', created_at: ts }, gw));
    if (id % 3 === 0 && i + 5 < messages.length) {
      pendingTombstones.set(i + 5, annotationTombstone(id, ts + 60_000, gw));
      removed.push(id);
    } else live.push(id);
  });
  return { messages: out, live, removed };
}
