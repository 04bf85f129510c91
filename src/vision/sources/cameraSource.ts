/** Builds the supervised frame source for one configured camera. */
import type { CameraConfig } from '../../gateway/config/configSchema.js';
import type { ModelManifest } from '../detector/modelManifest.js';
import { ffmpegArgs } from './ffmpegArgs.js';
import { ffmpegSession } from './ffmpegSession.js';
import { snapshotSession } from './snapshotSession.js';
import { SupervisedSource, type SourceHandlers, type SupervisorOptions } from './supervisedSource.js';

export type CameraSourceConfig = Pick<CameraConfig, 'source' | 'fps' | 'height' | 'stall_timeout_s' | 'reconnect'> & { width: number };

/**
 * The size frames are decoded at: the camera's own setting, else the detector's input — exactly
 * for a model trained on stretched frames, by width with the aspect ratio kept for a letterbox one.
 */
export function decodeSize(
  camera: Pick<CameraConfig, 'width' | 'height'>,
  modelInput: Pick<ModelManifest['input'], 'width' | 'height' | 'resize'> | undefined,
): { width: number; height: number | undefined } {
  if (camera.width) return { width: camera.width, height: camera.height };
  if (!modelInput) return { width: 640, height: camera.height };
  return { width: modelInput.width, height: camera.height ?? (modelInput.resize === 'stretch' ? modelInput.height : undefined) };
}

export function createCameraSource(
  camera: CameraSourceConfig,
  handlers: SourceHandlers,
  overrides: Pick<SupervisorOptions, 'now' | 'random' | 'watchdogIntervalMs'> = {},
): SupervisedSource {
  const { source } = camera;
  const options: SupervisorOptions = {
    stallTimeoutMs: camera.stall_timeout_s * 1000,
    backoff: { initialMs: camera.reconnect.initial_s * 1000, maxMs: camera.reconnect.max_s * 1000 },
    endIsFinal: source.kind === 'file' && !source.loop,
    ...overrides,
  };
  if (source.kind === 'snapshot') {
    const snapshot = {
      url: source.url,
      intervalMs: (source.interval_s ?? 1 / camera.fps) * 1000,
      timeoutMs: source.timeout_s * 1000,
      width: camera.width,
      height: camera.height,
    };
    return new SupervisedSource((emit) => snapshotSession(snapshot, emit), options, handlers);
  }
  const args = ffmpegArgs(source, camera.fps, camera.width, camera.height);
  return new SupervisedSource((emit) => ffmpegSession(args, emit), options, handlers);
}
