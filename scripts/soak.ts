/**
 * npm run soak -- --minutes N [--cameras 8] [--sensor-rate 200] [--out DIR] [--sample-every S]
 *                 [--restart-every S] [--outage S] [--tolerance metric=perHour ...]
 *
 * Runs the gateway daemon with N looping vtest.avi cameras, MQTT sensors and an upstream mosquitto
 * that is stopped and started on a schedule, samples RSS, heap, descriptors, event-loop lag and
 * SQLite size, and fails (exit 1) on a trend beyond noise over the second half or on any event lost
 * across the broker restarts. Writes DIR/soak.json and DIR/soak.png (scripts/lib/soakRun.ts).
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { writeSoakReport } from './lib/soakReport.js';
import { DEFAULT_TOLERANCES_PER_HOUR, JUDGED_METRICS, runSoak, type JudgedMetric } from './lib/soakRun.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    cameras: { type: 'string', default: '8' },
    'sensor-rate': { type: 'string', default: '200' },
    out: { type: 'string', default: 'soak-out' },
    'sample-every': { type: 'string', default: '5' },
    'restart-every': { type: 'string', default: '180' },
    outage: { type: 'string', default: '20' },
    tolerance: { type: 'string', multiple: true, default: [] },
  },
});

function positive(name: string, raw: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`--${name} must be a positive number, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const tolerancesPerHour = { ...DEFAULT_TOLERANCES_PER_HOUR };
for (const item of values.tolerance) {
  const [metric, raw = ''] = item.split('=');
  if (!JUDGED_METRICS.includes(metric as JudgedMetric)) {
    console.error(`--tolerance: unknown metric "${metric}" (one of ${JUDGED_METRICS.join(', ')})`);
    process.exit(2);
  }
  tolerancesPerHour[metric as JudgedMetric] = positive('tolerance', raw);
}

const report = await runSoak({
  minutes: positive('minutes', values.minutes),
  cameras: Math.round(positive('cameras', values.cameras)),
  sensorRate: positive('sensor-rate', values['sensor-rate']),
  sampleEveryS: positive('sample-every', values['sample-every']),
  restartEveryS: positive('restart-every', values['restart-every']),
  outageS: positive('outage', values.outage),
  tolerancesPerHour,
  inconclusiveFails: true,
  log: (line) => console.log(`[soak] ${line}`),
});
const files = await writeSoakReport(report, path.resolve(values.out));

const { loss, sensors } = report;
console.log(`\nsampled ${(report.sampledSeconds / 60).toFixed(1)} min, ${report.samples.length} samples, ${report.outages.length} broker restarts`);
console.log(`sensors: ${sensors.sent} sent, ${sensors.acked} acknowledged, ${sensors.deferred} skipped (gateway at the in-flight limit), ${sensors.failed} failed`);
console.log(`upstream: ${loss.storedEvents} events stored, ${loss.receivedEvents} received, ${loss.lost} lost, ${loss.upstream.sequenceGaps} sequence gaps, ${loss.upstream.redeliveries} re-deliveries`);
console.table(
  Object.fromEntries(
    Object.entries(report.trends).map(([metric, v]) => [
      metric,
      { 'slope/h': +v.slopePerHour.toFixed(3), 'lower95/h': +v.lowerPerHour.toFixed(3), 'upper95/h': +v.upperPerHour.toFixed(3), 'tolerance/h': v.tolerancePerHour, n: v.n, 'effective n': +v.effectiveN.toFixed(1), leak: v.leak },
    ]),
  ),
);
console.log(`wrote ${files.json} and ${files.png}`);
if (report.failures.length) {
  console.error(`SOAK FAILED:\n- ${report.failures.join('\n- ')}`);
  process.exitCode = 1;
} else {
  console.log('soak passed: no trend beyond noise, 0 events lost');
}
