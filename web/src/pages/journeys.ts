/**
 * Today's customer journeys: the zone-to-zone transition heat table (entry and exit included), the
 * funnel per person and per buying unit, and the paths taken by enough people to be shown.
 * Everything comes from GET /api/v1/journeys (aggregates only; docs/journeys.md).
 */
import { get, HttpError } from '../api.js';
import { fmt, h, mount, pct } from '../dom.js';

interface JourneyBin {
  from: string;
  to: string;
  journeys: number;
  states: string[];
  transitions: { from: string; to: string; count: number }[];
  top_paths: { zones: string[]; continues: boolean; count: number }[];
  other_paths: { paths: number; journeys: number };
  min_path_count: number;
  funnel: { zone: string; persons: number; person_conversion: number | null; units: number; unit_conversion: number | null }[];
  buying_units: { units: number; persons: number; mean_size: number | null };
  conversion: { persons: number | null; units: number | null };
}

/** Cell shading: the share of the busiest transition, so the main flows stand out at a glance. */
function heatCell(count: number, max: number, title: string): HTMLTableCellElement {
  const cell = h('td', { class: 'heat', title }, count || '');
  const alpha = count > 0 ? 0.12 + 0.78 * (count / max) : 0;
  cell.style.background = `rgba(37, 99, 235, ${alpha.toFixed(2)})`;
  if (alpha > 0.55) cell.style.color = '#fff';
  return cell;
}

function heatTable(bin: JourneyBin): HTMLElement {
  const rows = bin.states.filter((s) => s !== 'exit');
  const columns = bin.states.filter((s) => s !== 'entry');
  const counts = new Map(bin.transitions.map((t) => [`${t.from}\u0000${t.to}`, t.count]));
  const max = Math.max(1, ...bin.transitions.map((t) => t.count));
  return h(
    'table',
    { id: 'transition-table', class: 'heat-table' },
    h('thead', {}, h('tr', {}, h('th', {}, 'from \\ to'), ...columns.map((c) => h('th', {}, c)))),
    h(
      'tbody',
      {},
      ...rows.map((from) =>
        h(
          'tr',
          { 'data-from': from },
          h('th', {}, from),
          ...columns.map((to) => {
            const count = counts.get(`${from}\u0000${to}`) ?? 0;
            const cell = heatCell(count, max, `${from} → ${to}: ${count}`);
            cell.dataset.to = to;
            return cell;
          }),
        ),
      ),
    ),
  );
}

export async function journeysPage(): Promise<void> {
  let body: { bins: JourneyBin[]; time_zone: string };
  try {
    body = await get<{ bins: JourneyBin[]; time_zone: string }>('/api/v1/journeys?bin=1d');
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) {
      return mount(h('h1', {}, 'Journeys'), h('div', { class: 'card' }, h('p', { class: 'muted', id: 'journeys-off' }, err.message)));
    }
    throw err;
  }
  const bin = body.bins[0];
  if (!bin) return mount(h('h1', {}, 'Journeys'), h('p', { class: 'muted' }, 'no data'));
  mount(
    h('h1', {}, 'Journeys today'),
    h(
      'div',
      { class: 'grid' },
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Journeys'), h('div', { class: 'kpi', id: 'journeys-count' }, bin.journeys)),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Buying units'), h('div', { class: 'kpi', id: 'units-count' }, bin.buying_units.units), h('div', { class: 'muted' }, `mean size ${fmt(bin.buying_units.mean_size, 2)}`)),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Funnel conversion'), h('div', { class: 'kpi' }, pct(bin.conversion.persons)), h('div', { class: 'muted' }, `per buying unit ${pct(bin.conversion.units)}`)),
    ),
    h('div', { class: 'card' }, h('h2', {}, 'Zone to zone'), bin.journeys ? heatTable(bin) : h('p', { class: 'muted' }, 'no journey has ended today yet')),
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Funnel'),
        bin.funnel.length
          ? h(
              'table',
              { id: 'funnel-table' },
              h('thead', {}, h('tr', {}, h('th', {}, 'step'), h('th', {}, 'persons'), h('th', {}, 'of previous'), h('th', {}, 'buying units'), h('th', {}, 'of previous'))),
              h('tbody', {}, ...bin.funnel.map((s) => h('tr', { 'data-zone': s.zone }, h('td', {}, s.zone), h('td', {}, s.persons), h('td', {}, pct(s.person_conversion)), h('td', {}, s.units), h('td', {}, pct(s.unit_conversion))))),
            )
          : h('p', { class: 'muted' }, 'no funnel configured (journeys.funnel)'),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Top paths'),
        h('ol', { id: 'top-paths' }, ...bin.top_paths.map((p) => h('li', {}, `${p.zones.length ? p.zones.join(' → ') : '(no zone)'}${p.continues ? ' → …' : ''}: ${p.count}`))),
        h('p', { class: 'muted' }, `Paths taken by fewer than ${bin.min_path_count} people are not shown: ${bin.other_paths.journeys} journeys over ${bin.other_paths.paths} paths.`),
      ),
    ),
  );
}
