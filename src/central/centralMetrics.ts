/** Central's Prometheus metrics, on a registry of its own (tests and the benchmark run several workers in one process). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export function createCentralMetrics(options: { processMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'storepulse_central_' });
  return {
    registry,
    received: new Counter({ name: 'storepulse_central_messages_received_total', help: 'MQTT messages received (re-deliveries included)', registers: [registry] }),
    acknowledged: new Counter({ name: 'storepulse_central_messages_acknowledged_total', help: 'Messages acknowledged to the broker after their transaction committed', registers: [registry] }),
    stored: new Counter({
      name: 'storepulse_central_rows_written_total',
      help: 'Rows written: new events, KPI bins inserted or replaced by a higher revision, gateway status changes',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({ name: 'storepulse_central_dead_letters_total', help: 'Messages refused (schema, topic, time range, database) and kept in dead_letters', registers: [registry] }),
    batches: new Counter({ name: 'storepulse_central_batches_total', help: 'Transactions committed', registers: [registry] }),
    batchSize: new Histogram({ name: 'storepulse_central_batch_messages', help: 'Messages per committed transaction', buckets: [1, 10, 50, 100, 250, 500, 1000, 2000], registers: [registry] }),
    commitSeconds: new Histogram({
      name: 'storepulse_central_batch_commit_seconds',
      help: 'Time to write and commit one batch',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    writeErrors: new Counter({ name: 'storepulse_central_write_errors_total', help: 'Failed transactions (retried; messages stay unacknowledged)', labelNames: ['kind'] as const, registers: [registry] }),
    partitionsCreated: new Counter({ name: 'storepulse_central_partitions_created_total', help: "Partitions created (a month's, and its bin sizes' for kpi_bins)", registers: [registry] }),
    retentionRuns: new Counter({
      name: 'storepulse_central_retention_runs_total',
      help: 'Retention runs by this worker: completed, skipped (another worker held the retention lock) or failed',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    retentionPartitionsDropped: new Counter({ name: 'storepulse_central_retention_partitions_dropped_total', help: 'Partitions dropped by retention', labelNames: ['table'] as const, registers: [registry] }),
    retentionBytesFreed: new Counter({ name: 'storepulse_central_retention_freed_bytes_total', help: 'Size of the partitions retention dropped', registers: [registry] }),
    retentionRowsDeleted: new Counter({
      name: 'storepulse_central_retention_rows_deleted_total',
      help: 'Rows retention deleted one by one (old mixed-size months, rollups, dead letters); dropped partitions are not counted here',
      labelNames: ['table'] as const,
      registers: [registry],
    }),
    retentionErrors: new Counter({
      name: 'storepulse_central_retention_errors_total',
      help: 'Retention errors: database (the run stopped; next interval retries), lock_timeout (a partition drop or a delete waited too long for a lock; next run retries)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    retentionLastRun: new Gauge({ name: 'storepulse_central_retention_last_run_timestamp_seconds', help: 'When this worker last completed a retention run (Unix time)', registers: [registry] }),
    connected: new Gauge({ name: 'storepulse_central_mqtt_connected', help: '1 while connected to the broker', registers: [registry] }),
    pending: new Gauge({ name: 'storepulse_central_pending_messages', help: 'Messages received and not yet acknowledged', registers: [registry] }),
  };
}

export type CentralMetrics = ReturnType<typeof createCentralMetrics>;
