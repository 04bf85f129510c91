/**
 * The fleet dashboard that `storepulse central` serves at /fleet/: the gateways (online or offline,
 * last message, delivery backlog), the stores ranked by conversion with their traffic and the
 * correlation of their hourly footfall with sales, and the change annotations of the period with
 * the before/after comparison of the stores that made a change (impactView.ts). It reads central's REST API with the same bearer
 * token as any other client (http.tokens in the central config): the token is typed in once, or
 * arrives in the URL's fragment (#token=…, which browsers never send to a server), and is kept in
 * sessionStorage for this tab only. No cookie, so no cross-site request can borrow it.
 */
import { fmt, h, pct } from '../dom.js';
import { ageText, lagText, periodOf, PERIODS, type PeriodDays } from './format.js';
import { annotationList, impactTable, type FleetAnnotation, type ImpactReport } from './impactView.js';

interface Gateway {
  store_id: string;
  gateway_id: string;
  state: 'online' | 'offline' | null;
  state_reason: string | null;
  last_message_at: string | null;
  last_seq: number | null;
  delivery_lag_s: number | null;
}
interface Conversion {
  rank: number;
  store_id: string;
  traffic_in: number;
  transactions: number;
  sales: number;
  conversion: number | null;
  sales_per_visitor: number | null;
}
interface Correlation {
  store_id: string;
  hours: number;
  pearson: number | null;
  spearman: number | null;
}

const TOKEN_KEY = 'storepulse-fleet-token';
const app = document.getElementById('app')!;
let days: PeriodDays = 7;
let timers: number[] = [];
/** Reloads the annotation list for the current period (set by show()). */
let loadChanges: () => void = () => undefined;

class Unauthorized extends Error {}

async function api<T>(path: string): Promise<T> {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const res = await fetch(path, { headers: { authorization: `Bearer ${token}` } });
  if (res.status === 401) throw new Unauthorized('the token was refused');
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${((await res.json().catch(() => ({}))) as { error?: string }).error ?? ''}`);
  return (await res.json()) as T;
}

/** Which view is up: the two loads of the fleet view both fail on a refused token, and the second
 * must not redraw the login form under someone already typing into it. */
let view: 'login' | 'fleet' = 'login';

function login(message?: string): void {
  view = 'login';
  timers.forEach((t) => clearInterval(t));
  timers = [];
  const input = h('input', { type: 'password', id: 'token', autocomplete: 'off', size: 40 });
  const form = h(
    'form',
    {
      class: 'card login',
      onsubmit: (e: Event) => {
        e.preventDefault();
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        show();
      },
    },
    h('h1', {}, 'storepulse fleet'),
    h('label', {}, h('span', {}, 'API token (http.tokens in the central config)'), input),
    message ? h('p', { class: 'error', 'data-testid': 'login-error' }, message) : null,
    h('button', { class: 'primary', type: 'submit' }, 'Open'),
  );
  app.replaceChildren(form);
  input.focus();
}

function failed(err: unknown, where: HTMLElement): void {
  if (err instanceof Unauthorized) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (view !== 'login') login('That token was refused.');
    return;
  }
  where.replaceChildren(h('p', { class: 'error' }, (err as Error).message));
}

function show(): void {
  view = 'fleet';
  const gatewaysCard = h('section', { class: 'card', id: 'gateways' }, h('p', { class: 'muted' }, 'Loading…'));
  const storesCard = h('section', { class: 'card', id: 'stores' }, h('p', { class: 'muted' }, 'Loading…'));
  const periodButtons = PERIODS.map((d) =>
    h(
      'button',
      {
        class: d === days ? 'active' : '',
        'data-days': d,
        onclick: () => {
          days = d;
          periodButtons.forEach((b) => b.classList.toggle('active', b.dataset.days === String(d)));
          void loadStores(storesCard);
          loadChanges();
        },
      },
      d === 1 ? '1 day' : `${d} days`,
    ),
  );
  const changesCard = h('section', { class: 'card', id: 'changes' }, h('p', { class: 'muted' }, 'Loading…'));
  const impactCard = h('section', { class: 'card', id: 'impact' }, h('p', { class: 'muted' }, 'Pick an annotation, or type what its text says.'));
  const matchInput = h('input', { type: 'search', id: 'impact-match', placeholder: 'promo, zone:entrance…', size: 24 });
  const daysSelect = h('select', { id: 'impact-days' }, [7, 14, 28].map((d) => h('option', { value: d, selected: d === 7 }, `${d} days`)));
  const compare = (match: string): void => {
    matchInput.value = match;
    void loadImpact(impactCard, match, Number(daysSelect.value));
  };
  const impactForm = h(
    'form',
    {
      class: 'row',
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (matchInput.value.trim()) compare(matchInput.value.trim());
      },
    },
    h('h2', {}, 'Before/after'),
    matchInput,
    daysSelect,
    h('button', { class: 'primary', type: 'submit' }, 'Compare'),
  );
  app.replaceChildren(
    h('h1', {}, 'Fleet'),
    gatewaysCard,
    h('div', { class: 'row' }, h('h2', {}, 'Stores'), h('span', { class: 'muted' }, 'period:'), ...periodButtons),
    storesCard,
    h('h2', {}, 'Changes'),
    changesCard,
    impactForm,
    impactCard,
  );
  loadChanges = () => void loadAnnotations(changesCard, compare);
  timers.forEach((t) => clearInterval(t));
  timers = [window.setInterval(() => void loadGateways(gatewaysCard), 10_000), window.setInterval(() => void loadStores(storesCard), 60_000)];
  void loadGateways(gatewaysCard);
  void loadStores(storesCard);
  loadChanges();
}

async function loadAnnotations(card: HTMLElement, compare: (match: string) => void): Promise<void> {
  const { from, to } = periodOf(days, Date.now());
  try {
    const annotations = await api<FleetAnnotation[]>(`/api/v1/fleet/annotations?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
    card.replaceChildren(annotationList(annotations, compare));
  } catch (err) {
    failed(err, card);
  }
}

async function loadImpact(card: HTMLElement, match: string, impactDays: number): Promise<void> {
  card.replaceChildren(h('p', { class: 'muted' }, 'Comparing…'));
  try {
    const report = await api<ImpactReport>(`/api/v1/fleet/impact?match=${encodeURIComponent(match)}&days=${impactDays}`);
    card.replaceChildren(impactTable(report));
  } catch (err) {
    failed(err, card);
  }
}

async function loadGateways(card: HTMLElement): Promise<void> {
  try {
    const gateways = await api<Gateway[]>('/api/v1/fleet/gateways');
    const now = Date.now();
    const online = gateways.filter((g) => g.state === 'online').length;
    const offline = gateways.filter((g) => g.state === 'offline').length;
    card.replaceChildren(
      h('h2', {}, 'Gateways ', h('span', { class: 'pill up', 'data-testid': 'online-count' }, `${online} online`), ' ', h('span', { class: 'pill down', 'data-testid': 'offline-count' }, `${offline} offline`)),
      h(
        'table',
        { 'data-testid': 'gateways' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Store'), h('th', {}, 'Gateway'), h('th', {}, 'State'), h('th', {}, 'Last message'), h('th', {}, 'Backlog (delivery lag)'), h('th', {}, 'Messages'))),
        h(
          'tbody',
          {},
          gateways.map((g) =>
            h(
              'tr',
              { 'data-gateway': g.gateway_id, 'data-state': g.state ?? 'unknown' },
              h('td', {}, g.store_id),
              h('td', {}, g.gateway_id),
              h('td', {}, h('span', { class: `pill ${g.state === 'online' ? 'up' : g.state === 'offline' ? 'down' : ''}` }, g.state ?? 'unknown'), g.state_reason ? h('span', { class: 'muted' }, ` ${g.state_reason}`) : null),
              h('td', { title: g.last_message_at ?? '' }, ageText(g.last_message_at, now)),
              h('td', { class: 'lag' }, lagText(g.delivery_lag_s)),
              h('td', {}, g.last_seq ?? '–'),
            ),
          ),
        ),
      ),
    );
  } catch (err) {
    failed(err, card);
  }
}

async function loadStores(card: HTMLElement): Promise<void> {
  const { from, to } = periodOf(days, Date.now());
  const q = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;
  try {
    const [ranking, correlation] = await Promise.all([api<Conversion[]>(`/api/v1/fleet/conversion?${q}`), api<Correlation[]>(`/api/v1/fleet/correlation?${q}`)]);
    const byStore = new Map(correlation.map((c) => [c.store_id, c]));
    const best = Math.max(0, ...ranking.map((r) => r.conversion ?? 0));
    card.replaceChildren(
      h('p', { class: 'muted' }, `${from.slice(0, 16).replace('T', ' ')} – ${to.slice(0, 16).replace('T', ' ')} UTC. Correlation: of hourly footfall with hourly sales over the hours each store was open (1 = sales rise and fall with footfall).`),
      ranking.length === 0
        ? h('p', { class: 'muted', 'data-testid': 'no-stores' }, 'No hourly KPI bins in this period yet.')
        : h(
            'table',
            { 'data-testid': 'stores' },
            h(
              'thead',
              {},
              h('tr', {}, h('th', {}, '#'), h('th', {}, 'Store'), h('th', {}, 'Conversion'), h('th', {}, ''), h('th', {}, 'Traffic in'), h('th', {}, 'Transactions'), h('th', {}, 'Sales / visitor'), h('th', {}, 'Pearson'), h('th', {}, 'Spearman'), h('th', {}, 'Open hours')),
            ),
            h(
              'tbody',
              {},
              ranking.map((r) => {
                const c = byStore.get(r.store_id);
                const width = best > 0 && r.conversion !== null ? Math.round((r.conversion / best) * 100) : 0;
                return h(
                  'tr',
                  { 'data-store': r.store_id },
                  h('td', {}, r.rank),
                  h('td', {}, r.store_id),
                  h('td', { class: 'conversion' }, pct(r.conversion)),
                  h('td', { style: 'width: 20%' }, h('div', { style: `height: .7rem; width: ${width}%; background: var(--accent); border-radius: 3px` })),
                  h('td', { class: 'traffic' }, r.traffic_in),
                  h('td', {}, r.transactions),
                  h('td', {}, fmt(r.sales_per_visitor, 2)),
                  h('td', { class: 'pearson' }, fmt(c?.pearson, 2)),
                  h('td', { class: 'spearman' }, fmt(c?.spearman, 2)),
                  h('td', {}, c?.hours ?? 0),
                );
              }),
            ),
          ),
    );
  } catch (err) {
    failed(err, card);
  }
}

// A token in the fragment (the URL `storepulse central --demo` prints): keep it, then take it out
// of the address bar and the history.
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) {
  sessionStorage.setItem(TOKEN_KEY, fromHash);
  history.replaceState(null, '', location.pathname);
}
if (sessionStorage.getItem(TOKEN_KEY)) show();
else login();
