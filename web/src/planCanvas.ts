/**
 * The floor plan drawn to scale: the uploaded plan image (or a metre grid without one), each
 * calibrated camera's footprint, and the store-level lines (arrow on the `in` side) and zones with
 * their live fused counts. Coordinates are metres from the plan's top-left corner; the page adds its
 * own drawing (points being placed) on top.
 */
import type { PlanPoint, PlanSceneResponse } from '../../src/web/apiTypes.js';
import { arrow, handle, label } from './liveCanvas.js';

export type PlanLine = PlanSceneResponse['lines'][number];
export type PlanZone = PlanSceneResponse['zones'][number];
export interface PlanItems {
  lines: PlanLine[];
  zones: PlanZone[];
}

const WIDTH_PX = 960;
const FOOTPRINT_COLOURS = ['#0b6bcb', '#1a9b4b', '#c0582b', '#8a2be2', '#00838f', '#9e7c00'];

export class PlanCanvas {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D;
  private image: ImageBitmap | undefined;
  scene: PlanSceneResponse;
  /** What is drawn: the saved lines and zones by default, the editor's draft while editing. */
  items: () => PlanItems;
  selected: string | undefined;
  extraDraw: ((ctx: CanvasRenderingContext2D) => void) | undefined;

  constructor(scene: PlanSceneResponse) {
    this.scene = scene;
    this.items = () => this.scene;
    this.canvas = document.createElement('canvas');
    this.canvas.id = 'plan-editor';
    this.ctx = this.canvas.getContext('2d')!;
    this.resize();
  }

  /** Pixels per metre (the plan keeps its proportions). */
  get scale(): number {
    return WIDTH_PX / this.scene.bounds.width_m;
  }

  resize(): void {
    this.canvas.width = WIDTH_PX;
    this.canvas.height = Math.round(this.scene.bounds.height_m * this.scale);
    this.canvas.dataset.widthM = String(this.scene.bounds.width_m);
    this.canvas.dataset.heightM = String(this.scene.bounds.height_m);
  }

  async loadImage(): Promise<void> {
    this.image?.close();
    this.image = undefined;
    if (!this.scene.floor_plan?.image) return;
    const res = await fetch('/ui/api/plan/image', { credentials: 'same-origin' });
    if (res.ok) this.image = await createImageBitmap(await res.blob());
  }

  /** Mouse position → plan metres, to the centimetre, kept on the plan. */
  toMetres(event: MouseEvent): PlanPoint {
    const rect = this.canvas.getBoundingClientRect();
    const clamp = (v: number, max: number) => Math.min(max, Math.max(0, Math.round(v * 100) / 100));
    return [clamp(((event.clientX - rect.left) / rect.width) * this.scene.bounds.width_m, this.scene.bounds.width_m), clamp(((event.clientY - rect.top) / rect.height) * this.scene.bounds.height_m, this.scene.bounds.height_m)];
  }

  px(p: PlanPoint): [number, number] {
    return [p[0] * this.scale, p[1] * this.scale];
  }

  draw(): void {
    const c = this.ctx;
    c.fillStyle = '#fff';
    c.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (this.image) c.drawImage(this.image, 0, 0, this.canvas.width, this.canvas.height);
    else this.drawGrid();
    this.scene.cameras.forEach((camera, i) => this.drawFootprint(camera, FOOTPRINT_COLOURS[i % FOOTPRINT_COLOURS.length]!));
    const items = this.items();
    for (const zone of items.zones) this.drawZone(zone);
    for (const line of items.lines) this.drawLine(line);
    this.extraDraw?.(c);
  }

  /** A line every metre, darker and labelled every 5 m: the installer reads distances off it. */
  private drawGrid(): void {
    const c = this.ctx;
    const s = this.scale;
    const { width_m, height_m } = this.scene.bounds;
    c.lineWidth = 1;
    c.font = '11px system-ui';
    for (let x = 0; x <= width_m; x++) {
      c.strokeStyle = x % 5 === 0 ? '#b8c0cc' : '#e6e9ee';
      c.beginPath();
      c.moveTo(x * s + 0.5, 0);
      c.lineTo(x * s + 0.5, this.canvas.height);
      c.stroke();
      if (x % 5 === 0) {
        c.fillStyle = '#6b7380';
        c.fillText(`${x} m`, x * s + 3, 12);
      }
    }
    for (let y = 0; y <= height_m; y++) {
      c.strokeStyle = y % 5 === 0 ? '#b8c0cc' : '#e6e9ee';
      c.beginPath();
      c.moveTo(0, y * s + 0.5);
      c.lineTo(this.canvas.width, y * s + 0.5);
      c.stroke();
      if (y % 5 === 0 && y > 0) {
        c.fillStyle = '#6b7380';
        c.fillText(`${y} m`, 3, y * s - 3);
      }
    }
  }

  private drawFootprint(camera: PlanSceneResponse['cameras'][number], colour: string): void {
    if (camera.footprint.length < 3) return;
    const c = this.ctx;
    c.beginPath();
    camera.footprint.forEach((p, i) => (i === 0 ? c.moveTo(...this.px(p)) : c.lineTo(...this.px(p))));
    c.closePath();
    c.globalAlpha = 0.1;
    c.fillStyle = colour;
    c.fill();
    c.globalAlpha = 1;
    c.strokeStyle = colour;
    c.lineWidth = 1.5;
    c.setLineDash([5, 4]);
    c.stroke();
    c.setLineDash([]);
    const cx = camera.footprint.reduce((a, p) => a + p[0], 0) / camera.footprint.length;
    const cy = camera.footprint.reduce((a, p) => a + p[1], 0) / camera.footprint.length;
    c.font = '12px system-ui';
    c.fillStyle = colour;
    c.fillText(`camera ${camera.id}`, ...this.px([cx, cy]));
  }

  private drawZone(zone: PlanZone): void {
    const c = this.ctx;
    const selected = this.selected === `zone:${zone.name}`;
    c.beginPath();
    zone.polygon.forEach((p, i) => (i === 0 ? c.moveTo(...this.px(p)) : c.lineTo(...this.px(p))));
    c.closePath();
    c.fillStyle = selected ? 'rgba(123,79,214,.35)' : 'rgba(123,79,214,.2)';
    c.fill();
    c.strokeStyle = '#7b4fd6';
    c.lineWidth = selected ? 4 : 2;
    c.stroke();
    const first = zone.polygon[0];
    if (!first) return;
    const [x, y] = this.px(first);
    const here = this.scene.fusion.occupancy[zone.name];
    const visits = this.scene.fusion.counts?.zones[zone.name]?.visits;
    label(c, `${zone.name}${here !== undefined ? `: ${here} here · ${visits ?? 0} visits` : ''}`, x + 4, y + 18, '#d4c2ff');
    if (selected) for (const p of zone.polygon) handle(c, this.px(p));
  }

  private drawLine(line: PlanLine): void {
    const c = this.ctx;
    const selected = this.selected === `line:${line.name}`;
    const [ax, ay] = this.px(line.points[0]);
    const [bx, by] = this.px(line.points[1]);
    c.strokeStyle = '#e09b00';
    c.lineWidth = selected ? 5 : 3;
    c.beginPath();
    c.moveTo(ax, ay);
    c.lineTo(bx, by);
    c.stroke();
    // `in` is crossing from the left to the right of a→b (walking along it), as for camera lines.
    const len = Math.hypot(bx - ax, by - ay) || 1;
    const [nx, ny] = [-(by - ay) / len, (bx - ax) / len];
    const [mx, my] = [(ax + bx) / 2, (ay + by) / 2];
    arrow(c, mx - nx * 22, my - ny * 22, mx + nx * 22, my + ny * 22, '#1a9b4b');
    c.fillStyle = '#1a9b4b';
    c.font = 'bold 14px system-ui';
    c.fillText('in', mx + nx * 34 - 6, my + ny * 34 + 5);
    const counts = this.scene.fusion.counts?.lines[line.name];
    label(c, `${line.name}${counts ? `  in ${counts.in} · out ${counts.out}` : ''}`, ax + 10, ay + (ay > 30 ? -10 : 24), '#ffcf66');
    if (selected) {
      handle(c, [ax, ay]);
      handle(c, [bx, by]);
    }
  }
}
