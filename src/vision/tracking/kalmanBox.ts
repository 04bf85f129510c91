/**
 * Constant-velocity Kalman filter on a box (centre x, centre y, width, height), in pixels and
 * seconds. ByteTrack's 8-state filter has block-diagonal matrices, so it is exactly four
 * independent [position, velocity] filters; that is how it is written here. Noise scales with the
 * box height (a near person moves more pixels than a far one), as in SORT/ByteTrack.
 */
export interface BoxState {
  cx: number;
  cy: number;
  w: number;
  h: number;
}

/** Position weight and velocity weight of the process and measurement noise, relative to height. */
const STD_POSITION = 1 / 20;
const STD_VELOCITY = 1 / 160;

class Axis {
  // State [p, v] and covariance [[p00, p01], [p01, p11]].
  p: number;
  v = 0;
  p00: number;
  p01 = 0;
  p11: number;

  constructor(position: number, posStd: number, velStd: number) {
    this.p = position;
    this.p00 = posStd * posStd;
    this.p11 = velStd * velStd;
  }

  predict(dt: number, posStd: number, velStd: number): void {
    this.p += this.v * dt;
    // P = F P Fᵀ + Q with F = [[1, dt], [0, 1]]
    const p00 = this.p00 + 2 * dt * this.p01 + dt * dt * this.p11;
    const p01 = this.p01 + dt * this.p11;
    this.p00 = p00 + posStd * posStd * dt;
    this.p01 = p01;
    this.p11 = this.p11 + velStd * velStd * dt;
  }

  update(measured: number, measStd: number): void {
    const s = this.p00 + measStd * measStd;
    const k0 = this.p00 / s;
    const k1 = this.p01 / s;
    const innovation = measured - this.p;
    this.p += k0 * innovation;
    this.v += k1 * innovation;
    const p00 = (1 - k0) * this.p00;
    const p01 = (1 - k0) * this.p01;
    const p11 = this.p11 - k1 * this.p01;
    this.p00 = p00;
    this.p01 = p01;
    this.p11 = p11;
  }
}

export class KalmanBoxFilter {
  private readonly axes: [Axis, Axis, Axis, Axis];

  constructor(box: BoxState) {
    const h = Math.max(box.h, 1);
    const pos = 2 * STD_POSITION * h;
    // Unknown initial speed: a person may walk ~1 body height per second in any direction.
    const vel = h;
    this.axes = [new Axis(box.cx, pos, vel), new Axis(box.cy, pos, vel), new Axis(box.w, pos, vel), new Axis(box.h, pos, vel)];
  }

  get state(): BoxState {
    const [x, y, w, h] = this.axes;
    return { cx: x.p, cy: y.p, w: Math.max(1, w.p), h: Math.max(1, h.p) };
  }

  get velocity(): { vx: number; vy: number } {
    return { vx: this.axes[0].v, vy: this.axes[1].v };
  }

  /** Advances the state by dt seconds. */
  predict(dtSeconds: number): void {
    if (dtSeconds <= 0) return;
    const h = this.state.h;
    // Process noise per second: a person can change speed by a good fraction of their height per second.
    for (const axis of this.axes) axis.predict(dtSeconds, 10 * STD_POSITION * h, 40 * STD_VELOCITY * h);
  }

  update(box: BoxState): void {
    const std = STD_POSITION * Math.max(box.h, 1);
    this.axes[0].update(box.cx, std);
    this.axes[1].update(box.cy, std);
    this.axes[2].update(box.w, std);
    this.axes[3].update(box.h, std);
  }
}
