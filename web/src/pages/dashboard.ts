/** Today at a glance: traffic by hour, occupancy, zone visits and dwell, conversion, sensor and camera health. */
import type { PlanKpisResponse } from '../../../src/web/apiTypes.js';
import { get } from '../api.js';
import { annotationAxis, annotationList, annotationsBetween } from '../annotationMarks.js';
import { fmt, h, mount, pct } from '../dom.js';

interface Bin {
  from: string;
  to: string;
  traffic: { in: number; out: number; by_entrance?: Record<string, unknown> };
  occupancy: { end: number; max: number };
  zones: Record<string, { visits: number; dwell_mean_s: number | null; dwell_p90_s: number | null; bounce_rate: number | null }>;
  transactions: number;
  sales: number;
  conversion: number | null;
  staff: { shoppers_per_staff: number | null } | null;
}

interface Status {
  mode: string;
  cameras: { id: string; source: { state: string; lastError?: string }; fps: { processed: number }; frames: { dropped: number } }[];
  storage: { used_bytes?: number; upstream?: { state: string; backlog: number } };
  sensors: {
    broker: { mode: string; port?: number | null; connected?: boolean; state?: string };
    sensors: { id: string; kind: string; last_message_at: number | null; accepted: number; rejected: number }[];
    ble: { state: string; present: string[] };
    dead_letters: number;
  } | null;
  tls?: { mode: string; fingerprint_sha256: string | null };
}

export async function dashboardPage(): Promise<void> {
  const [kpis, status, plan] = await Promise.all([
    get<{ bins: Bin[]; time_zone: string }>('/api/v1/kpis?bin=1h'),
    get<Status>('/api/status'),
    // Store-level counts are an extra: the rest of the dashboard shows without them.
    get<PlanKpisResponse>('/ui/api/plan/kpis').catch(() => null),
  ]);
  const bins = kpis.bins;
  const notes = bins.length ? await annotationsBetween(bins[0]!.from, bins.at(-1)!.to) : [];
  const totalIn = bins.reduce((s, b) => s + b.traffic.in, 0);
  const transactions = bins.reduce((s, b) => s + b.transactions, 0);
  const sales = bins.reduce((s, b) => s + b.sales, 0);
  const now = Date.now();
  const current = bins.filter((b) => Date.parse(b.from) <= now).at(-1);
  const maxIn = Math.max(1, ...bins.map((b) => b.traffic.in));
  const zones = new Map<string, { visits: number; dwellWeighted: number; p90: number | null }>();
  for (const b of bins) {
    for (const [name, z] of Object.entries(b.zones)) {
      const acc = zones.get(name) ?? { visits: 0, dwellWeighted: 0, p90: null };
      acc.visits += z.visits;
      acc.dwellWeighted += (z.dwell_mean_s ?? 0) * z.visits;
      acc.p90 = z.dwell_p90_s ?? acc.p90;
      zones.set(name, acc);
    }
  }
  // Bins come in the store's time zone (ISO with its offset): the hour is the store's, not the browser's.
  const hours = bins.map((b) => Number(b.from.slice(11, 13)));
  const zonesCard = h(
    'div',
    { class: 'card' },
    h('h2', {}, 'Zones (per camera)'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'zone'), h('th', {}, 'visits'), h('th', {}, 'mean dwell'), h('th', {}, 'p90 dwell'))),
      h('tbody', {}, ...[...zones].map(([name, z]) => h('tr', {}, h('td', {}, name), h('td', {}, z.visits), h('td', {}, z.visits ? `${fmt(z.dwellWeighted / z.visits, 1)} s` : '–'), h('td', {}, z.p90 === null ? '–' : `${fmt(z.p90, 1)} s`))))),
  );
  const storeLevel = plan && (Object.keys(plan.zones).length > 0 || Object.keys(plan.lines).length > 0) ? storeLevelCard(plan) : null;
  mount(
    h('h1', {}, 'Today'),
    h(
      'div',
      { class: 'grid' },
      h(
        'div',
        { class: 'card' },
        h('div', { class: 'muted' }, 'Visitors in'),
        h('div', { class: 'kpi', id: 'kpi-visitors' }, totalIn),
        bins.length && bins.every((b) => Object.keys(b.traffic.by_entrance ?? {}).length === 0) ? h('div', { class: 'muted' }, 'no entrance configured yet (kpi.entrances: a line or a door counter)') : null,
      ),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'In the store now'), h('div', { class: 'kpi' }, current?.occupancy.end ?? 0), h('div', { class: 'muted' }, `peak this hour ${current?.occupancy.max ?? 0}`)),
      h('div', { class: 'card' }, h('div', { class: 'muted' }, 'Conversion'), h('div', { class: 'kpi' }, transactions > 0 && totalIn > 0 ? pct(transactions / totalIn) : '–'), h('div', { class: 'muted' }, transactions > 0 ? `${transactions} sales · ${fmt(sales, 2)}` : 'no POS data today')),
    ),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Traffic by hour (in)'),
      h('div', { class: 'bars', id: 'traffic-bars' }, ...bins.map((b) => {
        const bar = h('div', { title: `${b.from}: ${b.traffic.in} in, ${b.traffic.out} out` }, h('span', {}, b.traffic.in || ''));
        bar.style.height = `${(b.traffic.in / maxIn) * 100}%`;
        return bar;
      })),
      h('div', { class: 'axis' }, ...hours.map((hr) => h('span', {}, hr))),
      annotationAxis(bins, notes),
      annotationList(notes),
    ),
    // With plan lines or zones, the store-level card sits beside the per-camera zones on a row of
    // their own (the figures to compare), so the health cards below keep their width.
    ...(storeLevel ? [h('div', { class: 'grid zones-row' }, zonesCard, storeLevel)] : []),
    h(
      'div',
      { class: 'grid' },
      storeLevel ? null : zonesCard,
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Cameras'),
        h('table', {}, h('tbody', {}, ...status.cameras.map((c) => h('tr', {}, h('td', {}, h('a', { href: `#/live/${encodeURIComponent(c.id)}` }, c.id)), h('td', {}, h('span', { class: `pill ${c.source.state}` }, c.source.state)), h('td', {}, `${c.fps.processed} fps`), h('td', { class: 'muted' }, c.source.lastError ?? ''))))),
        h('p', { class: 'muted' }, `Upstream: ${status.storage.upstream?.state ?? 'off'} · backlog ${status.storage.upstream?.backlog ?? 0}`),
      ),
      h(
        'div',
        { class: 'card' },
        h('h2', {}, 'Sensors'),
        status.sensors
          ? h(
              'div',
              {},
              h('p', {}, `MQTT broker: ${status.sensors.broker.mode}`, status.sensors.broker.port ? ` on port ${status.sensors.broker.port}` : '', ` · BLE ${status.sensors.ble.state}`, status.sensors.ble.present.length ? ` · present: ${status.sensors.ble.present.join(', ')}` : ''),
              h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'sensor'), h('th', {}, 'last message'), h('th', {}, 'ok'), h('th', {}, 'refused'))),
                h('tbody', {}, ...status.sensors.sensors.map((s) => h('tr', {}, h('td', {}, `${s.id} (${s.kind})`), h('td', {}, s.last_message_at ? new Date(s.last_message_at).toLocaleTimeString() : 'never'), h('td', {}, s.accepted), h('td', {}, s.rejected))))),
              h('p', { class: 'muted' }, `${status.sensors.dead_letters} refused messages kept (GET /api/v1/dead-letters)`),
            )
          : h('p', { class: 'muted' }, 'sensors off'),
      ),
    ),
    // The installer compares this with what the browser shows for the certificate (or pins it).
    h(
      'p',
      { class: 'muted', id: 'tls-fingerprint' },
      status.tls?.fingerprint_sha256 ? `HTTPS certificate (${status.tls.mode}) SHA-256: ${status.tls.fingerprint_sha256}` : 'TLS is off: this page and its password travel in clear',
    ),
  );
}

/**
 * Today's store-level counts of the floor-plan lines and zones: one person seen by several cameras
 * is counted once (src/fusion), so these are the figures to compare zones by across cameras.
 */
function storeLevelCard(plan: PlanKpisResponse) {
  const s = (v: number | null) => (v === null ? '–' : `${fmt(v, 1)} s`);
  return h(
    'div',
    { class: 'card', id: 'store-level' },
    h('h2', {}, 'Store level (floor plan)'),
    h('p', { class: 'muted' }, plan.fusion.enabled ? `${plan.fusion.people_now} people on the plan now` : 'store-level counting is off (no calibrated camera running)'),
    Object.keys(plan.zones).length
      ? h(
          'table',
          { id: 'plan-zone-kpis' },
          h('thead', {}, h('tr', {}, h('th', {}, 'plan zone'), h('th', {}, 'visits'), h('th', {}, 'mean dwell'), h('th', {}, 'p90 dwell'), h('th', {}, 'here now'), h('th', {}, 'peak'), h('th', {}, 'mean'))),
          h(
            'tbody',
            {},
            ...Object.entries(plan.zones).map(([name, z]) =>
              h('tr', { 'data-zone': name }, h('td', {}, name), h('td', {}, z.visits), h('td', {}, s(z.dwell_mean_s)), h('td', {}, s(z.dwell_p90_s)), h('td', {}, z.occupancy_now ?? '–'), h('td', {}, z.occupancy_max), h('td', {}, fmt(z.occupancy_mean, 2))),
            ),
          ),
        )
      : null,
    Object.keys(plan.lines).length
      ? h(
          'table',
          { id: 'plan-line-kpis' },
          h('thead', {}, h('tr', {}, h('th', {}, 'plan line'), h('th', {}, 'in'), h('th', {}, 'out'))),
          h('tbody', {}, ...Object.entries(plan.lines).map(([name, l]) => h('tr', { 'data-line': name }, h('td', {}, name), h('td', {}, l.in), h('td', {}, l.out)))),
        )
      : null,
    h('p', { class: 'muted' }, h('a', { href: '#/plan' }, 'Floor plan'), ' · peak and mean: people in the zone at once, today'),
  );
}
