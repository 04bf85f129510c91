/**
 * Retention: how long central keeps its rows (config `retention`), enforced by every worker at start
 * and then every `interval_minutes`, one worker at a time.
 *
 * What is removed how, and why:
 * - `kpi_bins` months made by this version are partitioned by bin size (monthPartitions.ts), so a
 *   size's month goes by **dropping its partition** once the whole month is older than that size's
 *   retention: no row is deleted, nothing is left to vacuum, and the disk space comes back at once.
 *   1-minute bins are ~97 % of the rows (~583 MB a day for 500 stores): deleting them row by row
 *   would write them all again to the WAL and leave their month's file as large as before (a closed
 *   month receives no new rows to reuse the space). When every size of a month has expired, the
 *   month is dropped whole. Retention therefore works by whole UTC months: a row is kept at least
 *   its size's days, and goes once the last day of its month is that old (35 days: 35 to 66 days).
 * - `kpi_bins` months made by earlier versions hold every size in one table: those are the only
 *   place where rows are **deleted**, in batches of `delete_batch_rows`, each its own short
 *   transaction, oldest first, up to the cutoff (the partition goes whole when all its sizes have
 *   expired). The space they leave is reused by nobody; `VACUUM FULL` or pg_repack of such a month
 *   gives it back to the system (README).
 * - `events` months are dropped whole once older than `events_days`.
 * - `dead_letters` (not partitioned, small) are deleted in batches by when last delivered.
 * - The hourly rollups (`store_hours`, `store_days`, the fleet analytics' source) are the 1-hour
 *   bins added up: when 1-hour bins go, their hours and days go with them, in the same transaction
 *   as a partition drop (dropping a table fires no trigger), so the analytics never show hours whose
 *   bins are gone. With the default (1-hour bins kept forever) the rollups are never touched. The
 *   rollups never read 1-minute bins: removing those changes no fleet API answer.
 *
 * Not blocking ingest: retention uses its own connection, never the ingest pool. Deletes touch only
 * old rows (ingest writes recent ones) and take row locks only. Dropping a partition takes an
 * exclusive lock on its parent: dropping one size of a month locks that month only (checked on
 * PostgreSQL 15: an insert into the current month goes on meanwhile), dropping a whole month locks
 * `kpi_bins` or `events` until the commit, a moment (the drop is the transaction's last statement).
 * Every drop waits for its locks at most `lock_timeout` (2 s), so ingest queued behind it waits at
 * most that long; a drop that cannot get its locks (a long query reading that month) is left for
 * the next run. Creating partitions (monthPartitions.ts) and dropping
 * them take the same advisory lock, so a late row of a month being dropped either lands before the
 * drop (and is dropped with it) or re-creates the partition after it (and goes at the next run).
 *
 * Several workers: a run holds the session-level advisory lock `storepulse-central-retention`
 * (pg_try_advisory_lock); a worker that does not get it skips its turn. A run that dies with its
 * connection releases the lock with it.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { RetentionConfig, RetentionDays } from './centralConfig.js';
import type { CentralMetrics } from './centralMetrics.js';
import { KPI_BIN_SIZES, parseMonthPartitionName, PARTITIONS_LOCK, sizePartitionName, type KpiBinSize } from './monthPartitions.js';

export const RETENTION_LOCK = 'storepulse-central-retention';
const DAY_MS = 86_400_000;

/** Days kept per kind of row; null: forever. */
export interface RetentionPolicy {
  kpi: Record<KpiBinSize, number | null>;
  events: number | null;
  deadLetters: number | null;
}

const days = (d: RetentionDays): number | null => (d === 'forever' ? null : d);

export function retentionPolicy(c: RetentionConfig): RetentionPolicy {
  return {
    kpi: { '1m': days(c.kpi_1m_days), '15m': days(c.kpi_15m_days), '1h': days(c.kpi_1h_days), '1d': days(c.kpi_1d_days) },
    events: days(c.events_days),
    deadLetters: days(c.dead_letters_days),
  };
}

/** Rows from before their cutoff may go; null: kept forever. */
export interface RetentionCutoffs {
  kpi: Record<KpiBinSize, Date | null>;
  events: Date | null;
  deadLetters: Date | null;
}

/**
 * Each cutoff is a UTC midnight, `days` whole days before the start of today (UTC): a whole UTC day,
 * so that the rollups' days (store_days) go exactly with their hours.
 */
export function retentionCutoffs(policy: RetentionPolicy, now: number): RetentionCutoffs {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  const cutoff = (d: number | null): Date | null => (d === null ? null : new Date(today - d * DAY_MS));
  return {
    kpi: { '1m': cutoff(policy.kpi['1m']), '15m': cutoff(policy.kpi['15m']), '1h': cutoff(policy.kpi['1h']), '1d': cutoff(policy.kpi['1d']) },
    events: cutoff(policy.events),
    deadLetters: cutoff(policy.deadLetters),
  };
}

/** A month partition as the catalogue has it: partitioned by size (this version) or one plain table. */
export interface PartitionInfo {
  name: string;
  bySize: boolean;
  /** The partitions of a month partitioned by size. */
  children: string[];
}

export type RetentionAction =
  /** DROP TABLE; `rollup`: it holds 1-hour bins, so the rollups of [from, to) go with it. */
  | { kind: 'drop'; table: 'kpi_bins' | 'events'; name: string; from: Date; to: Date; rollup: boolean }
  /** Batched DELETE of one size's rows in [from, before) of a month that holds every size. */
  | { kind: 'delete'; partition: string; size: KpiBinSize; from: Date; before: Date };

/** What a run would do, from the partitions that exist and the cutoffs. Pure. */
export function planRetention(kpiBins: readonly PartitionInfo[], events: readonly PartitionInfo[], cutoffs: RetentionCutoffs): RetentionAction[] {
  const actions: RetentionAction[] = [];
  const byName = (a: PartitionInfo, b: PartitionInfo): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const p of [...kpiBins].sort(byName)) {
    const month = parseMonthPartitionName('kpi_bins', p.name);
    if (!month) continue; // not one of ours: never touched
    const expired = (size: KpiBinSize): boolean => {
      const c = cutoffs.kpi[size];
      return c !== null && month.to <= c;
    };
    if (KPI_BIN_SIZES.every(expired)) {
      actions.push({ kind: 'drop', table: 'kpi_bins', name: p.name, from: month.from, to: month.to, rollup: true });
    } else if (p.bySize) {
      for (const size of KPI_BIN_SIZES) {
        const name = sizePartitionName(month, size);
        if (expired(size) && p.children.includes(name)) actions.push({ kind: 'drop', table: 'kpi_bins', name, from: month.from, to: month.to, rollup: size === '1h' });
      }
    } else {
      for (const size of KPI_BIN_SIZES) {
        const c = cutoffs.kpi[size];
        if (c !== null && month.from < c) actions.push({ kind: 'delete', partition: p.name, size, from: month.from, before: c < month.to ? c : month.to });
      }
    }
  }
  for (const p of [...events].sort(byName)) {
    const month = parseMonthPartitionName('events', p.name);
    if (month && cutoffs.events !== null && month.to <= cutoffs.events) actions.push({ kind: 'drop', table: 'events', name: p.name, from: month.from, to: month.to, rollup: false });
  }
  return actions;
}

export interface RetentionReport {
  /** False: another worker held the retention lock; nothing was done. */
  ran: boolean;
  cutoffs: RetentionCutoffs;
  dropped: { table: 'kpi_bins' | 'events'; name: string; bytes: number }[];
  deleted: { kpi_bins: number; store_hours: number; store_days: number; dead_letters: number };
  /** Partitions (or dead_letters) whose step waited for a lock longer than lock_timeout: tried again next run. */
  lockTimeouts: string[];
  /** Stopped between batches because the worker is stopping. */
  interrupted: boolean;
}

export interface RunRetentionOptions {
  /** Rows per DELETE (config delete_batch_rows). */
  batchRows?: number;
  /** Pause between two DELETE batches, leaving the database to ingest. */
  pauseMs?: number;
  /** How long a partition drop may wait for its lock (and so hold up ingest queued behind it). */
  lockTimeoutMs?: number;
  /** Checked between batches and actions: true ends the run early (it resumes next time). */
  shouldStop?: () => boolean;
  /** Called once the retention lock is held, before any work (tests hold a run there). */
  afterLock?: () => Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const isLockTimeout = (err: unknown): boolean => (err as { code?: unknown }).code === '55P03';

async function monthPartitions(client: pg.ClientBase, table: 'kpi_bins' | 'events'): Promise<PartitionInfo[]> {
  const { rows } = await client.query<{ name: string; relkind: string; children: string[] }>(
    `SELECT c.relname AS name, c.relkind, coalesce(array_agg(s.relname::text) FILTER (WHERE s.relname IS NOT NULL), '{}') AS children
     FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     LEFT JOIN pg_inherits si ON si.inhparent = c.oid LEFT JOIN pg_class s ON s.oid = si.inhrelid
     WHERE i.inhparent = $1::regclass
     GROUP BY c.relname, c.relkind`,
    [table],
  );
  return rows.map((r) => ({ name: r.name, bySize: r.relkind === 'p', children: r.children }));
}

/**
 * One retention run on `client` (a connection of its own: it sets lock_timeout on it and resets it
 * after). Returns ran = false when another worker is running retention. Throws on a database error
 * other than a lock timeout (what was done stays done: every step commits on its own).
 */
export async function runRetention(client: pg.ClientBase, policy: RetentionPolicy, now: number, options: RunRetentionOptions = {}): Promise<RetentionReport> {
  const batchRows = options.batchRows ?? 5000;
  const pauseMs = options.pauseMs ?? 0;
  const shouldStop = options.shouldStop ?? (() => false);
  const cutoffs = retentionCutoffs(policy, now);
  const report: RetentionReport = { ran: false, cutoffs, dropped: [], deleted: { kpi_bins: 0, store_hours: 0, store_days: 0, dead_letters: 0 }, lockTimeouts: [], interrupted: false };
  const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [RETENTION_LOCK]);
  if (!rows[0]?.locked) return report;
  report.ran = true;
  try {
    await client.query(`SET lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs ?? 2000))}`);
    await options.afterLock?.();
    const actions = planRetention(await monthPartitions(client, 'kpi_bins'), await monthPartitions(client, 'events'), cutoffs);
    // A step that waited longer than lock_timeout (a drop behind a long query, a delete behind a row
    // being rewritten) is left for the next run; any other error ends the run.
    const step = async (name: string, work: () => Promise<boolean>): Promise<boolean> => {
      try {
        return await work();
      } catch (err) {
        if (!isLockTimeout(err)) throw err;
        report.lockTimeouts.push(name);
        return true;
      }
    };
    for (const action of actions) {
      const done =
        !shouldStop() &&
        (action.kind === 'drop'
          ? await step(action.name, () => drop(client, action, report).then(() => true))
          : await step(action.partition, () => deleteRows(client, action, report, batchRows, pauseMs, shouldStop)));
      if (!done) {
        report.interrupted = true;
        break;
      }
    }
    const deadLetters = cutoffs.deadLetters;
    if (!report.interrupted && deadLetters !== null) {
      report.interrupted = !(await step('dead_letters', async () => {
        for (;;) {
          if (shouldStop()) return false;
          const r = await client.query('DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE last_seen < $1 LIMIT $2)', [deadLetters, batchRows]);
          report.deleted.dead_letters += r.rowCount ?? 0;
          if ((r.rowCount ?? 0) < batchRows) return true;
          if (pauseMs > 0) await sleep(pauseMs);
        }
      }));
    }
    return report;
  } finally {
    await client.query('RESET lock_timeout').catch(() => undefined);
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [RETENTION_LOCK]).catch(() => undefined);
  }
}

/** Drops one partition (and, when it holds 1-hour bins, the rollups of its month) in one transaction. */
async function drop(client: pg.ClientBase, action: Extract<RetentionAction, { kind: 'drop' }>, report: RetentionReport): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [PARTITIONS_LOCK]);
    // Gone meanwhile (a DBA, or a worker of an older version): nothing to do.
    const exists = await client.query('SELECT 1 FROM pg_class WHERE relname = $1', [action.name]);
    if (exists.rowCount === 0) {
      await client.query('ROLLBACK');
      return;
    }
    const size = await client.query<{ bytes: string }>('SELECT coalesce(sum(pg_total_relation_size(relid)), 0) AS bytes FROM pg_partition_tree($1::regclass)', [action.name]);
    if (action.rollup) {
      // store_hours' hour is its 1-hour bins' bin_from, store_days' day its hours' UTC day: both fall
      // in the bins' month. Deleting hours recomputes their store-days (a trigger), which then go.
      const hours = await client.query('DELETE FROM store_hours WHERE hour >= $1 AND hour < $2', [action.from, action.to]);
      const days = await client.query('DELETE FROM store_days WHERE day >= $1 AND day < $2', [action.from, action.to]);
      report.deleted.store_hours += hours.rowCount ?? 0;
      report.deleted.store_days += days.rowCount ?? 0;
    }
    // Last, so that the exclusive lock on the parent is held only for the commit. The name comes
    // from the catalogue and matched monthPartition's pattern (letters, digits, _).
    await client.query(`DROP TABLE ${pg.escapeIdentifier(action.name)}`);
    await client.query('COMMIT');
    report.dropped.push({ table: action.table, name: action.name, bytes: Number(size.rows[0]?.bytes ?? 0) });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Deletes one size's expired rows of an old mixed month, a batch per statement. Through the parent
 * table, so that the rollup triggers see 1-hour bins go. Returns false when told to stop.
 */
async function deleteRows(
  client: pg.ClientBase,
  action: Extract<RetentionAction, { kind: 'delete' }>,
  report: RetentionReport,
  batchRows: number,
  pauseMs: number,
  shouldStop: () => boolean,
): Promise<boolean> {
  const partition = pg.escapeIdentifier(action.partition);
  for (;;) {
    if (shouldStop()) return false;
    // The inner scan reads the partition's (bin_size, bin_from) index; the outer bounds prune the
    // parent to that partition.
    const r = await client.query(
      `DELETE FROM kpi_bins k
       USING (SELECT store_id, gateway_id, bin_from FROM ${partition} WHERE bin_size = $1 AND bin_from < $2 ORDER BY bin_from LIMIT $4) d
       WHERE k.bin_size = $1 AND k.bin_from >= $3 AND k.bin_from < $2 AND k.store_id = d.store_id AND k.gateway_id = d.gateway_id AND k.bin_from = d.bin_from`,
      [action.size, action.before, action.from, batchRows],
    );
    const n = r.rowCount ?? 0;
    report.deleted.kpi_bins += n;
    if (n < batchRows) break;
    if (pauseMs > 0) await sleep(pauseMs);
  }
  if (action.size === '1h') {
    // The triggers left the emptied hours at bins = 0 (invisible to the analytics) and their days
    // at hours = 0: remove those rows too (an empty index range once done).
    const hours = await client.query('DELETE FROM store_hours WHERE hour >= $1 AND hour < $2 AND bins = 0', [action.from, action.before]);
    const days = await client.query('DELETE FROM store_days WHERE day >= $1 AND day < $2 AND hours = 0', [action.from, action.before]);
    report.deleted.store_hours += hours.rowCount ?? 0;
    report.deleted.store_days += days.rowCount ?? 0;
  }
  return true;
}

export interface RetentionJobOptions {
  config: RetentionConfig;
  /** A new connection of its own for each run (never one of the ingest pool's). */
  connect: () => Promise<pg.Client>;
  log: Logger;
  metrics: CentralMetrics;
  /** Wall clock in ms: the cutoffs are days before it. */
  now: () => number;
  /** After a run dropped partitions (the worker's partition cache must look again). */
  onDropped?: () => void;
  pauseMs?: number;
  lockTimeoutMs?: number;
}

/**
 * Runs retention at start and then every interval, one run at a time, in the background. A failed
 * run is logged and counted, never thrown: the next one tries again.
 */
export class RetentionJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport | undefined> | undefined;
  private stopping = false;
  private first = true;

  constructor(private readonly options: RetentionJobOptions) {}

  /** The first run now, then one every interval_minutes. */
  start(): void {
    if (!this.options.config.enabled) return;
    this.stopping = false;
    void this.runOnce();
  }

  /** Waits for a run in progress to reach its next stopping point; no run starts after. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One run (or the one in progress); resolves with its report, undefined when it failed. Never throws. */
  runOnce(): Promise<RetentionReport | undefined> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
      if (!this.stopping && this.options.config.enabled) {
        clearTimeout(this.timer);
        this.timer = setTimeout(() => void this.runOnce(), this.options.config.interval_minutes * 60_000);
        this.timer.unref();
      }
    });
    return this.running;
  }

  private async run(): Promise<RetentionReport | undefined> {
    const { config, log, metrics } = this.options;
    const started = this.options.now();
    let client: pg.Client | undefined;
    try {
      client = await this.options.connect();
      // An error on an idle connection would otherwise end the process.
      client.on('error', (err) => log.warn({ err: err.message }, 'central: retention connection lost'));
      const report = await runRetention(client, retentionPolicy(config), started, {
        batchRows: config.delete_batch_rows,
        pauseMs: this.options.pauseMs ?? 50,
        lockTimeoutMs: this.options.lockTimeoutMs,
        shouldStop: () => this.stopping,
      });
      this.record(report, started);
      return report;
    } catch (err) {
      metrics.retentionRuns.inc({ result: 'failed' });
      metrics.retentionErrors.inc({ kind: 'database' });
      log.error({ err: (err as Error).message }, 'central: retention run failed; next try in the next interval');
      return undefined;
    } finally {
      this.first = false;
      await client?.end().catch(() => undefined);
    }
  }

  private record(report: RetentionReport, started: number): void {
    const { log, metrics } = this.options;
    if (!report.ran) {
      metrics.retentionRuns.inc({ result: 'skipped' });
      log.debug('central: retention skipped, another worker is running it');
      return;
    }
    metrics.retentionRuns.inc({ result: 'completed' });
    for (const d of report.dropped) metrics.retentionPartitionsDropped.inc({ table: d.table });
    metrics.retentionBytesFreed.inc(report.dropped.reduce((sum, d) => sum + d.bytes, 0));
    for (const [table, n] of Object.entries(report.deleted)) if (n > 0) metrics.retentionRowsDeleted.inc({ table }, n);
    if (report.lockTimeouts.length > 0) metrics.retentionErrors.inc({ kind: 'lock_timeout' }, report.lockTimeouts.length);
    metrics.retentionLastRun.set(this.options.now() / 1000);
    if (report.dropped.length > 0) this.options.onDropped?.();
    const removed = report.dropped.length > 0 || Object.values(report.deleted).some((n) => n > 0);
    const fields = {
      dropped: report.dropped.map((d) => d.name),
      freed_mb: Math.round(report.dropped.reduce((sum, d) => sum + d.bytes, 0) / 1048576),
      deleted: report.deleted,
      lock_timeouts: report.lockTimeouts,
      interrupted: report.interrupted,
      cutoffs: { ...Object.fromEntries(KPI_BIN_SIZES.map((s) => [`kpi_${s}`, report.cutoffs.kpi[s]?.toISOString() ?? 'forever'])), events: report.cutoffs.events?.toISOString() ?? 'forever', dead_letters: report.cutoffs.deadLetters?.toISOString() ?? 'forever' },
      ms: Math.round(this.options.now() - started),
    };
    if (report.lockTimeouts.length > 0) log.warn(fields, 'central: retention waited longer than lock_timeout for some partitions; the next run tries them again');
    else if (removed || this.first) log.info(fields, 'central: retention');
    else log.debug(fields, 'central: retention, nothing to remove');
  }
}
