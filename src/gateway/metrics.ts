/**
 * The gateway's Prometheus metrics, on a registry of its own (no global state, so tests and the
 * benchmark can run several gateways in one process).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'storepulse_' });
  const camera = ['camera'] as const;
  const m = {
    registry,
    inputFrames: new Counter({ name: 'storepulse_camera_input_frames_total', help: 'Frames received from the camera source', labelNames: camera, registers: [registry] }),
    processedFrames: new Counter({ name: 'storepulse_camera_processed_frames_total', help: 'Frames that reached the tracker (detected or motion-skipped)', labelNames: camera, registers: [registry] }),
    droppedFrames: new Counter({ name: 'storepulse_camera_dropped_frames_total', help: 'Frames replaced by a newer one before the detector was free', labelNames: camera, registers: [registry] }),
    motionSkippedFrames: new Counter({ name: 'storepulse_camera_motion_skipped_frames_total', help: 'Frames on which the motion gate skipped the detector', labelNames: camera, registers: [registry] }),
    inputFps: new Gauge({ name: 'storepulse_camera_input_fps', help: 'Frames per second received (10 s window)', labelNames: camera, registers: [registry] }),
    processedFps: new Gauge({ name: 'storepulse_camera_processed_fps', help: 'Frames per second processed (10 s window)', labelNames: camera, registers: [registry] }),
    targetFps: new Gauge({ name: 'storepulse_camera_target_fps', help: 'Frame rate the camera is held at now: its fps, or lower while the detector is over capacity (even share; below min_fps only with storepulse_camera_fps_below_min)', labelNames: camera, registers: [registry] }),
    throttledFrames: new Counter({ name: 'storepulse_camera_throttled_frames_total', help: 'Frames left out on purpose to hold the camera at its target fps (evenly spread, unlike dropped frames)', labelNames: camera, registers: [registry] }),
    fpsBelowMin: new Gauge({ name: 'storepulse_camera_fps_below_min', help: 'ALERT: 1 while the camera runs below its min_fps (the minimums of all cameras do not fit the detector\'s capacity)', labelNames: camera, registers: [registry] }),
    fpsBelowMinEvents: new Counter({ name: 'storepulse_camera_fps_below_min_events_total', help: 'Times the camera was lowered below its min_fps (alert raised)', labelNames: camera, registers: [registry] }),
    detectorCapacityFps: new Gauge({ name: 'storepulse_detector_capacity_fps', help: 'Frames per second the detector pool is estimated to sustain (workers / measured time per frame)', registers: [registry] }),
    stageSeconds: new Counter({
      name: 'storepulse_camera_stage_seconds_total',
      help: 'Time spent per camera in each stage: motion_gate, tracking, analytics (main thread); detector_preprocess, detector_inference, detector_decode (worker threads)',
      labelNames: ['camera', 'stage'],
      registers: [registry],
    }),
    cameraUp: new Gauge({ name: 'storepulse_camera_up', help: '1 while the camera delivers frames', labelNames: camera, registers: [registry] }),
    cameraRestarts: new Counter({ name: 'storepulse_camera_restarts_total', help: 'Source reconnections (errors, stalls, stream ends)', labelNames: camera, registers: [registry] }),
    detectorLatency: new Histogram({
      name: 'storepulse_detector_latency_seconds',
      help: 'Detector time per frame in a worker: preprocessing, inference, decoding',
      labelNames: camera,
      buckets: [0.01, 0.015, 0.02, 0.025, 0.03, 0.04, 0.05, 0.075, 0.1, 0.2, 0.5],
      registers: [registry],
    }),
    captureToResult: new Histogram({
      name: 'storepulse_capture_to_analytics_seconds',
      help: 'From frame capture to its line/zone events being emitted',
      labelNames: camera,
      buckets: [0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
      registers: [registry],
    }),
    detectorErrors: new Counter({ name: 'storepulse_detector_errors_total', help: 'Detector failures (frames lost, workers restarted)', registers: [registry] }),
    activeTracks: new Gauge({ name: 'storepulse_active_tracks', help: 'Confirmed tracks in the latest frame', labelNames: camera, registers: [registry] }),
    lineCrossings: new Counter({ name: 'storepulse_line_crossings_total', help: 'People crossing a counting line', labelNames: ['camera', 'line', 'direction'], registers: [registry] }),
    zoneOccupancy: new Gauge({ name: 'storepulse_zone_occupancy', help: 'People in a zone now', labelNames: ['camera', 'zone'], registers: [registry] }),
    zoneVisits: new Counter({ name: 'storepulse_zone_visits_total', help: 'Zone visits ended (counted: at least min_dwell_s)', labelNames: ['camera', 'zone', 'counted'], registers: [registry] }),
    configValid: new Gauge({ name: 'storepulse_config_valid', help: '1 when the running configuration is valid, 0 in safe mode', registers: [registry] }),
    configReloads: new Counter({ name: 'storepulse_config_reloads_total', help: 'Configuration reloads by result', labelNames: ['result'], registers: [registry] }),
    storeWrites: new Counter({ name: 'storepulse_store_rows_written_total', help: 'Rows committed to SQLite', labelNames: ['table'], registers: [registry] }),
    storeWriteErrors: new Counter({ name: 'storepulse_store_write_errors_total', help: 'Failed SQLite writes (disk full, I/O)', labelNames: ['reason'], registers: [registry] }),
    storePruned: new Counter({ name: 'storepulse_store_pruned_rows_total', help: 'Rows deleted by retention or by the disk quota', labelNames: ['table', 'reason'], registers: [registry] }),
    storeBytes: new Gauge({ name: 'storepulse_store_used_bytes', help: 'Bytes of the SQLite file holding data', registers: [registry] }),
    outboxBacklog: new Gauge({ name: 'storepulse_outbox_backlog', help: 'Messages waiting for the broker acknowledgement', registers: [registry] }),
    outboxOldestAge: new Gauge({ name: 'storepulse_outbox_oldest_age_seconds', help: 'Age of the oldest undelivered message', registers: [registry] }),
    upstreamConnected: new Gauge({ name: 'storepulse_upstream_connected', help: '1 while connected to the upstream MQTT broker', registers: [registry] }),
    upstreamPublished: new Counter({ name: 'storepulse_upstream_acked_total', help: 'Messages acknowledged by the upstream broker', labelNames: ['kind'], registers: [registry] }),
    upstreamErrors: new Counter({ name: 'storepulse_upstream_errors_total', help: 'Upstream connection failures by reason', labelNames: ['reason'], registers: [registry] }),
    aggregatesComputed: new Counter({ name: 'storepulse_kpi_bins_computed_total', help: 'KPI bins computed (revision > 1: recomputed after late events)', labelNames: ['size'], registers: [registry] }),
    sensorMessages: new Counter({ name: 'storepulse_sensor_messages_total', help: 'Sensor messages by result (accepted, rejected, duplicate)', labelNames: ['sensor', 'result'], registers: [registry] }),
    sensorRejected: new Counter({ name: 'storepulse_sensor_rejected_total', help: 'Refused sensor messages by reason (they are in the dead-letter table)', labelNames: ['sensor', 'code'], registers: [registry] }),
    sensorLastSeen: new Gauge({ name: 'storepulse_sensor_last_message_timestamp_seconds', help: 'When the sensor last sent a message', labelNames: ['sensor'], registers: [registry] }),
    brokerClients: new Gauge({ name: 'storepulse_sensor_broker_clients', help: 'MQTT clients connected to the embedded broker', registers: [registry] }),
    brokerAuthFailures: new Counter({ name: 'storepulse_sensor_broker_auth_failures_total', help: 'MQTT connections refused for wrong credentials', registers: [registry] }),
    sensorBrokerConnected: new Gauge({ name: 'storepulse_sensor_broker_connected', help: '1 while subscribed to the external sensor broker', registers: [registry] }),
    bleAdapterUp: new Gauge({ name: 'storepulse_ble_adapter_up', help: '1 while the Bluetooth adapter is present and scanning', registers: [registry] }),
    bleAdverts: new Counter({ name: 'storepulse_ble_advertisements_total', help: 'BLE advertisements seen: matched an allow-list or ignored (dropped in memory)', labelNames: ['result'], registers: [registry] }),
    blePresent: new Gauge({ name: 'storepulse_ble_present', help: '1 while a beacon or staff badge is present', labelNames: ['device'], registers: [registry] }),
    apiAuthFailures: new Counter({ name: 'storepulse_api_unauthorized_total', help: 'API requests refused for a missing or wrong token', registers: [registry] }),
    journeysCompleted: new Counter({ name: 'storepulse_journeys_completed_total', help: 'Customer journeys ended and counted (src/analytics/journeys)', registers: [registry] }),
    journeyInputRejected: new Counter({ name: 'storepulse_journey_input_rejected_total', help: 'Journey input refused: frames out of order, non-finite samples, foot points off the floor', labelNames: ['reason'], registers: [registry] }),
    planInputRejected: new Counter({ name: 'storepulse_plan_input_rejected_total', help: 'Camera tracks left out of floor-plan fusion: foot point off the floor, unusable calibration', labelNames: ['camera', 'reason'], registers: [registry] }),
    planPeople: new Gauge({ name: 'storepulse_plan_people', help: 'People on the floor plan now, counted once over all calibrated cameras (src/fusion)', registers: [registry] }),
    planZoneOccupancy: new Gauge({ name: 'storepulse_plan_zone_occupancy', help: 'People in a plan zone now, counted once over all calibrated cameras', labelNames: ['zone'], registers: [registry] }),
  };
  return m;
}

export type GatewayMetrics = ReturnType<typeof createMetrics>;
