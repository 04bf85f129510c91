/**
 * `storepulse impact --db FILE --subject zone:NAME --change DATE`: the before/after impact of a
 * change, from the gateway's SQLite file alone (a copy taken off a store PC will do). Opened
 * read-only, so running it next to a live gateway changes nothing.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { changeWindow, ImpactInputError, parseChangeTime } from '../analytics/impact/changeWindow.js';
import { analyzeImpact } from '../analytics/impact/impactAnalysis.js';
import { impactLines, impactReportJson } from '../analytics/impact/impactFormat.js';
import { parseSubject, parseSubjects } from '../analytics/impact/impactSubjects.js';
import { loadConfigFile } from '../gateway/config/loadConfig.js';
import type { KpiSettings } from '../kpi/kpiEngine.js';
import { formatLocal, isValidTimeZone } from '../kpi/timeBins.js';
import { AnnotationStore } from '../store/annotationStore.js';
import { kpiSettings } from '../store/dataStore.js';
import { hourlyKpiHistory } from '../store/hourlyKpiHistory.js';
import { IMPACT } from './commandSpecs.js';
import { CliError, parsePositiveInt } from './errors.js';
import { parseCommandArgs, usageLine } from './options.js';

const MAX_WEEKS = 13;

/** KPI settings without a config: only the time zone matters for stored bins; raw events then count no store traffic. */
function bareSettings(timeZone: string): KpiSettings {
  return { timeZone, openingTime: '00:00', entrances: [], engagedDwellMs: 30_000, bounceMs: 10_000, queueZones: [] };
}

async function settingsFrom(configFile: string | undefined, timeZone: string | undefined): Promise<KpiSettings> {
  if (timeZone !== undefined && !isValidTimeZone(timeZone)) throw new CliError(`--timezone: unknown time zone "${timeZone}" (an IANA name such as Europe/Paris)`, 2);
  if (configFile === undefined) return bareSettings(timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  const loaded = await loadConfigFile(configFile);
  if (!loaded.ok) throw new CliError(`invalid config ${configFile}:\n  ${loaded.errors.join('\n  ')}`);
  const settings = kpiSettings(loaded.config);
  return timeZone === undefined ? settings : { ...settings, timeZone };
}

function openReadOnly(file: string): Database.Database {
  if (!existsSync(file)) throw new CliError(`no such database: ${file}`);
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    // Fails here, with a clear message, when the file is not a SQLite database at all.
    db.prepare("SELECT 1 FROM aggregates WHERE size = '1h' LIMIT 1").get();
    return db;
  } catch (err) {
    throw new CliError(`cannot read ${file} as a storepulse database: ${(err as Error).message}`);
  }
}

function hasAnnotations(db: Database.Database): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'annotations'").get() !== undefined;
}

export async function impactCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandArgs(IMPACT, argv);
  if (positionals.length > 0 || !values.db || !values.subject || !values.change) throw new CliError(usageLine(IMPACT), 2);
  const weeks = parsePositiveInt('weeks', values.weeks)!;
  if (weeks > MAX_WEEKS) throw new CliError(`--weeks must be at most ${MAX_WEEKS}, got ${weeks}`, 2);
  const settings = await settingsFrom(values.config, values.timezone);
  let subject, controls, change;
  try {
    subject = parseSubject(values.subject);
    controls = parseSubjects(values.control);
    change = parseChangeTime(values.change, settings.timeZone);
  } catch (err) {
    if (err instanceof ImpactInputError) throw new CliError(err.message, 2);
    throw err;
  }
  if (values['control-db'] !== undefined && controls.length === 0) throw new CliError('--control-db needs --control: which zones or lines of that store (or store for its traffic)', 2);
  const db = openReadOnly(values.db);
  const controlDb = values['control-db'] === undefined ? undefined : openReadOnly(values['control-db']);
  try {
    const window = changeWindow(change, weeks, settings.timeZone);
    const history = hourlyKpiHistory(db, window, settings);
    // The other store's entrances are not in this config: its stored bins carry its traffic, its raw events only zones and lines.
    const controlHistory = controlDb ? hourlyKpiHistory(controlDb, window, bareSettings(settings.timeZone)) : undefined;
    const query = { subject, controls, change, weeks, timeZone: settings.timeZone, now: Date.now(), controlSource: values['control-db'] };
    const report = analyzeImpact(history.bins, query, controlHistory?.bins);
    const annotations = hasAnnotations(db) ? new AnnotationStore(db).list({ from: window.from, to: window.to, subject: subject.text, limit: 100 }) : [];
    const tz = settings.timeZone;
    if (values.json) {
      const hours = (h: typeof history) => ({ stored: h.storedHours, computed_from_events: h.computedHours });
      out(JSON.stringify({ ...impactReportJson(report, annotations), hours: hours(history), ...(controlHistory ? { control_hours: hours(controlHistory) } : {}) }));
      return;
    }
    for (const line of impactLines(report)) out(line);
    if (annotations.length) {
      out('');
      out('annotations in the period:');
      for (const a of annotations) out(`  ${formatLocal(a.ts, tz).slice(0, 16).replace('T', ' ')}  ${a.subject ?? 'store'}: ${a.text}`);
    }
  } catch (err) {
    if (err instanceof ImpactInputError) throw new CliError(err.message);
    throw err;
  } finally {
    db.close();
    controlDb?.close();
  }
}
