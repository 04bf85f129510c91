/**
 * `storepulse impact` over a real SQLite file (synthetic store, +20 % lift in zone promo from
 * 14 March 2026): the JSON report, the text report with the annotations of the period, a file that
 * holds only raw events (computed with the gateway config's time zone and entrances), and one-line
 * errors for bad arguments.
 */
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { syntheticStoreBins } from '../../src/analytics/impact/syntheticStore.js';
import type { StoreEvent } from '../../src/kpi/events.js';
import { AnnotationStore } from '../../src/store/annotationStore.js';
import { openDatabase } from '../../src/store/database.js';
import { expectOneLineError, runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gatewayHarness.js';
import { writeHourlyAggregates } from './syntheticDatabase.js';

const CHANGE = Date.UTC(2026, 2, 14);
let file: string;

beforeAll(async () => {
  file = path.join(await tempDir('impact-cli'), 'storepulse.db');
  writeHourlyAggregates(file, syntheticStoreBins({ seed: 11, change: CHANGE, weeks: 4, trafficLift: 0.2 }));
  const db = openDatabase(file);
  new AnnotationStore(db).add({ ts: CHANGE + 8 * 3_600_000, text: 'promo display moved', subject: 'zone:promo' }, CHANGE);
  db.close();
});

describe('storepulse impact', () => {
  it('reports the lift as JSON and as text, reading the file without changing it', async () => {
    const before = statSync(file).mtimeMs;
    const args = ['impact', '--db', file, '--subject', 'zone:promo', '--change', '2026-03-14', '--control', 'zone:aisle', '--timezone', 'UTC'];
    const [json, text] = await Promise.all([runCli([...args, '--json']), runCli(args)]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ subject: 'zone:promo', controls: ['zone:aisle'], change: '2026-03-14T00:00:00+00:00', before: { days: 28 }, after: { days: 28 }, hours: { stored: 1344, computed_from_events: 0 } });
    const traffic = report.metrics.find((m: { metric: string }) => m.metric === 'traffic');
    expect(traffic.verdict).toBe('increase');
    expect(traffic.vs_control.low).toBeLessThanOrEqual(0.2);
    expect(traffic.vs_control.high).toBeGreaterThanOrEqual(0.2);

    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^impact on zone:promo of the change at 2026-03-14 00:00 \(UTC\)$/m);
    expect(text.stdout).toMatch(/^traffic: INCREASE — counted visits to the zone$/m);
    expect(text.stdout).toMatch(/^ {2}vs control: \+\d+\.\d % \(95 % CI \+\d+\.\d % to \+\d+\.\d %\)$/m);
    expect(text.stdout).toMatch(/^dwell: NO SIGNIFICANT CHANGE/m);
    expect(text.stdout).toContain('2026-03-14 08:00  zone:promo: promo display moved');
    expect(statSync(file).mtimeMs).toBe(before);
  });

  it('refuses bad arguments with one line and the right exit code', async () => {
    const base = ['impact', '--db', file, '--timezone', 'UTC'];
    const notSqlite = path.join(await tempDir('impact-cli-text'), 'notes.txt');
    writeFileSync(notSqlite, 'not a database\n'.repeat(100));
    const [noDb, badSubject, unknown, badWeeks, badZone, badChange, notDb] = await Promise.all([
      runCli(['impact', '--db', `${file}.missing`, '--subject', 'zone:promo', '--change', '2026-03-14']),
      runCli([...base, '--subject', 'promo', '--change', '2026-03-14']),
      runCli([...base, '--subject', 'zone:bakery', '--change', '2026-03-14']),
      runCli([...base, '--subject', 'zone:promo', '--change', '2026-03-14', '--weeks', '0']),
      runCli(['impact', '--db', file, '--timezone', 'Mars/Olympus', '--subject', 'zone:promo', '--change', '2026-03-14']),
      runCli([...base, '--subject', 'zone:promo', '--change', '2026-13-01']),
      runCli(['impact', '--db', notSqlite, '--timezone', 'UTC', '--subject', 'zone:promo', '--change', '2026-03-14']),
    ]);
    expect(noDb.code).toBe(1);
    expectOneLineError(noDb.stderr, /no such database: .*\.missing/);
    expect(badSubject.code).toBe(2);
    expectOneLineError(badSubject.stderr, /a subject is zone:NAME/);
    expect(unknown.code).toBe(1);
    expectOneLineError(unknown.stderr, /no zone bakery .*known: zone:aisle, zone:promo/);
    expect(badWeeks.code).toBe(2);
    expectOneLineError(badWeeks.stderr, /--weeks must be a positive integer/);
    expect(badZone.code).toBe(2);
    expectOneLineError(badZone.stderr, /unknown time zone "Mars\/Olympus"/);
    expect(badChange.code).toBe(2);
    expectOneLineError(badChange.stderr, /not a valid date/);
    expect(notDb.code).toBe(1);
    expectOneLineError(notDb.stderr, /cannot read .*notes\.txt as a storepulse database: file is not a database/);
  });

  it('computes a file that holds only raw events, with the time zone and entrances of the gateway config', async () => {
    const dir = await tempDir('impact-cli-events');
    const eventsFile = path.join(dir, 'storepulse.db');
    const change = Date.parse('2026-03-14T00:00:00+01:00');
    const bins = syntheticStoreBins({ seed: 4, change, weeks: 3, trafficLift: 0.3, subjectVisitsPerDay: 80, controlVisitsPerDay: 120 });
    const db = openDatabase(eventsFile);
    const insert = db.prepare('INSERT INTO events (ts, type, source, subject, data, recorded_at) VALUES (?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const bin of bins) {
        const events: StoreEvent[] = [];
        // One crossing per ten shoppers keeps the file small; only the ratios matter here.
        for (let i = 0; i < Math.round(bin.traffic.in / 10); i++) events.push({ type: 'line_crossing', ts: bin.from + 60_000 * i, camera: 'door', line: 'entrance', direction: 'in' });
        for (const [key, zone] of Object.entries(bin.zones)) {
          for (let i = 0; i < zone.visits; i++) {
            const ts = bin.from + 30_000 * (i + 1);
            events.push({ type: 'zone_visit', ts, camera: 'cam1', zone: key.split('/')[1]!, enter_ts: ts - 40_000, dwell_ms: 40_000, counted: true });
          }
        }
        for (const e of events) insert.run(e.ts, e.type, 'x', null, JSON.stringify(e), e.ts);
      }
    })();
    db.close();
    const config = path.join(dir, 'gateway.yaml');
    writeFileSync(
      config,
      [
        `data_dir: ${dir}`,
        'timezone: Europe/Paris',
        'cameras:',
        '  - id: door',
        '    source: { kind: file, path: /dev/null }',
        '    lines: [{ name: entrance, points: [[0.1, 0.5], [0.9, 0.5]] }]',
        'kpi:',
        '  entrances: [{ camera: door, line: entrance }]',
        '',
      ].join('\n'),
    );
    const r = await runCli(['impact', '--db', eventsFile, '--config', config, '--subject', 'zone:promo', '--change', '2026-03-14', '--weeks', '2', '--control', 'zone:aisle', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ time_zone: 'Europe/Paris', change: '2026-03-14T00:00:00+01:00', hours: { stored: 0, computed_from_events: 2 * 14 * 24 }, before: { days: 14 }, after: { days: 14 } });
    const verdicts = Object.fromEntries(report.metrics.map((m: { metric: string; verdict: string }) => [m.metric, m.verdict]));
    expect(verdicts).toEqual({ traffic: 'increase', dwell: 'no significant change', visit_rate: 'increase', conversion: 'insufficient data' });
  });

  it("measures against another store's file (--control-db), and says when --control is missing", async () => {
    const other = path.join(await tempDir('impact-cli-other'), 'storepulse.db');
    writeHourlyAggregates(other, syntheticStoreBins({ seed: 12, change: CHANGE, weeks: 4, trafficLift: 0 }));
    const base = ['impact', '--db', file, '--subject', 'zone:promo', '--change', '2026-03-14', '--timezone', 'UTC', '--control-db', other];
    const [json, missing] = await Promise.all([runCli([...base, '--control', 'store', '--json']), runCli(base)]);
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ controls: ['store'], control_source: other, control_hours: { stored: 1344, computed_from_events: 0 } });
    const traffic = report.metrics.find((m: { metric: string }) => m.metric === 'traffic');
    expect(traffic.verdict).toBe('increase');
    expect(traffic.vs_control.low).toBeLessThanOrEqual(0.2);
    expect(traffic.vs_control.high).toBeGreaterThanOrEqual(0.2);
    expect(missing.code).toBe(2);
    expectOneLineError(missing.stderr, /--control-db needs --control/);
  });
});
