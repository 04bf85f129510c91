/**
 * The floor plan page: store-level lines and zones drawn on the plan (metres), counted once over all
 * calibrated cameras. Each camera's footprint shows where the cameras see the floor. Installers add a
 * line (two clicks; the arrow shows `in`), a zone (clicks, then "Finish zone"), drag points, rename,
 * flip and delete; Save sends them to the gateway, which validates them with the config's own schema,
 * writes the config atomically and restarts fusion on the new plan. Viewers see the live counts.
 */
import type { PlanPoint, PlanSceneResponse } from '../../../src/web/apiTypes.js';
import { get, HttpError, put, type User } from '../api.js';
import { h, mount } from '../dom.js';
import { handle } from '../liveCanvas.js';
import { PlanCanvas, type PlanItems, type PlanLine, type PlanZone } from '../planCanvas.js';

type Tool = 'select' | 'line' | 'zone';

const REFRESH_MS = 2000;
/** Clicks closer than this (pixels) to a point grab it. */
const GRAB_PX = 12;

export async function planPage(user: User): Promise<void> {
  const installer = user.role === 'installer';
  const view = new PlanCanvas(await get<PlanSceneResponse>('/ui/api/plan/scene'));
  await view.loadImage();
  let draft: PlanItems | undefined;
  let tool: Tool = 'select';
  let pending: PlanPoint[] = [];
  let drag: { kind: 'line' | 'zone'; name: string; index: number } | undefined;
  const message = h('p', { id: 'plan-message' });
  const cursor = h('span', { id: 'plan-cursor', class: 'muted' });
  const itemList = h('ul', { id: 'plan-items' });
  const cameraList = h('ul', { id: 'plan-cameras' });
  const nameInput = h('input', { id: 'plan-item-name', placeholder: 'name', disabled: true });
  // A zone's minimum dwell: shorter visits are pass-throughs (KPIs, journeys). Empty = the default (0 s).
  const dwellInput = h('input', { id: 'plan-min-dwell', type: 'number', min: '0', step: '0.5', placeholder: '0', disabled: true });

  /** A new scene from the gateway; without a floor plan its size follows what is drawn on it. */
  const setScene = (scene: PlanSceneResponse): void => {
    const resized = scene.bounds.width_m !== view.scene.bounds.width_m || scene.bounds.height_m !== view.scene.bounds.height_m;
    view.scene = scene;
    if (resized) view.resize();
  };
  const editing = (): PlanItems => (draft ??= structuredClone({ lines: view.scene.lines, zones: view.scene.zones }));
  view.items = () => draft ?? view.scene;
  const selectedItem = (): PlanLine | PlanZone | undefined => {
    const [kind, name] = (view.selected ?? ':').split(/:(.*)/s) as [string, string];
    const items = view.items();
    return kind === 'line' ? items.lines.find((l) => l.name === name) : items.zones.find((z) => z.name === name);
  };
  const refresh = (): void => {
    saveButton.disabled = !draft;
    discardButton.disabled = !draft;
    const item = selectedItem();
    nameInput.disabled = !item || !installer;
    if (document.activeElement !== nameInput) nameInput.value = item?.name ?? '';
    const zone = view.selected?.startsWith('zone:') ? (item as PlanZone | undefined) : undefined;
    dwellInput.disabled = !zone || !installer;
    if (document.activeElement !== dwellInput) dwellInput.value = zone?.min_dwell_s !== undefined ? String(zone.min_dwell_s) : '';
    flipButton.disabled = !item || !view.selected?.startsWith('line:');
    deleteButton.disabled = !item;
    const items = view.items();
    const counts = view.scene.fusion.counts;
    itemList.replaceChildren(
      ...items.lines.map((l) =>
        h('li', { 'data-kind': 'line', 'data-name': l.name }, `line ${l.name} `, h('span', { class: 'muted' }, `(${l.points.map((p) => `${p[0]}, ${p[1]}`).join(' → ')} m)`), counts?.lines[l.name] ? ` in ${counts.lines[l.name]!.in} · out ${counts.lines[l.name]!.out}` : ''),
      ),
      ...items.zones.map((z) =>
        h('li', { 'data-kind': 'zone', 'data-name': z.name }, `zone ${z.name} `, h('span', { class: 'muted' }, `(${z.polygon.length} corners)`), counts?.zones[z.name] ? ` ${view.scene.fusion.occupancy[z.name] ?? 0} here · ${counts.zones[z.name]!.visits} visits` : ''),
      ),
    );
    if (items.lines.length + items.zones.length === 0) itemList.append(h('li', { class: 'muted' }, 'no plan lines or zones yet'));
    view.draw();
  };
  const select = (id: string | undefined): void => {
    view.selected = id;
    refresh();
  };
  const uniqueName = (prefix: string): string => {
    const items = editing();
    const taken = new Set([...items.lines.map((l) => l.name), ...items.zones.map((z) => z.name)]);
    for (let i = 1; ; i++) if (!taken.has(`${prefix}-${i}`)) return `${prefix}-${i}`;
  };
  const setTool = (next: Tool): void => {
    tool = next;
    pending = [];
    for (const [t, b] of Object.entries(toolButtons)) b.classList.toggle('active', t === next);
    finishZoneButton.disabled = true;
    message.className = '';
    message.textContent =
      next === 'line' ? 'Click the two ends of the line on the plan. People crossing towards the green arrow count as "in".' : next === 'zone' ? 'Click the corners of the zone on the plan, then "Finish zone".' : '';
    view.draw();
  };

  const near = (a: [number, number], b: [number, number]): boolean => Math.hypot(a[0] - b[0], a[1] - b[1]) < GRAB_PX;
  view.canvas.addEventListener('mousemove', (event) => {
    const p = view.toMetres(event);
    cursor.textContent = `${p[0].toFixed(2)} m, ${p[1].toFixed(2)} m`;
    if (!drag) return;
    const items = editing();
    if (drag.kind === 'line') {
      const line = items.lines.find((l) => l.name === drag!.name);
      if (line) line.points[drag.index as 0 | 1] = p;
    } else {
      const zone = items.zones.find((z) => z.name === drag!.name);
      if (zone) zone.polygon[drag.index] = p;
    }
    refresh();
  });
  for (const end of ['mouseup', 'mouseleave']) view.canvas.addEventListener(end, () => (drag = undefined));
  view.canvas.addEventListener('mousedown', (event) => {
    if (!installer) return;
    const p = view.toMetres(event);
    if (tool === 'line') {
      pending.push(p);
      if (pending.length === 2) {
        const line: PlanLine = { name: uniqueName('plan-line'), points: [pending[0]!, pending[1]!] };
        editing().lines.push(line);
        setTool('select');
        select(`line:${line.name}`);
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
    // select: grab a point, or select the line or zone under the cursor
    const at = view.px(p);
    const items = view.items();
    for (const line of items.lines) {
      const i = line.points.findIndex((q) => near(view.px(q), at));
      if (i >= 0) return (drag = { kind: 'line', name: line.name, index: i }), select(`line:${line.name}`);
    }
    for (const zone of items.zones) {
      const i = zone.polygon.findIndex((q) => near(view.px(q), at));
      if (i >= 0) return (drag = { kind: 'zone', name: zone.name, index: i }), select(`zone:${zone.name}`);
    }
    const line = items.lines.find((l) => distanceToSegment(at, view.px(l.points[0]), view.px(l.points[1])) < 10);
    if (line) return select(`line:${line.name}`);
    const zone = items.zones.find((z) => inside(p, z.polygon));
    select(zone ? `zone:${zone.name}` : undefined);
  });
  view.extraDraw = (c) => {
    if (pending.length === 0) return;
    c.strokeStyle = tool === 'line' ? '#e09b00' : '#7b4fd6';
    c.lineWidth = 2;
    c.setLineDash([6, 4]);
    c.beginPath();
    pending.forEach((p, i) => (i === 0 ? c.moveTo(...view.px(p)) : c.lineTo(...view.px(p))));
    c.stroke();
    c.setLineDash([]);
    for (const p of pending) handle(c, view.px(p));
  };

  nameInput.addEventListener('change', () => {
    const item = selectedItem();
    const name = nameInput.value.trim();
    if (!item || !name) return;
    const kind = view.selected!.startsWith('line:') ? 'line' : 'zone';
    const items = editing();
    const target = kind === 'line' ? items.lines.find((l) => l.name === item.name) : items.zones.find((z) => z.name === item.name);
    if (target) target.name = name;
    nameInput.blur();
    select(`${kind}:${name}`);
  });

  dwellInput.addEventListener('change', () => {
    const name = view.selected?.startsWith('zone:') ? view.selected.slice('zone:'.length) : undefined;
    const zone = editing().zones.find((z) => z.name === name);
    if (!zone) return;
    // Kept as typed: the gateway's schema refuses a negative or non-numeric value with the reason.
    if (dwellInput.value.trim() === '') delete zone.min_dwell_s;
    else zone.min_dwell_s = Number(dwellInput.value);
    dwellInput.blur();
    refresh();
  });

  const toolButtons: Record<Tool, HTMLButtonElement> = {
    select: h('button', { id: 'plan-tool-select', onclick: () => setTool('select') }, 'Select / move'),
    line: h('button', { id: 'plan-tool-line', onclick: () => setTool('line') }, 'Add line'),
    zone: h('button', { id: 'plan-tool-zone', onclick: () => setTool('zone') }, 'Add zone'),
  };
  const finishZoneButton = h(
    'button',
    {
      id: 'plan-finish-zone',
      disabled: true,
      onclick: () => {
        const zone: PlanZone = { name: uniqueName('plan-zone'), polygon: pending };
        editing().zones.push(zone);
        setTool('select');
        select(`zone:${zone.name}`);
      },
    },
    'Finish zone',
  );
  const flipButton = h(
    'button',
    {
      id: 'plan-flip',
      disabled: true,
      onclick: () => {
        const line = editing().lines.find((l) => `line:${l.name}` === view.selected);
        if (line) line.points = [line.points[1], line.points[0]];
        refresh();
      },
    },
    'Flip in/out',
  );
  const deleteButton = h(
    'button',
    {
      id: 'plan-delete',
      disabled: true,
      onclick: () => {
        const items = editing();
        items.lines = items.lines.filter((l) => `line:${l.name}` !== view.selected);
        items.zones = items.zones.filter((z) => `zone:${z.name}` !== view.selected);
        select(undefined);
      },
    },
    'Delete',
  );
  const saveButton = h(
    'button',
    {
      id: 'plan-save',
      class: 'primary',
      disabled: true,
      onclick: async () => {
        if (!draft) return;
        message.className = '';
        message.textContent = 'Saving…';
        try {
          const saved = await put<{ scene: PlanSceneResponse }>('/ui/api/plan/scene', draft);
          draft = undefined;
          setScene(saved.scene);
          message.className = 'ok';
          message.textContent = 'Saved and applied: store-level counting restarted on these lines and zones. The previous config is kept as .prev.';
          select(undefined);
        } catch (err) {
          // The gateway's own validation, every problem by path (plan.zones.0.polygon: self-intersecting polygon).
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
      id: 'plan-discard',
      disabled: true,
      onclick: () => {
        draft = undefined;
        message.textContent = '';
        select(undefined);
      },
    },
    'Discard changes',
  );

  const showCameras = (): void => {
    cameraList.replaceChildren(
      ...view.scene.cameras.map((c) =>
        h(
          'li',
          { 'data-camera': c.id },
          `${c.name} `,
          c.error
            ? h('span', { class: 'error' }, c.error)
            : c.calibrated
              ? h('span', { class: 'muted' }, c.footprint.length ? `sees ${area(c.footprint).toFixed(0)} m² of the plan${c.enabled ? '' : ' (disabled)'}` : 'calibrated, but sees none of this plan')
              : h('a', { href: `#/calibrate/${encodeURIComponent(c.id)}` }, 'not calibrated: calibrate'),
        ),
      ),
    );
  };
  const plan = view.scene.floor_plan;
  mount(
    h('h1', {}, 'Floor plan: store-level lines and zones'),
    h(
      'p',
      { class: 'muted' },
      'Lines and zones drawn here are counted once for the whole store: a person seen by two cameras crosses a plan line once and visits a plan zone once. Draw them where a camera footprint (dashed) covers the floor.',
    ),
    h(
      'div',
      { class: 'split' },
      h(
        'div',
        {},
        h('div', { class: 'stage plan-stage' }, view.canvas),
        h(
          'div',
          { class: 'row' },
          cursor,
          h('span', { class: 'muted' }, plan ? `plan ${plan.width_m} × ${plan.height_m} m${plan.image ? '' : ' (no image: metre grid)'}` : `no floor plan set: a ${view.scene.bounds.width_m} × ${view.scene.bounds.height_m} m grid (set the plan's size when calibrating a camera)`),
        ),
      ),
      h(
        'div',
        {},
        installer
          ? h(
              'div',
              { class: 'card' },
              h('h2', {}, 'Plan lines and zones'),
              h('div', { class: 'row' }, toolButtons.select, toolButtons.line, toolButtons.zone, finishZoneButton),
              h('label', {}, h('span', {}, 'Name of the selected line or zone'), nameInput),
              h('label', {}, h('span', {}, 'Minimum dwell of the selected zone (s): shorter visits are pass-throughs'), dwellInput),
              h('div', { class: 'row' }, flipButton, deleteButton),
              h('div', { class: 'row' }, saveButton, discardButton),
              message,
            )
          : h('p', { class: 'muted' }, 'Viewers see the store-level counts; installers can edit the plan lines and zones.'),
        h('div', { class: 'card' }, h('h2', {}, view.scene.fusion.enabled ? `On the plan now: ${view.scene.fusion.people}` : 'Store-level counting is off'), itemList),
        h('div', { class: 'card' }, h('h2', {}, 'Cameras'), cameraList),
      ),
    ),
  );
  setTool('select');
  showCameras();
  refresh();

  // Live counts: the saved scene is re-read (a draft being edited is kept as it is).
  const timer = window.setInterval(() => {
    if (!view.canvas.isConnected) return window.clearInterval(timer);
    void get<PlanSceneResponse>('/ui/api/plan/scene')
      .then((scene) => {
        setScene(scene);
        refresh();
      })
      .catch(() => undefined);
  }, REFRESH_MS);
}

function distanceToSegment(p: [number, number], a: [number, number], b: [number, number]): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const t = Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy || 1)));
  return Math.hypot(p[0] - (a[0] + t * dx), p[1] - (a[1] + t * dy));
}

function inside(p: PlanPoint, polygon: PlanPoint[]): boolean {
  let result = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    if (yi > p[1] !== yj > p[1] && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) result = !result;
  }
  return result;
}

/** Shoelace area in m². */
function area(polygon: PlanPoint[]): number {
  let sum = 0;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) sum += polygon[j]![0] * polygon[i]![1] - polygon[i]![0] * polygon[j]![1];
  return Math.abs(sum) / 2;
}
