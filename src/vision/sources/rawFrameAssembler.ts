/**
 * Cuts a byte stream of raw RGB24 frames (an ffmpeg pipe) into whole frames. Each chunk is copied
 * once, straight into the frame it belongs to; a finished frame is handed over and never reused,
 * so consumers may keep it or transfer its buffer to a worker.
 */
export class RawFrameAssembler {
  private frame: Uint8Array;
  private filled = 0;

  constructor(readonly frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError(`invalid frame size ${frameBytes}`);
    this.frame = new Uint8Array(frameBytes);
  }

  /** Returns the frames completed by this chunk (usually zero or one). */
  push(chunk: Uint8Array): Uint8Array[] {
    const done: Uint8Array[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.frameBytes - this.filled, chunk.length - offset);
      this.frame.set(chunk.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.frameBytes) {
        done.push(this.frame);
        this.frame = new Uint8Array(this.frameBytes);
        this.filled = 0;
      }
    }
    return done;
  }

  /** Bytes of a frame not yet complete (a stream that ends mid-frame lost this much). */
  get pendingBytes(): number {
    return this.filled;
  }
}
