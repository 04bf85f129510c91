/**
 * Live view and scene editor: draw and edit counting lines (two clicks; the arrow shows `in`) and
 * zones (clicks, then "Finish zone"), drag their points, rename, flip, delete; Save validates and
 * applies the change on the gateway without a restart.
 */
import { get, HttpError, put, type Line, type LiveState, type P, type User, type Zone } from '../api.js';
import { h, mount } from '../dom.js';
import { handle, LiveCanvas, type Scene } from '../liveCanvas.js';

type Tool = 'select' | 'line' | 'zone';

export function livePage(camera: string, user: User): void {
  const installer = user.role === 'installer';
  const view = new LiveCanvas(camera);
  let draft: Scene | undefined;
  let tool: Tool = 'select';
  let pending: P[] = [];
  let drag: { kind: 'line' | 'zone'; name: string; index: number } | undefined;
  const message = h('p', { id: 'scene-message' });
  const countsTable = h('tbody');
  const status = h('span', { class: 'pill' });
  const nameInput = h('input', { id: 'item-name', placeholder: 'name', disabled: true });

  const editing = (): Scene => {
    if (!draft) draft = structuredClone({ lines: view.state?.lines ?? [], zones: view.state?.zones ?? [] });
    return draft;
  };
  view.scene = () => draft ?? view.state;
  const dirty = (): void => {
    saveButton.disabled = !draft;
    discardButton.disabled = !draft;
  };
  const selectedItem = (): Line | Zone | undefined => {
    const [kind, name] = (view.selected ?? ':').split(/:(.*)/s) as [string, string];
    const scene = view.scene();
    return kind === 'line' ? scene?.lines.find((l) => l.name === name) : scene?.zones.find((z) => z.name === name);
  };
  const select = (id: string | undefined): void => {
    view.selected = id;
    const item = selectedItem();
    nameInput.disabled = !item || !installer;
    nameInput.value = item?.name ?? '';
    flipButton.disabled = !item || !id?.startsWith('line:');
    deleteButton.disabled = !item;
    view.draw();
  };
  const uniqueName = (prefix: string): string => {
    const scene = editing();
    const taken = new Set([...scene.lines.map((l) => l.name), ...scene.zones.map((z) => z.name)]);
    for (let i = 1; ; i++) if (!taken.has(`${prefix}-${i}`)) return `${prefix}-${i}`;
  };

  const setTool = (next: Tool): void => {
    tool = next;
    pending = [];
    for (const [t, b] of Object.entries(toolButtons)) b.classList.toggle('active', t === next);
    finishZoneButton.disabled = true;
    message.textContent = next === 'line' ? 'Click the two ends of the line. People crossing towards the green arrow count as "in".' : next === 'zone' ? 'Click the corners of the zone, then "Finish zone".' : '';
    view.draw();
  };

  const near = (a: [number, number], b: [number, number]): boolean => Math.hypot(a[0] - b[0], a[1] - b[1]) < 14;

  view.canvas.addEventListener('mousedown', (event) => {
    if (!installer) return;
    const p = view.toNormalised(event);
    if (tool === 'line') {
      pending.push(p);
      if (pending.length === 2) {
        const line: Line = { name: uniqueName('line'), points: [pending[0]!, pending[1]!] };
        editing().lines.push(line);
        pending = [];
        setTool('select');
        select(`line:${line.name}`);
        dirty();
      }
      view.draw();
      return;
    }
    if (tool === 'zone') {
      pending.push(p);
      finishZoneButton.disabled = pending.length < 3;
      view.draw();
      return;
    }
    // select: grab a point of the selected item, or select what is under the cursor
    const at = view.px(p);
    const scene = view.scene();
    for (const line of scene?.lines ?? []) {
      const i = line.points.findIndex((q) => near(view.px(q), at));
      if (i >= 0) {
        select(`line:${line.name}`);
        drag = { kind: 'line', name: line.name, index: i };
        return;
      }
    }
    for (const zone of scene?.zones ?? []) {
      const i = zone.polygon.findIndex((q) => near(view.px(q), at));
      if (i >= 0) {
        select(`zone:${zone.name}`);
        drag = { kind: 'zone', name: zone.name, index: i };
        return;
      }
    }
    const line = scene?.lines.find((l) => distanceToSegment(at, view.px(l.points[0]), view.px(l.points[1])) < 10);
    if (line) return select(`line:${line.name}`);
    const zone = scene?.zones.find((z) => inside(p, z.polygon));
    select(zone ? `zone:${zone.name}` : undefined);
  });
  view.canvas.addEventListener('mousemove', (event) => {
    if (!drag) return;
    const p = view.toNormalised(event);
    const scene = editing();
    if (drag.kind === 'line') {
      const line = scene.lines.find((l) => l.name === drag!.name);
      if (line) line.points[drag.index as 0 | 1] = p;
    } else {
      const zone = scene.zones.find((z) => z.name === drag!.name);
      if (zone) zone.polygon[drag.index] = p;
    }
    dirty();
    view.draw();
  });
  for (const end of ['mouseup', 'mouseleave']) view.canvas.addEventListener(end, () => (drag = undefined));

  view.extraDraw = (c) => {
    if (pending.length === 0) return;
    c.strokeStyle = tool === 'line' ? '#ffb400' : '#b18cff';
    c.lineWidth = 2;
    c.setLineDash([6, 4]);
    c.beginPath();
    pending.forEach((p, i) => (i === 0 ? c.moveTo(...view.px(p)) : c.lineTo(...view.px(p))));
    c.stroke();
    c.setLineDash([]);
    for (const p of pending) handle(c, view.px(p));
  };

  view.onState = (state: LiveState) => {
    status.textContent = `${state.state}${state.fps ? ` · ${state.fps.processed} fps` : ''}`;
    status.className = `pill ${state.state}`;
    countsTable.replaceChildren(
      ...state.lines.map((l) => h('tr', { 'data-line': l.name }, h('td', {}, `line ${l.name}`), h('td', { class: 'count-in' }, state.counts.lines[l.name]?.in ?? 0), h('td', { class: 'count-out' }, state.counts.lines[l.name]?.out ?? 0))),
      ...state.zones.map((z) => h('tr', {}, h('td', {}, `zone ${z.name}`), h('td', { colSpan: 2 }, `${state.counts.zones[z.name]?.occupancy ?? 0} here · ${state.counts.zones[z.name]?.visits ?? 0} visits`))),
    );
  };

  nameInput.addEventListener('change', () => {
    const item = selectedItem();
    const name = nameInput.value.trim();
    if (!item || !name) return;
    const kind = view.selected!.startsWith('line:') ? 'line' : 'zone';
    const scene = editing();
    const target = kind === 'line' ? scene.lines.find((l) => l.name === item.name) : scene.zones.find((z) => z.name === item.name);
    if (target) target.name = name;
    select(`${kind}:${name}`);
    dirty();
  });

  const toolButtons: Record<Tool, HTMLButtonElement> = {
    select: h('button', { onclick: () => setTool('select') }, 'Select / move'),
    line: h('button', { id: 'tool-line', onclick: () => setTool('line') }, 'Add line'),
    zone: h('button', { id: 'tool-zone', onclick: () => setTool('zone') }, 'Add zone'),
  };
  const finishZoneButton = h(
    'button',
    {
      id: 'finish-zone',
      disabled: true,
      onclick: () => {
        const zone: Zone = { name: uniqueName('zone'), polygon: pending };
        editing().zones.push(zone);
        setTool('select');
        select(`zone:${zone.name}`);
        dirty();
      },
    },
    'Finish zone',
  );
  const flipButton = h(
    'button',
    {
      disabled: true,
      onclick: () => {
        const line = editing().lines.find((l) => `line:${l.name}` === view.selected);
        if (line) line.points = [line.points[1], line.points[0]];
        dirty();
        view.draw();
      },
    },
    'Flip in/out',
  );
  const deleteButton = h(
    'button',
    {
      disabled: true,
      onclick: () => {
        const scene = editing();
        scene.lines = scene.lines.filter((l) => `line:${l.name}` !== view.selected);
        scene.zones = scene.zones.filter((z) => `zone:${z.name}` !== view.selected);
        select(undefined);
        dirty();
      },
    },
    'Delete',
  );
  const saveButton = h(
    'button',
    {
      id: 'save-scene',
      class: 'primary',
      disabled: true,
      onclick: async () => {
        if (!draft) return;
        message.className = '';
        message.textContent = 'Saving…';
        try {
          await put(`/ui/api/cameras/${encodeURIComponent(camera)}/scene`, draft);
          draft = undefined;
          dirty();
          message.className = 'ok';
          message.textContent = 'Saved and applied. The previous config is kept as .prev.';
          view.state = await get<LiveState>(`/ui/api/cameras/${encodeURIComponent(camera)}/live`);
          view.draw();
        } catch (err) {
          message.className = 'error';
          message.textContent = err instanceof HttpError ? `${err.message}\n${err.details.join('\n')}` : String(err);
        }
      },
    },
    'Save',
  );
  const discardButton = h(
    'button',
    {
      disabled: true,
      onclick: () => {
        draft = undefined;
        select(undefined);
        dirty();
        message.textContent = '';
      },
    },
    'Discard changes',
  );
  const heatmapToggle = h('input', { type: 'checkbox', onchange: (e: Event) => ((view.showHeatmap = (e.target as HTMLInputElement).checked), void view.fetchHeatmap()) });
  const sharpToggle = h('input', { type: 'checkbox', onchange: (e: Event) => (view.mode = (e.target as HTMLInputElement).checked ? 'people' : 'privacy') });

  mount(
    h('h1', {}, `Live: ${camera} `, status),
    h(
      'div',
      { class: 'split' },
      h('div', {}, h('div', { class: 'stage' }, view.canvas), h('div', { class: 'row' }, h('label', {}, heatmapToggle, ' heatmap'), installer ? h('label', {}, sharpToggle, ' only people pixelated (installers)') : null)),
      h(
        'div',
        {},
        h('div', { class: 'card' }, h('h2', {}, 'Counts since start'), h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, 'in'), h('th', {}, 'out'))), countsTable)),
        installer
          ? h(
              'div',
              { class: 'card' },
              h('h2', {}, 'Lines and zones'),
              h('div', { class: 'row' }, toolButtons.select, toolButtons.line, toolButtons.zone, finishZoneButton),
              h('label', {}, h('span', {}, 'Name of the selected line or zone'), nameInput),
              h('div', { class: 'row' }, flipButton, deleteButton),
              h('div', { class: 'row' }, saveButton, discardButton),
              message,
            )
          : h('p', { class: 'muted' }, 'Viewers see the live counts; installers can edit lines and zones.'),
        h('div', { class: 'card' }, h('a', { href: `#/validate/${encodeURIComponent(camera)}` }, 'Validate the counts'), ' · ', h('a', { href: `#/calibrate/${encodeURIComponent(camera)}` }, 'Calibrate to the floor plan')),
      ),
    ),
  );
  setTool('select');
  view.start();
}

function distanceToSegment(p: [number, number], a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

function inside(p: P, polygon: P[]): boolean {
  let result = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) result = !result;
  }
  return result;
}
