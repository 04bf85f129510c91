import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, loadConfigFile, parseConfig } from '../../src/gateway/config/loadConfig.js';

const camera = (extra: Record<string, unknown> = {}) => ({ id: 'entrance', source: { kind: 'rtsp', url: 'rtsp://10.0.0.5/stream1' }, ...extra });

describe('gateway config', () => {
  it('defaults to the API on 8080, data under ./data and no cameras', () => {
    const config = defaultConfig();
    expect(config.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.data_dir).toBe('./data');
    expect(config.cameras).toEqual([]);
    expect(config.detector.workers).toBe(2);
  });

  it('fills camera defaults in one place', () => {
    const result = parseConfig({ cameras: [camera()] }, {});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const cam = result.config.cameras[0];
    expect(cam).toMatchObject({ fps: 5, stall_timeout_s: 5, enabled: true, lines: [], zones: [] });
    expect(cam?.width).toBeUndefined(); // the detector's input size, resolved when the camera starts
    expect(cam?.source).toEqual({ kind: 'rtsp', url: 'rtsp://10.0.0.5/stream1', transport: 'tcp' });
    expect(cam?.motion).toEqual({ enabled: true, pixel_threshold: 18, min_changed_fraction: 0.002, force_detect_s: 2 });
    expect(cam?.tracking).toEqual({ ignore_static_after_s: 5 });
    expect(Object.isFrozen(result.config.cameras)).toBe(true);
  });

  it('lets an installer turn the static-object filter off, but not set a negative delay', () => {
    const off = parseConfig({ cameras: [camera({ tracking: { ignore_static_after_s: 0 } })] }, {});
    expect(off.ok && off.config.cameras[0]?.tracking.ignore_static_after_s).toBe(0);
    const negative = parseConfig({ cameras: [camera({ tracking: { ignore_static_after_s: -1 } })] }, {});
    expect(negative.ok).toBe(false);
    expect(!negative.ok && negative.errors.join('\n')).toMatch(/^cameras\.0\.tracking\.ignore_static_after_s: /m);
  });

  it('takes a per-camera min_fps for the load control, defaulting to 2 (or fps when lower), never above fps', async () => {
    const { minFpsOf } = await import('../../src/gateway/config/configSchema.js');
    const ok = parseConfig({ cameras: [camera({ fps: 10, min_fps: 3 }), camera({ id: 'slow', fps: 1 }), camera({ id: 'dflt' })] }, {});
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(ok.config.cameras.map(minFpsOf)).toEqual([3, 1, 2]);
    expect(ok.config.detector.adaptive_fps).toBe(true);
    const above = parseConfig({ cameras: [camera({ fps: 5, min_fps: 8 })] }, {});
    expect(above).toEqual({ ok: false, errors: [expect.stringMatching(/^cameras\.0\.min_fps: min_fps \(8\) is above fps \(5\)/)] });
    const zero = parseConfig({ cameras: [camera({ min_fps: 0 })] }, {});
    expect(!zero.ok && zero.errors.join('\n')).toMatch(/^cameras\.0\.min_fps: /m);
  });

  it('reads secrets from the environment and names a missing variable by path', () => {
    const raw = { cameras: [camera({ source: { kind: 'rtsp', url: 'rtsp://${CAM_USER}:${CAM_PASS}@10.0.0.5/s1' } })] };
    const ok = parseConfig(raw, { CAM_USER: 'admin', CAM_PASS: 's3cret' });
    expect(ok.ok && ok.config.cameras[0]?.source).toMatchObject({ url: 'rtsp://admin:s3cret@10.0.0.5/s1' });
    const missing = parseConfig(raw, { CAM_USER: 'admin' });
    expect(missing).toEqual({ ok: false, errors: ['cameras.0.source.url: environment variable CAM_PASS is not set'] });
  });

  it.each([
    [{ cameras: [camera({ id: 'Front Door' })] }, 'cameras.0.id: use lower-case letters'],
    [{ cameras: [camera({ source: { kind: 'rtsp', url: 'http://x' } })] }, 'cameras.0.source.url: must start with rtsp://'],
    [{ cameras: [camera({ source: { kind: 'ftp', url: 'x' } })] }, 'cameras.0.source.kind'],
    [{ cameras: [camera(), camera()] }, 'cameras.1.id: duplicate camera id "entrance"'],
    [{ cameras: [camera({ lines: [{ name: 'a', points: [[0.1, 0.1], [0.1, 0.105]] }] })] }, 'cameras.0.lines.0.points: degenerate line'],
    [{ cameras: [camera({ lines: [{ name: 'a', points: [[0, 0], [1, 1]] }], zones: [{ name: 'a', polygon: [[0, 0], [1, 0], [1, 1]] }] })] }, 'cameras.0.zones.0.name: duplicate name "a"'],
    [{ cameras: [camera({ fps: 0 })] }, 'cameras.0.fps'],
    [{ http: { port: 70000 } }, 'http.port'],
    [{ camera: [] }, 'Unrecognized key'],
  ])('reports %j by path', (raw, expected) => {
    const result = parseConfig(raw, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join('\n')).toContain(expected);
  });

  it('reports every problem at once', () => {
    const result = parseConfig({ http: { port: -1 }, cameras: [camera({ fps: -1, width: 10 })] }, {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.length).toBeGreaterThanOrEqual(3);
  });

  it('turns unreadable and non-YAML files into errors, not exceptions', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sp-config-'));
    const file = path.join(dir, 'gateway.yaml');
    expect(await loadConfigFile(file)).toMatchObject({ ok: false, errors: [expect.stringContaining('cannot read')] });
    await writeFile(file, 'cameras: [\n  - id: x\n   bad');
    expect(await loadConfigFile(file)).toMatchObject({ ok: false, errors: [expect.stringContaining('not valid YAML')] });
    await writeFile(file, 'store_id: shop-12\ncameras: []\n');
    expect(await loadConfigFile(file)).toMatchObject({ ok: true, config: { store_id: 'shop-12' } });
  });
});
