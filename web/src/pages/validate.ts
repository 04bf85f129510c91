/** Validation mode: tap `in` / `out` per person while watching; manual vs automatic per line. */
import { get, post, type LiveState, type User } from '../api.js';
import { h, mount, pct } from '../dom.js';
import type { ValidationResult as Validation } from '../../../src/web/apiTypes.js';
import { LiveCanvas } from '../liveCanvas.js';

export async function validatePage(camera: string, user: User): Promise<void> {
  const installer = user.role === 'installer';
  const view = new LiveCanvas(camera);
  const state = await get<LiveState>(`/ui/api/cameras/${encodeURIComponent(camera)}/live`);
  let run: Validation | undefined;
  const lineSelect = h('select', { id: 'validation-line' }, ...state.lines.map((l) => h('option', { value: l.name }, l.name)));
  const result = h('div', { id: 'validation-result' });
  const history = h('tbody');
  const show = (v: Validation | undefined): void => {
    if (!v) return result.replaceChildren(h('p', { class: 'muted' }, 'Pick a line, press Start, then tap for every person crossing it.'));
    result.replaceChildren(
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'in'), h('th', {}, 'out'))),
        h(
          'tbody',
          {},
          h('tr', {}, h('td', {}, 'you (manual)'), h('td', { class: 'manual-in' }, v.manual.in), h('td', { class: 'manual-out' }, v.manual.out)),
          h('tr', {}, h('td', {}, 'storepulse'), h('td', { class: 'auto-in' }, v.automatic.in), h('td', { class: 'auto-out' }, v.automatic.out)),
          h('tr', {}, h('td', {}, 'accuracy'), h('td', {}, pct(v.accuracy.in)), h('td', {}, pct(v.accuracy.out))),
        ),
      ),
      h('p', {}, 'Overall accuracy: ', h('strong', { id: 'accuracy-total' }, pct(v.accuracy.total)), v.finished_at ? ' (saved)' : ''),
    );
  };
  const refreshHistory = async (): Promise<void> => {
    const { validations } = await get<{ validations: Validation[] }>('/ui/api/validations');
    history.replaceChildren(
      ...validations
        .filter((v) => v.camera === camera && v.finished_at)
        .map((v) => h('tr', {}, h('td', {}, new Date(v.started_at).toLocaleString()), h('td', {}, v.line), h('td', {}, `${v.manual.in} / ${v.manual.out}`), h('td', {}, `${v.automatic.in} / ${v.automatic.out}`), h('td', {}, pct(v.accuracy.total)), h('td', {}, v.by))),
    );
  };
  const tap = async (direction: 'in' | 'out', undo = false): Promise<void> => {
    if (!run) return;
    run = await post<Validation>(`/ui/api/validations/${run.id}/tap`, { direction, undo });
    show(run);
  };
  const startButton = h(
    'button',
    {
      id: 'validation-start',
      class: 'primary',
      disabled: !installer,
      onclick: async () => {
        run = await post<Validation>('/ui/api/validations', { camera, line: lineSelect.value });
        startButton.disabled = true;
        finishButton.disabled = false;
        for (const b of tapButtons) b.disabled = false;
        show(run);
      },
    },
    'Start',
  );
  const finishButton = h(
    'button',
    {
      id: 'validation-finish',
      disabled: true,
      onclick: async () => {
        if (!run) return;
        run = await post<Validation>(`/ui/api/validations/${run.id}/finish`);
        show(run);
        run = undefined;
        startButton.disabled = false;
        finishButton.disabled = true;
        for (const b of tapButtons) b.disabled = true;
        await refreshHistory();
      },
    },
    'Finish and save',
  );
  const tapButtons = [
    h('button', { id: 'tap-in', class: 'big in', disabled: true, onclick: () => void tap('in') }, 'IN'),
    h('button', { id: 'tap-out', class: 'big out', disabled: true, onclick: () => void tap('out') }, 'OUT'),
    h('button', { disabled: true, onclick: () => void tap('in', true) }, 'undo in'),
    h('button', { disabled: true, onclick: () => void tap('out', true) }, 'undo out'),
  ];
  // Keyboard: ← / → (or I / O) tap without looking away from the picture.
  const onKey = (e: KeyboardEvent): void => {
    if (!run || !document.body.contains(result)) return window.removeEventListener('keydown', onKey);
    if (e.key === 'ArrowRight' || e.key === 'i') void tap('in');
    if (e.key === 'ArrowLeft' || e.key === 'o') void tap('out');
  };
  window.addEventListener('keydown', onKey);
  const poll = window.setInterval(async () => {
    if (!document.body.contains(result)) return window.clearInterval(poll);
    if (run) show((run = await get<Validation>(`/ui/api/validations/${run.id}`)));
  }, 1000);

  mount(
    h('h1', {}, `Validate counts: ${camera}`),
    h(
      'div',
      { class: 'split' },
      h('div', { class: 'stage' }, view.canvas),
      h(
        'div',
        {},
        h('div', { class: 'card' }, h('label', {}, h('span', {}, 'Line'), lineSelect), h('div', { class: 'row' }, startButton, finishButton)),
        h('div', { class: 'card' }, h('div', { class: 'row' }, ...tapButtons), h('p', { class: 'muted' }, 'Keys: → or I = in, ← or O = out.'), result),
      ),
    ),
    h('div', { class: 'card' }, h('h2', {}, 'Saved validations'), h('table', {}, h('thead', {}, h('tr', {}, ...['when', 'line', 'manual in / out', 'automatic in / out', 'accuracy', 'by'].map((t) => h('th', {}, t)))), history)),
  );
  show(undefined);
  view.start();
  await refreshHistory();
}
