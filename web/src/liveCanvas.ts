/**
 * A camera's live picture with its overlays: the pixelated frame (polled at ~1.5 fps), zones,
 * counting lines with an arrow on the `in` side, people's boxes and track ids, and optionally the
 * heatmap. Pages add their own drawing on top (the line editor, calibration points).
 */
import { get, type HeatmapResponse, type Line, type LiveState, type P, type Zone } from './api.js';

const WIDTH = 960;
const HEIGHT = 720;
const FRAME_MS = 700;

export interface Scene {
  lines: Line[];
  zones: Zone[];
}

export class LiveCanvas {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private image: ImageBitmap | undefined;
  private timer: number | undefined;
  private stopped = false;
  state: LiveState | undefined;
  /** What is drawn: the saved scene by default, the editor's draft while editing. */
  scene: () => Scene | undefined = () => this.state;
  heatmap: HeatmapResponse['grid'] = null;
  showHeatmap = false;
  mode: 'privacy' | 'people' = 'privacy';
  extraDraw: ((ctx: CanvasRenderingContext2D) => void) | undefined;
  onState: ((state: LiveState) => void) | undefined;
  selected: string | undefined;

  constructor(readonly camera: string) {
    this.canvas = document.createElement('canvas');
    this.canvas.width = WIDTH;
    this.canvas.height = HEIGHT;
    this.canvas.dataset.camera = camera;
    this.ctx = this.canvas.getContext('2d')!;
  }

  start(): void {
    const tick = async (): Promise<void> => {
      if (this.stopped) return;
      if (!this.canvas.isConnected && this.state) return this.stop();
      let waiting = false;
      try {
        [waiting] = await Promise.all([this.fetchFrame(), this.fetchState(), this.showHeatmap ? this.fetchHeatmap() : Promise.resolve()]);
      } catch {
        // Shown as the camera state on the next successful poll.
      }
      this.draw();
      // The gateway starts keeping frames when asked (202): the next one is a camera frame away.
      this.timer = window.setTimeout(() => void tick(), waiting ? 250 : FRAME_MS);
    };
    void tick();
  }

  stop(): void {
    this.stopped = true;
    window.clearTimeout(this.timer);
  }

  /** Canvas pixel → normalised 0–1 image coordinates. */
  toNormalised(event: MouseEvent): P {
    const rect = this.canvas.getBoundingClientRect();
    const x = (event.clientX - rect.left) / rect.width;
    const y = (event.clientY - rect.top) / rect.height;
    return [Math.min(1, Math.max(0, round(x))), Math.min(1, Math.max(0, round(y)))];
  }

  px(p: P): [number, number] {
    return [p[0] * WIDTH, p[1] * HEIGHT];
  }

  /** True while the gateway has no frame for us yet. */
  private async fetchFrame(): Promise<boolean> {
    const res = await fetch(`/ui/api/cameras/${encodeURIComponent(this.camera)}/frame.jpg?mode=${this.mode}`, { credentials: 'same-origin' });
    if (res.status !== 200) return res.status === 202;
    this.image?.close();
    this.image = await createImageBitmap(await res.blob());
    this.canvas.dataset.frames = String(Number(this.canvas.dataset.frames ?? 0) + 1);
    return false;
  }

  private async fetchState(): Promise<void> {
    this.state = await get<LiveState>(`/ui/api/cameras/${encodeURIComponent(this.camera)}/live`);
    this.onState?.(this.state);
  }

  async fetchHeatmap(): Promise<void> {
    this.heatmap = (await get<HeatmapResponse>(`/ui/api/cameras/${encodeURIComponent(this.camera)}/heatmap`)).grid;
  }

  draw(): void {
    const c = this.ctx;
    c.fillStyle = '#111';
    c.fillRect(0, 0, WIDTH, HEIGHT);
    if (this.image) c.drawImage(this.image, 0, 0, WIDTH, HEIGHT);
    else {
      c.fillStyle = '#aaa';
      c.font = '20px system-ui';
      c.fillText(this.state ? `camera ${this.state.state}: waiting for a frame…` : 'connecting…', 24, 40);
    }
    if (this.showHeatmap && this.heatmap) drawHeatmap(c, this.heatmap, WIDTH, HEIGHT);
    const scene = this.scene();
    for (const zone of scene?.zones ?? []) this.drawZone(zone);
    for (const line of scene?.lines ?? []) this.drawLine(line);
    for (const t of this.state?.tracks ?? []) {
      const [x1, y1] = this.px([t.box[0], t.box[1]]);
      const [x2, y2] = this.px([t.box[2], t.box[3]]);
      c.strokeStyle = t.confirmed ? '#00e0ff' : 'rgba(0,224,255,.45)';
      c.lineWidth = 2;
      c.strokeRect(x1, y1, x2 - x1, y2 - y1);
      c.fillStyle = '#00e0ff';
      c.font = 'bold 15px system-ui';
      // Track ids are large and only need to tell people apart on screen.
      c.fillText(`#${t.id % 1000}`, x1 + 3, y1 + 16);
    }
    this.extraDraw?.(c);
  }

  private drawZone(zone: Zone): void {
    const c = this.ctx;
    const selected = this.selected === `zone:${zone.name}`;
    c.beginPath();
    zone.polygon.forEach((p, i) => (i === 0 ? c.moveTo(...this.px(p)) : c.lineTo(...this.px(p))));
    c.closePath();
    c.fillStyle = selected ? 'rgba(123,79,214,.35)' : 'rgba(123,79,214,.2)';
    c.fill();
    c.strokeStyle = '#b18cff';
    c.lineWidth = selected ? 4 : 2;
    c.stroke();
    const [x, y] = this.px(zone.polygon[0]!);
    const occupancy = this.state?.counts.zones[zone.name]?.occupancy;
    label(c, `${zone.name}${occupancy !== undefined ? `: ${occupancy} here` : ''}`, x + 4, y + 18, '#b18cff');
    if (selected) for (const p of zone.polygon) handle(c, this.px(p));
  }

  private drawLine(line: Line): void {
    const c = this.ctx;
    const selected = this.selected === `line:${line.name}`;
    const [ax, ay] = this.px(line.points[0]);
    const [bx, by] = this.px(line.points[1]);
    c.strokeStyle = '#ffb400';
    c.lineWidth = selected ? 5 : 3;
    c.beginPath();
    c.moveTo(ax, ay);
    c.lineTo(bx, by);
    c.stroke();
    // `in` is crossing from the left to the right of a→b (walking along it): the arrow points there.
    const [nx, ny] = inNormal(line, WIDTH, HEIGHT);
    const mx = (ax + bx) / 2;
    const my = (ay + by) / 2;
    arrow(c, mx - nx * 28, my - ny * 28, mx + nx * 28, my + ny * 28, '#1ad16b');
    c.fillStyle = '#1ad16b';
    c.font = 'bold 15px system-ui';
    c.fillText('in', mx + nx * 40 - 7, my + ny * 40 + 5);
    const counts = this.state?.counts.lines[line.name];
    // The label sits at the line's first end, clear of the direction arrow in the middle.
    label(c, `${line.name}  in ${counts?.in ?? 0} · out ${counts?.out ?? 0}`, ax + 10, ay + (ay > 30 ? -10 : 24), '#ffb400');
    if (selected) {
      handle(c, [ax, ay]);
      handle(c, [bx, by]);
    }
  }
}

/** Unit vector (in canvas pixels) pointing to the `in` side of the line. */
export function inNormal(line: Line, width: number, height: number): [number, number] {
  const dx = (line.points[1][0] - line.points[0][0]) * width;
  const dy = (line.points[1][1] - line.points[0][1]) * height;
  const len = Math.hypot(dx, dy) || 1;
  return [-dy / len, dx / len];
}

export function drawHeatmap(c: CanvasRenderingContext2D, grid: NonNullable<HeatmapResponse['grid']>, width: number, height: number): void {
  const max = Math.max(...grid.personSeconds, 0);
  if (max <= 0) return;
  const cw = width / grid.cols;
  const ch = height / grid.rows;
  grid.personSeconds.forEach((v, i) => {
    if (v <= 0) return;
    const t = Math.sqrt(v / max);
    c.fillStyle = heatColour(t, 0.55);
    c.fillRect((i % grid.cols) * cw, Math.floor(i / grid.cols) * ch, cw + 0.5, ch + 0.5);
  });
}

export function heatColour(t: number, alpha: number): string {
  // blue → yellow → red
  const r = Math.round(255 * Math.min(1, t * 2));
  const g = Math.round(255 * (t < 0.5 ? t * 2 : 2 - t * 2));
  const b = Math.round(255 * Math.max(0, 1 - t * 2));
  return `rgba(${r},${g},${b},${alpha})`;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

export function handle(c: CanvasRenderingContext2D, [x, y]: [number, number]): void {
  c.fillStyle = '#fff';
  c.strokeStyle = '#0b6bcb';
  c.lineWidth = 2;
  c.beginPath();
  c.arc(x, y, 7, 0, Math.PI * 2);
  c.fill();
  c.stroke();
}

export function label(c: CanvasRenderingContext2D, text: string, x: number, y: number, colour: string): void {
  c.font = 'bold 16px system-ui';
  const w = c.measureText(text).width;
  c.fillStyle = 'rgba(0,0,0,.65)';
  c.fillRect(x - 3, y - 15, w + 6, 20);
  c.fillStyle = colour;
  c.fillText(text, x, y);
}

export function arrow(c: CanvasRenderingContext2D, x1: number, y1: number, x2: number, y2: number, colour: string): void {
  c.strokeStyle = colour;
  c.fillStyle = colour;
  c.lineWidth = 3;
  c.beginPath();
  c.moveTo(x1, y1);
  c.lineTo(x2, y2);
  c.stroke();
  const a = Math.atan2(y2 - y1, x2 - x1);
  c.beginPath();
  c.moveTo(x2, y2);
  c.lineTo(x2 - 12 * Math.cos(a - 0.45), y2 - 12 * Math.sin(a - 0.45));
  c.lineTo(x2 - 12 * Math.cos(a + 0.45), y2 - 12 * Math.sin(a + 0.45));
  c.closePath();
  c.fill();
}
