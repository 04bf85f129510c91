/**
 * npm run soak -- --minutes N [--cameras 8] [--sensor-rate 200] [--out DIR] [--sample-every S]
 *                 [--restart-every S] [--outage S] [--tolerance metric=perHour ...]
 *
 * Runs the gateway daemon with N looping vtest.avi cameras, MQTT sensors and an upstream mosquitto
 * that is stopped and started on a schedule, samples RSS, heap, descriptors, event-loop lag and
 * SQLite size, and fails (exit 1) on a trend beyond noise over the second half or on any event lost
 * across the broker restarts. Writes DIR/soak.json and DIR/soak.png (scripts/lib/soakRun.ts).
 * A bad option (not a positive number, unknown, missing its value) stops it before anything starts,
 * with one line on stderr and exit status 2; `--help` lists the options.
 */
import path from 'node:path';
import { writeSoakReport } from './lib/soakReport.js';
import { parseSoakArgs, SOAK_USAGE, SoakUsageError } from './lib/soakOptions.js';
import { runSoak } from './lib/soakRun.js';

// Every option is checked before anything starts (scripts/lib/soakOptions.ts): a bad one ends the
// command with one line on stderr and exit status 2.
let parsed;
try {
  parsed = parseSoakArgs(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof SoakUsageError)) throw err;
  console.error(`soak: ${err.message} (npm run soak -- --help)`);
  process.exit(2);
}
if (parsed.help) {
  console.log(SOAK_USAGE);
  process.exit(0);
}

const report = await runSoak({
  ...parsed.options,
  inconclusiveFails: true,
  log: (line) => console.log(`[soak] ${line}`),
});
const files = await writeSoakReport(report, path.resolve(parsed.out));

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
