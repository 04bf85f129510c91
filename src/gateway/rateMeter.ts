/** Events per second over a sliding window of whole seconds (input and processed fps per camera). */
export class RateMeter {
  private readonly buckets: number[];
  private currentSecond: number | undefined;

  constructor(private readonly windowS = 10) {
    this.buckets = new Array<number>(windowS).fill(0);
  }

  mark(nowMs: number, count = 1): void {
    this.advance(nowMs);
    const slot = (this.currentSecond as number) % this.windowS;
    this.buckets[slot] = (this.buckets[slot] as number) + count;
  }

  /** Rate over the window, excluding the second in progress so a fresh second does not read low. */
  rate(nowMs: number): number {
    this.advance(nowMs);
    const current = (this.currentSecond as number) % this.windowS;
    let total = 0;
    this.buckets.forEach((n, i) => (total += i === current ? 0 : n));
    return total / (this.windowS - 1);
  }

  private advance(nowMs: number): void {
    const second = Math.floor(nowMs / 1000);
    if (this.currentSecond === undefined) {
      this.currentSecond = second;
      return;
    }
    const steps = Math.min(this.windowS, second - this.currentSecond);
    for (let i = 1; i <= steps; i++) this.buckets[(this.currentSecond + i) % this.windowS] = 0;
    if (second > this.currentSecond) this.currentSecond = second;
  }
}
