/**
 * Journeys work on either source of plan samples: two overlapping calibrated cameras fed to the
 * journey service one by one (per-camera streams) split each shopper's walk in two and double count
 * the zones both see; the same camera tracks fused into store-level tracks (src/fusion, used here
 * as it is, through its exported API) give one journey per person with the whole path.
 */
import { describe, expect, it } from 'vitest';
import { JourneyService } from '../../src/analytics/journeys/journeyService.js';
import { fusionSchema } from '../../src/fusion/planConfigSchema.js';
import { CameraPlanMapper } from '../../src/fusion/planMapping.js';
import { fusionOptions, StoreFuser, toPlanTrackSamples } from '../../src/fusion/storeFuser.js';
import { parseConfig } from '../../src/gateway/config/loadConfig.js';
import type { TrackedBox } from '../../src/vision/tracking/frameTracker.js';
import { offset, rawStoreConfig, SHOPPER, walk } from './trajectories.js';
import type { PlanTrackSample } from '../../src/analytics/journeys/planTrack.js';

const IMAGE_W = 1000;
const IMAGE_H = 500;
/** Camera "left" sees x 0–12 m, camera "right" x 6–20 m (6 m of overlap, where the shopper stops at the promotion), all of y 0–10 m. */
const CAMERAS = [
  { id: 'left', x0: 0, x1: 12 },
  { id: 'right', x0: 6, x1: 20 },
].map((c) => ({ ...c, calibration: { image_points: [[0, 0], [1, 0], [1, 1], [0, 1]] as [number, number][], plan_points: [[c.x0, 0], [c.x1, 0], [c.x1, 10], [c.x0, 10]] as [number, number][] } }));

function setup() {
  const raw = rawStoreConfig();
  const parsed = parseConfig({ ...raw, timezone: 'UTC', cameras: CAMERAS.map((c) => ({ id: c.id, source: { kind: 'file', path: 'x.mp4' }, calibration: c.calibration })) }, {});
  if (!parsed.ok) throw new Error(parsed.errors.join('; '));
  return parsed.config;
}

/** What each camera's tracker reports in one frame: boxes (bottom centre = foot point) with ids local to the camera. */
function cameraFrame(cam: (typeof CAMERAS)[number], samples: readonly PlanTrackSample[]): TrackedBox[] {
  return samples
    .filter((s) => s.x >= cam.x0 && s.x <= cam.x1)
    .map((s) => {
      const fx = ((s.x - cam.x0) / (cam.x1 - cam.x0)) * IMAGE_W;
      const fy = (s.y / 10) * IMAGE_H;
      return { id: Number(s.trackId.slice(1)), box: { x1: fx - 15, x2: fx + 15, y1: fy - 80, y2: fy, score: 0.9 } };
    });
}

/** Six shoppers entrance → promo → till, two minutes apart; the walk crosses from one camera to the other. */
function frames(): Map<number, PlanTrackSample[]> {
  const byTime = new Map<number, PlanTrackSample[]>();
  for (let i = 0; i < 6; i++) for (const s of walk(`p${i + 1}`, offset(SHOPPER, 0, 0, i * 120))) byTime.set(s.tMs, [...(byTime.get(s.tMs) ?? []), s]);
  return byTime;
}

describe('journeys from per-camera and from fused store-level tracks', () => {
  it('per camera: each walk is split at the overlap and the shared zone counts twice', () => {
    const config = setup();
    const service = new JourneyService(() => 0);
    service.apply(config);
    for (const [t, samples] of [...frames()].sort(([a], [b]) => a - b)) {
      for (const cam of CAMERAS) {
        const boxes = cameraFrame(cam, samples);
        service.onCameraTracks(cam.id, t, boxes.map((b) => ({ trackId: b.id, x: (b.box.x1 + b.box.x2) / 2 / IMAGE_W, y: b.box.y2 / IMAGE_H })));
      }
    }
    service.flush();
    const report = service.report(0, 3_600_000, '1h')![0]!.report;
    expect(report.journeys).toBe(12); // 6 people, 2 journeys each
    expect(report.zones.find((z) => z.zone === 'promo')!.visits).toBe(12); // both cameras see the promotion zone
    expect(report.funnel.map((s) => s.persons)).toEqual([6, 6, 0]); // nobody seen by one camera from the entrance to the till
  });

  it('fused: one journey per person with the whole path, as a single camera would see it', () => {
    const config = setup();
    const service = new JourneyService(() => 0);
    service.apply(config);
    const fuser = new StoreFuser(fusionOptions(fusionSchema.parse({})));
    const mappers = CAMERAS.map((c) => ({ cam: c, mapper: new CameraPlanMapper(c.id, c.calibration) }));
    const feed = (ticks: ReturnType<StoreFuser['tick']>) => {
      const samples = toPlanTrackSamples(ticks);
      for (const tick of ticks) service.onPlanSamples('store', samples.filter((s) => s.tMs === tick.tMs), tick.tMs);
    };
    for (const [t, samples] of [...frames()].sort(([a], [b]) => a - b)) {
      for (const { cam, mapper } of mappers) fuser.ingest({ cameraId: cam.id, tMs: t, observations: mapper.mapTracks(cameraFrame(cam, samples), IMAGE_W, IMAGE_H).observations });
      feed(fuser.tick(t));
    }
    feed(fuser.flush());
    service.flush();
    const report = service.report(0, 3_600_000, '1h')![0]!.report;
    expect(report.journeys).toBe(6);
    expect(report.top_paths).toEqual([{ zones: ['entrance', 'promo', 'till'], continues: false, count: 6 }]);
    expect(report.funnel.map((s) => s.persons)).toEqual([6, 6, 6]);
    expect(report.zones.find((z) => z.zone === 'promo')!.visits).toBe(6);
  });
});
