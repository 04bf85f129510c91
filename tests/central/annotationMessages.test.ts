/**
 * Change annotations on the wire: what the gateway's builders make is what central accepts (and
 * nothing about who wrote it), each kind of damage is refused with a reason, and a batch holding an
 * annotation twice, or with its tombstone, plans one row.
 */
import { describe, expect, it } from 'vitest';
import { planBatch, type ReceivedMessage } from '../../src/central/batchPlan.js';
import { classifyMessage } from '../../src/central/incomingMessage.js';
import type { Annotation } from '../../src/store/annotationStore.js';
import { annotationMessage, annotationTombstone, envelope, topicPrefix, type GatewayIdentity, type OutboxMessage } from '../../src/upstream/messages.js';

const NOW = Date.UTC(2026, 11, 2, 12, 0);
const GW: GatewayIdentity = { storeId: 'lyon-02', gatewayId: 'gw-1', databaseId: '5f1c2a9e-0000-4000-8000-000000000000' };
const NOTE: Annotation = { id: 7, ts: Date.UTC(2026, 11, 1, 9, 30), text: 'Promo start: end-cap display', subject: 'zone:promo', created_by: 'token:installer-anna', created_at: NOW - 3_600_000 };

let seq = 0;
function publication(m: OutboxMessage, topic = `${topicPrefix('storepulse', GW)}/${m.topic}`): { topic: string; payload: string } {
  seq += 1;
  return { topic, payload: envelope({ seq, key: m.key, kind: m.kind, topic: m.topic, payload: JSON.stringify(m.body), created_at: NOW - 60_000 }, GW) };
}
const classify = (p: { topic: string; payload: string }) => classifyMessage(p.topic, Buffer.from(p.payload), 'storepulse', NOW);
const received = (p: { topic: string; payload: string }): ReceivedMessage => ({ topic: p.topic, payload: Buffer.from(p.payload), receivedAt: NOW });
const withBody = (m: OutboxMessage, change: (body: Record<string, unknown>) => void): OutboxMessage => {
  const body = structuredClone(m.body) as Record<string, unknown>;
  change(body);
  return { ...m, body };
};

describe('annotation messages', () => {
  it('the gateway publishes id, time, text, subject and creation time on …/annotations, never the author', () => {
    const m = annotationMessage(NOTE, GW);
    expect(m).toMatchObject({ kind: 'annotation', topic: 'annotations', key: 'gw-1:5f1c2a9e:a7' });
    expect(m.body).toEqual({ id: 7, source: '5f1c2a9e', deleted: false, time: '2026-12-01T09:30:00.000Z', ts: NOTE.ts, text: NOTE.text, subject: 'zone:promo', created_at: '2026-12-02T11:00:00.000Z' });
    expect(JSON.stringify(m)).not.toContain('anna');
    const result = classify(publication(m));
    expect(result).toMatchObject({ ok: true, message: { kind: 'annotation', storeId: 'lyon-02', gatewayId: 'gw-1', key: 'gw-1:5f1c2a9e:a7', annotation: { id: 7, deleted: false, text: NOTE.text } } });
  });

  it('a removal is a tombstone under its own key (the annotation may still be in the outbox)', () => {
    const t = annotationTombstone(7, NOW, GW);
    expect(t).toMatchObject({ kind: 'annotation', topic: 'annotations', key: 'gw-1:5f1c2a9e:a7:deleted', body: { id: 7, source: '5f1c2a9e', deleted: true, deleted_at: new Date(NOW).toISOString() } });
    expect(classify(publication(t))).toMatchObject({ ok: true, message: { kind: 'annotation', annotation: { id: 7, deleted: true } } });
  });

  it('a planned change up to a year ahead is accepted', () => {
    const planned = annotationMessage({ ...NOTE, ts: NOW + 60 * 86_400_000 }, GW);
    expect(classify(publication(planned))).toMatchObject({ ok: true });
  });

  const m = annotationMessage(NOTE, GW);
  it.each([
    ['an annotation on another topic', publication(m, `${topicPrefix('storepulse', GW)}/events/annotation`), /an annotation on topic …\/events\/annotation/],
    ['the author (created_by never goes upstream)', publication(withBody(m, (b) => (b.created_by = 'anna'))), /invalid envelope/],
    ['a subject the gateway would refuse', publication(withBody(m, (b) => (b.subject = 'shelf 3'))), /data\.subject/],
    ['an empty text', publication(withBody(m, (b) => (b.text = ''))), /data\.text/],
    ['a text over 500 characters', publication(withBody(m, (b) => (b.text = 'x'.repeat(501)))), /data\.text/],
    ['a text with a newline', publication(withBody(m, (b) => (b.text = 'two\nlines'))), /one line/],
    ['time and ts that disagree', publication(withBody(m, (b) => (b.ts = NOTE.ts + 1))), /time and ts disagree/],
    ['an annotation more than a year ahead', publication(annotationMessage({ ...NOTE, ts: NOW + 400 * 86_400_000 }, GW)), /in the future/],
    ['a creation time from a broken clock', publication(withBody(m, (b) => (b.created_at = '1970-01-01T00:00:00.000Z'))), /created_at .* before 2020/],
    ['a tombstone with text', publication(withBody(annotationTombstone(7, NOW, GW), (b) => (b.text = 'x'))), /invalid envelope/],
    ['a store id that is not the topic\'s', publication(m, `storepulse/v1/paris-01/gw-1/annotations`), /do not match the topic/],
  ])('refuses %s', (_what, p, reason) => {
    const result = classify(p);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.reason).toMatch(reason);
  });
});

describe('planBatch with annotations', () => {
  it('an annotation delivered twice is one row; with its tombstone in the same batch only the tombstone stays', () => {
    const add = publication(annotationMessage(NOTE, GW));
    const other = publication(annotationMessage({ ...NOTE, id: 8, text: 'Display moved' }, GW));
    const gone = publication(annotationTombstone(8, NOW, GW));
    const plan = planBatch([add, add, gone, other, other].map(received), 'storepulse', NOW);
    expect(plan.annotations.map((a) => [a.id, a.annotation.deleted])).toEqual([[7, false]]);
    expect(plan.annotationTombstones.map((a) => [a.id, a.annotation.deleted])).toEqual([[8, true]]);
    expect(plan.activity).toHaveLength(1);
    expect(plan.deadLetters).toEqual([]);
  });
});
