/**
 * Before/after impact of a change on a zone or a line (GET /api/v1/impact), and the change notes
 * that dashboards show on their time axes (POST /api/v1/annotations, installers only).
 */
import { get, post, type User } from '../api.js';
import { h, mount } from '../dom.js';

interface LiftSummary {
  lift: number;
  low: number;
  high: number;
}

interface MetricImpact {
  metric: string;
  definition: string;
  unit: string;
  before: number | null;
  after: number | null;
  change: LiftSummary | null;
  vs_control: LiftSummary | null;
  verdict: string;
  note?: string;
}

interface ImpactReport {
  subject: string;
  controls: string[];
  change: string;
  before: { from: string; days: number };
  after: { to: string; days: number };
  excluded_days: { date: string; reason: string }[];
  metrics: MetricImpact[];
  annotations: { time: string; text: string; subject: string | null }[];
}

const percent = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(1)} %`;
const lift = (s: LiftSummary | null): string => (s ? `${percent(s.lift)} (${percent(s.low)} to ${percent(s.high)})` : '–');

function level(m: MetricImpact, value: number | null): string {
  if (value === null) return '–';
  if (m.unit === 'ratio') return `${(value * 100).toFixed(1)} %`;
  if (m.unit === 'seconds') return `${value.toFixed(1)} s`;
  return `${value.toFixed(1)} / day`;
}

function reportView(r: ImpactReport): HTMLElement {
  const verdictClass = (v: string): string => (v === 'increase' ? 'up' : v === 'decrease' ? 'down' : '');
  return h(
    'div',
    { class: 'card', id: 'impact-report' },
    h('h2', {}, `${r.subject} around ${r.change.slice(0, 16).replace('T', ' ')}`),
    h('p', { class: 'muted' }, `${r.before.days} days before, ${r.after.days} days after${r.controls.length ? ` · control: ${r.controls.join(' + ')}` : ' · no control: a store-wide trend would show here too'}`),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['metric', 'before', 'after', 'change (95 % CI)', 'vs control (95 % CI)', 'verdict'].map((t) => h('th', {}, t)))),
      h(
        'tbody',
        {},
        ...r.metrics.map((m) =>
          h(
            'tr',
            { title: [m.definition, m.note].filter(Boolean).join(' — ') },
            h('td', {}, m.metric.replace('_', ' ')),
            h('td', {}, level(m, m.before)),
            h('td', {}, level(m, m.after)),
            h('td', {}, lift(m.change)),
            h('td', {}, lift(m.vs_control)),
            h('td', {}, h('span', { class: `pill ${verdictClass(m.verdict)}` }, m.verdict)),
          ),
        ),
      ),
    ),
    r.excluded_days.length ? h('p', { class: 'muted' }, `Left out: ${r.excluded_days.map((d) => `${d.date} (${d.reason})`).join(', ')}`) : null,
    r.annotations.length ? h('ul', { class: 'muted notes-list' }, ...r.annotations.map((a) => h('li', {}, `${a.time.slice(0, 16).replace('T', ' ')} ${a.subject ?? 'store'}: ${a.text}`))) : null,
  );
}

export function impactPage(user: User): void {
  const subject = h('input', { id: 'impact-subject', placeholder: 'zone:promo, line:door or store', required: true });
  const change = h('input', { id: 'impact-change', type: 'date', required: true });
  const weeks = h('input', { id: 'impact-weeks', type: 'number', min: '1', max: '13', value: '4' });
  const control = h('input', { id: 'impact-control', placeholder: 'zone:aisle3,zone:aisle4 or store (optional)' });
  const message = h('p', { class: 'error' });
  const result = h('div', {});

  const compare = async (event: Event): Promise<void> => {
    event.preventDefault();
    message.textContent = '';
    const q = new URLSearchParams({ subject: subject.value.trim(), change: change.value, weeks: weeks.value || '4' });
    if (control.value.trim()) q.set('control', control.value.trim());
    try {
      result.replaceChildren(reportView(await get<ImpactReport>(`/api/v1/impact?${q}`)));
    } catch (err) {
      result.replaceChildren();
      message.textContent = (err as Error).message;
    }
  };

  const noteTime = h('input', { type: 'datetime-local', required: true });
  const noteText = h('input', { placeholder: 'promo display moved to the end-cap', maxLength: 500, required: true, size: 40 });
  const noteSubject = h('input', { placeholder: 'zone:promo (optional)' });
  const noteMessage = h('p', { class: 'muted' });
  const addNote = async (event: Event): Promise<void> => {
    event.preventDefault();
    try {
      // The browser's clock is the store's: its local time becomes an instant here.
      const body: Record<string, unknown> = { time: new Date(noteTime.value).getTime(), text: noteText.value };
      if (noteSubject.value.trim()) body.subject = noteSubject.value.trim();
      const saved = await post<{ time: string; text: string }>('/api/v1/annotations', body);
      noteMessage.textContent = `Saved: ${saved.time.slice(0, 16).replace('T', ' ')} ${saved.text}`;
      noteText.value = '';
    } catch (err) {
      noteMessage.textContent = (err as Error).message;
    }
  };

  mount(
    h('h1', {}, 'Before / after'),
    h(
      'form',
      { class: 'card', id: 'impact-form', onsubmit: compare },
      h('p', { class: 'muted' }, 'Compares the weeks after a change with the same weekdays and hours before it. With control zones the change is measured against them, which takes out what moved the whole store.'),
      h('label', {}, 'Zone or line ', subject),
      ' ',
      h('label', {}, 'Change on ', change),
      ' ',
      h('label', {}, 'Weeks ', weeks),
      ' ',
      h('label', {}, 'Controls ', control),
      ' ',
      h('button', { class: 'primary', type: 'submit' }, 'Compare'),
      message,
    ),
    result,
    // Viewers read notes (on the dashboard and in reports); writing one needs an installer.
    user.role === 'installer'
      ? h('form', { class: 'card', id: 'note-form', onsubmit: addNote }, h('h2', {}, 'Note a change'), noteTime, ' ', noteText, ' ', noteSubject, ' ', h('button', { type: 'submit' }, 'Save note'), noteMessage)
      : h('span', {}),
  );
}
