/**
 * Calibration: four points on the floor in the camera image and the same four on the floor plan
 * (an uploaded image or a rectangle of the given size in metres). The gateway computes the
 * homography and the reprojection error; extra point pairs act as checks. The camera's heatmap is
 * then shown on the plan.
 */
import { get, HttpError, post, put, type HeatmapResponse, type LiveState, type P, type User } from '../api.js';
import { fmt, h, mount } from '../dom.js';
import { handle, heatColour, label, LiveCanvas } from '../liveCanvas.js';

interface Plan {
  width_m: number;
  height_m: number;
  image?: string;
}

const PLAN_W = 640;

export async function calibratePage(camera: string, user: User): Promise<void> {
  const installer = user.role === 'installer';
  const view = new LiveCanvas(camera);
  view.showHeatmap = true;
  const state = await get<LiveState>(`/ui/api/cameras/${encodeURIComponent(camera)}/live`);
  let plan = (await get<{ plan: Plan | null }>('/ui/api/plan')).plan ?? { width_m: 20, height_m: 15 };
  let planImage: ImageBitmap | undefined;
  const imagePoints: P[] = state.calibration ? [...state.calibration.image_points] : [];
  const planPoints: P[] = state.calibration ? [...state.calibration.plan_points] : [];
  const message = h('p', { id: 'calibration-message' });
  const errorText = h('strong', { id: 'reprojection-error' }, state.calibration?.error_m !== undefined ? `${fmt(state.calibration.error_m, 3)} m` : '–');
  const planCanvas = h('canvas', { id: 'plan-canvas' });
  const pc = planCanvas.getContext('2d')!;
  let heat: HeatmapResponse['plan'] = null;

  const planScale = (): number => PLAN_W / plan.width_m;
  const sizePlan = (): void => {
    planCanvas.width = PLAN_W;
    planCanvas.height = Math.round(plan.height_m * planScale());
  };
  const loadPlanImage = async (): Promise<void> => {
    if (!plan.image) return;
    const res = await fetch('/ui/api/plan/image', { credentials: 'same-origin' });
    if (res.ok) planImage = await createImageBitmap(await res.blob());
  };
  const drawPlan = (): void => {
    const s = planScale();
    pc.fillStyle = '#fff';
    pc.fillRect(0, 0, planCanvas.width, planCanvas.height);
    if (planImage) pc.drawImage(planImage, 0, 0, planCanvas.width, planCanvas.height);
    else {
      pc.strokeStyle = '#e0e4ea';
      for (let x = 0; x <= plan.width_m; x++) pc.strokeRect(x * s, 0, 0, planCanvas.height);
      for (let y = 0; y <= plan.height_m; y++) pc.strokeRect(0, y * s, planCanvas.width, 0);
    }
    if (heat) {
      const max = Math.max(...heat.cells.map((c) => c.value), 0);
      for (const cell of heat.cells) {
        pc.fillStyle = heatColour(Math.sqrt(cell.value / max), 0.6);
        pc.beginPath();
        pc.arc(cell.x * s, cell.y * s, 7, 0, Math.PI * 2);
        pc.fill();
      }
    }
    planPoints.forEach((p, i) => {
      handle(pc, [p[0] * s, p[1] * s]);
      label(pc, String(i + 1), p[0] * s + 9, p[1] * s - 6, '#0b6bcb');
    });
  };
  view.extraDraw = (c) => {
    imagePoints.forEach((p, i) => {
      handle(c, view.px(p));
      label(c, String(i + 1), view.px(p)[0] + 9, view.px(p)[1] - 6, '#fff');
    });
  };
  const body = () => ({ image_points: imagePoints, plan_points: planPoints });
  const preview = async (): Promise<void> => {
    if (imagePoints.length !== 4 || planPoints.length !== 4) {
      message.textContent = `Click point ${Math.min(imagePoints.length, planPoints.length) + 1} of 4 on the ${imagePoints.length <= planPoints.length ? 'camera image' : 'plan'}.`;
      return;
    }
    try {
      const r = await post<{ error_m: number }>(`/ui/api/cameras/${encodeURIComponent(camera)}/calibration/preview`, body());
      errorText.textContent = `${fmt(r.error_m, 3)} m`;
      message.className = '';
      message.textContent = 'Four pairs set. Save to keep them.';
      saveButton.disabled = !installer;
    } catch (err) {
      message.className = 'error';
      message.textContent = err instanceof Error ? err.message : String(err);
    }
  };
  view.canvas.addEventListener('mousedown', (event) => {
    if (!installer || imagePoints.length >= 4) return;
    imagePoints.push(view.toNormalised(event));
    view.draw();
    void preview();
  });
  planCanvas.addEventListener('mousedown', (event) => {
    if (!installer || planPoints.length >= 4) return;
    const rect = planCanvas.getBoundingClientRect();
    const s = planScale() * (rect.width / planCanvas.width);
    planPoints.push([Math.round(((event.clientX - rect.left) / s) * 100) / 100, Math.round(((event.clientY - rect.top) / s) * 100) / 100]);
    drawPlan();
    void preview();
  });
  const saveButton = h(
    'button',
    {
      id: 'save-calibration',
      class: 'primary',
      disabled: true,
      onclick: async () => {
        try {
          const r = await put<{ error_m: number }>(`/ui/api/cameras/${encodeURIComponent(camera)}/calibration`, body());
          message.className = 'ok';
          message.textContent = `Saved (reprojection error ${fmt(r.error_m, 3)} m).`;
          await refreshHeat();
        } catch (err) {
          message.className = 'error';
          message.textContent = err instanceof HttpError ? `${err.message} ${err.details.join('; ')}` : String(err);
        }
      },
    },
    'Save calibration',
  );
  const resetButton = h('button', { onclick: () => ((imagePoints.length = 0), (planPoints.length = 0), (saveButton.disabled = true), view.draw(), drawPlan(), void preview()) }, 'Start again');
  const widthInput = h('input', { type: 'number', step: '0.1', min: '1', value: String(plan.width_m) });
  const heightInput = h('input', { type: 'number', step: '0.1', min: '1', value: String(plan.height_m) });
  const fileInput = h('input', { type: 'file', accept: 'image/png,image/jpeg' });
  const planButton = h(
    'button',
    {
      disabled: !installer,
      onclick: async () => {
        const dims = { width_m: Number(widthInput.value), height_m: Number(heightInput.value) };
        try {
          const file = fileInput.files?.[0];
          if (file) await fetch(`/ui/api/plan/image?width_m=${dims.width_m}&height_m=${dims.height_m}`, { method: 'PUT', body: file, headers: { 'content-type': file.type }, credentials: 'same-origin' });
          else await put('/ui/api/plan', dims);
          plan = (await get<{ plan: Plan | null }>('/ui/api/plan')).plan ?? plan;
          await loadPlanImage();
          sizePlan();
          drawPlan();
        } catch (err) {
          message.className = 'error';
          message.textContent = String(err);
        }
      },
    },
    'Use this plan',
  );
  const refreshHeat = async (): Promise<void> => {
    heat = (await get<HeatmapResponse>(`/ui/api/cameras/${encodeURIComponent(camera)}/heatmap`)).plan;
    drawPlan();
  };

  mount(
    h('h1', {}, `Calibrate: ${camera}`),
    h('p', { class: 'muted' }, 'Click four points on the floor in the camera image (corners of tiles, a shelf foot…), then the same four, in the same order, on the plan. The error is how far the mapping puts the points from where you placed them.'),
    h(
      'div',
      { class: 'grid' },
      h('div', { class: 'card' }, h('h2', {}, 'Camera (with its heatmap)'), h('div', { class: 'stage' }, view.canvas)),
      h('div', { class: 'card' }, h('h2', {}, 'Floor plan (heatmap placed through the calibration)'), h('div', { class: 'stage' }, planCanvas)),
    ),
    h(
      'div',
      { class: 'card' },
      h('div', { class: 'row' }, 'Reprojection error: ', errorText, saveButton, resetButton),
      message,
      h('h2', {}, 'Plan'),
      h('div', { class: 'row' }, h('label', {}, h('span', {}, 'Width (m)'), widthInput), h('label', {}, h('span', {}, 'Depth (m)'), heightInput), h('label', {}, h('span', {}, 'Plan image (optional)'), fileInput), planButton),
    ),
  );
  sizePlan();
  await loadPlanImage();
  await refreshHeat();
  view.start();
  void preview();
}
