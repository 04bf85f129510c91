/**
 * The gateway's journey analytics: one journey stream per sample source (a calibrated camera, or the
 * fused store-level tracks), one accumulator of 1-minute count bins, and the closed bins that go
 * upstream. Configured from the validated config (`plan` zones + `journeys`); a change of those
 * restarts the counts, since bins of a different funnel or zone set do not add up.
 * Nothing here does I/O: the gateway passes samples in and takes closed bins out.
 */
import type { TrackPoint } from '../../vision/analytics/trackPoint.js';
import { CalibrationError } from '../../vision/homography.js';
import { binsBetween, binStart, nextBinStart, type BinSize } from '../../kpi/timeBins.js';
import { journeySetup, type JourneySetup, type JourneysConfig, type JourneyZone } from './journeyConfig.js';
import { JourneyAccumulator } from './journeyAccumulator.js';
import type { JourneyCounts, JourneyReport } from './journeyAggregate.js';
import { JourneyStream } from './journeyStream.js';
import { CameraToPlan, type CameraCalibration, type PlanTrackSample } from './planTrack.js';

/** Minute bins kept for the REST API. */
export const JOURNEY_RETENTION_MS = 8 * 86_400_000;
/** Bin size of the upstream journey messages. */
export const UPSTREAM_BIN: BinSize = '1h';
/** Extra wait after the journey and unit decisions before a bin is taken as final. */
const CLOSE_SLACK_MS = 60_000;

export interface JourneyServiceConfig {
  timezone: string;
  cameras: readonly { id: string; enabled?: boolean; calibration?: CameraCalibration }[];
  plan?: { zones: readonly JourneyZone[] };
  journeys?: JourneysConfig;
}

export interface JourneyServiceEvents {
  /** Samples or frames refused (out of order, not finite, off the floor). */
  rejected?: (reason: 'frame_out_of_order' | 'sample_not_finite' | 'off_floor' | 'bad_calibration', count: number) => void;
  completed?: (count: number) => void;
}

export interface JourneyBin {
  from: number;
  to: number;
  report: JourneyReport;
}

export interface JourneyServiceStatus {
  enabled: boolean;
  sources: string[];
  journeys_in_progress: number;
  units_waiting: number;
  minute_bins: number;
  published_until: string | null;
}

export class JourneyService {
  private setup: JourneySetup | undefined;
  private setupKey = '';
  private accumulator: JourneyAccumulator | undefined;
  private readonly streams = new Map<string, JourneyStream>();
  private readonly mappers = new Map<string, CameraToPlan>();
  private timeZone = 'UTC';
  /** Upstream bins before this are sent (or were before the counts started: never sent, being partial). */
  private publishedUntil: number | undefined;

  constructor(
    private readonly now: () => number,
    private readonly events: JourneyServiceEvents = {},
  ) {}

  get enabled(): boolean {
    return this.accumulator !== undefined;
  }

  /** (Re)configures from a validated config; counts restart only when the journey settings changed. */
  apply(config: JourneyServiceConfig): void {
    this.timeZone = config.timezone;
    const setup = journeySetup(config);
    const key = JSON.stringify(setup ?? null) + config.timezone;
    this.mappers.clear();
    for (const camera of config.cameras) {
      if (camera.enabled === false || !camera.calibration) continue;
      try {
        this.mappers.set(camera.id, new CameraToPlan(camera.id, camera.calibration));
      } catch (err) {
        // A degenerate calibration leaves that camera out rather than stopping the gateway.
        if (!(err instanceof CalibrationError)) throw err;
        this.events.rejected?.('bad_calibration', 1);
      }
    }
    if (key === this.setupKey) return;
    this.setupKey = key;
    this.setup = setup;
    this.streams.clear();
    this.accumulator = setup && setup.zones.length > 0 ? new JourneyAccumulator({ zones: setup.zones.map((z) => z.name), funnel: setup.funnel, minPathCount: setup.minPathCount, retentionMs: JOURNEY_RETENTION_MS }) : undefined;
    // The bin in progress when counting starts is incomplete: it is never sent upstream.
    this.publishedUntil = this.accumulator ? nextBinStart(this.now(), UPSTREAM_BIN, this.timeZone) : undefined;
  }

  /** A calibrated camera's foot points for one frame (ignored for uncalibrated cameras). */
  onCameraTracks(cameraId: string, tMs: number, points: readonly TrackPoint[]): void {
    const mapper = this.mappers.get(cameraId);
    if (!mapper || !this.accumulator) return;
    const before = mapper.rejected;
    const samples = mapper.samples(points, tMs);
    if (mapper.rejected > before) this.events.rejected?.('off_floor', mapper.rejected - before);
    this.onPlanSamples(`camera:${cameraId}`, samples, tMs);
  }

  /** One frame of plan samples from a named source (e.g. "store" for the fused tracks). */
  onPlanSamples(source: string, samples: readonly PlanTrackSample[], tMs: number): void {
    if (!this.accumulator || !this.setup) return;
    let stream = this.streams.get(source);
    if (!stream) this.streams.set(source, (stream = new JourneyStream(source, this.setup)));
    const before = { ...stream.stats };
    this.addAll(stream.update(samples, tMs));
    if (stream.stats.framesRejected > before.framesRejected) this.events.rejected?.('frame_out_of_order', stream.stats.framesRejected - before.framesRejected);
    if (stream.stats.samplesRejected > before.samplesRejected) this.events.rejected?.('sample_not_finite', stream.stats.samplesRejected - before.samplesRejected);
  }

  /**
   * Identifies the journey settings the counts were made under (zones, funnel, time zone…): saved
   * bins are only restored under the same key. Undefined while journeys are off.
   */
  get countsKey(): string | undefined {
    return this.accumulator ? this.setupKey : undefined;
  }

  /** Minute bins changed since the last call (to save them). */
  takeChangedBins(): [number, JourneyCounts][] {
    return this.accumulator?.takeChanged() ?? [];
  }

  /** Saved minute bins made under the current `countsKey`, back into the counts. */
  restoreBins(bins: readonly [number, JourneyCounts][]): void {
    this.accumulator?.restore(bins);
    // Restored bins are already saved.
    this.accumulator?.takeChanged();
  }

  /** Ends the journeys of one source and forgets it (its track ids are about to be reused). */
  endStream(source: string): void {
    const stream = this.streams.get(source);
    if (!stream) return;
    this.addAll(stream.flush());
    this.streams.delete(source);
  }

  /** Ends every journey in progress (shutdown; a stopped source). */
  flush(): void {
    for (const stream of this.streams.values()) this.addAll(stream.flush());
  }

  /** Reports per bin of [from, to) (bins aligned on the store's local time); undefined when journeys are off. */
  report(from: number, to: number, size: BinSize): JourneyBin[] | undefined {
    const accumulator = this.accumulator;
    if (!accumulator) return undefined;
    return binsBetween(from, to, size, this.timeZone).map((bin) => ({ from: bin.from, to: bin.to, report: accumulator.report(bin.from, bin.to) }));
  }

  /** Upstream bins that are final by now and not handed out yet; call periodically. */
  closedBins(): JourneyBin[] {
    const accumulator = this.accumulator;
    if (!accumulator || !this.setup || this.publishedUntil === undefined) return [];
    const now = this.now();
    accumulator.prune(now);
    const { groups, endGapS } = this.setup;
    const settleMs = (endGapS + groups.max_entry_gap_s + groups.together_s) * 1000 + CLOSE_SLACK_MS;
    const closedUntil = binStart(now - settleMs, UPSTREAM_BIN, this.timeZone);
    if (closedUntil <= this.publishedUntil) return [];
    const bins = binsBetween(this.publishedUntil, closedUntil, UPSTREAM_BIN, this.timeZone).map((bin) => ({ ...bin, report: accumulator.report(bin.from, bin.to) }));
    this.publishedUntil = closedUntil;
    return bins;
  }

  status(): JourneyServiceStatus {
    let inProgress = 0;
    for (const stream of this.streams.values()) inProgress += stream.pendingCount;
    return {
      enabled: this.enabled,
      sources: [...this.streams.keys()],
      journeys_in_progress: inProgress,
      units_waiting: this.accumulator?.pendingUnitCount ?? 0,
      minute_bins: this.accumulator?.binCount ?? 0,
      published_until: this.publishedUntil === undefined ? null : new Date(this.publishedUntil).toISOString(),
    };
  }

  private addAll(done: readonly Parameters<JourneyAccumulator['add']>[0][]): void {
    for (const journey of done) this.accumulator?.add(journey);
    if (done.length > 0) this.events.completed?.(done.length);
  }
}
