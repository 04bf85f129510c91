/**
 * Change annotations ("display moved", "promo start") on the dashboard's hour axis: a mark under
 * each hour that has a note, its text on hover, and the notes listed under the chart, so a jump in
 * the bars can be read against what changed in the store.
 */
import { get } from './api.js';
import { h } from './dom.js';

export interface AnnotationNote {
  id: number;
  time: string;
  text: string;
  subject: string | null;
}

interface TimedBin {
  from: string;
  to: string;
}

/** The notes in [from, to); none when they cannot be read (the chart does not depend on them). */
export async function annotationsBetween(from: string, to: string): Promise<AnnotationNote[]> {
  try {
    const q = new URLSearchParams({ from, to });
    return (await get<{ annotations: AnnotationNote[] }>(`/api/v1/annotations?${q}`)).annotations;
  } catch {
    return [];
  }
}

const label = (n: AnnotationNote): string => `${n.time.slice(11, 16)} ${n.subject ?? 'store'}: ${n.text}`;

/** A row laid out like the hour axis: ▲ under the bins that hold a note. */
export function annotationAxis(bins: readonly TimedBin[], notes: readonly AnnotationNote[]): HTMLElement | null {
  if (notes.length === 0) return null;
  const cells = bins.map((b) => {
    const from = Date.parse(b.from);
    const to = Date.parse(b.to);
    const inside = notes.filter((n) => {
      const t = Date.parse(n.time);
      return t >= from && t < to;
    });
    return h('span', inside.length ? { class: 'note-mark', title: inside.map(label).join('\n') } : {}, inside.length ? '▲' : '');
  });
  return h('div', { class: 'axis notes', id: 'annotation-marks' }, ...cells);
}

export function annotationList(notes: readonly AnnotationNote[]): HTMLElement | null {
  if (notes.length === 0) return null;
  return h('ul', { class: 'muted notes-list', id: 'annotation-list' }, ...notes.map((n) => h('li', {}, label(n))));
}
