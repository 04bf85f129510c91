/**
 * Monthly partitions (UTC months) of the partitioned tables, created when the first row of a month
 * arrives. Old months can then be detached or dropped whole, and queries over a period only read its
 * months. Creation runs in its own short transaction under an advisory lock, so two workers meeting
 * a new month at once do not race on CREATE TABLE.
 *
 * A month of `kpi_bins` is itself partitioned by bin size (LIST on bin_size): `kpi_bins_y2026m12`
 * holds `kpi_bins_y2026m12_1m`, `_15m`, `_1h` and `_1d`. The sizes are kept for different times
 * (retention.ts): 1-minute bins are ~97 % of the rows and go after weeks, hourly and daily bins stay
 * for years. With a size per partition, a month of 1-minute bins is removed by dropping one table
 * (no dead rows, no vacuum, its disk space returned at once) instead of deleting ~21 million rows out
 * of a table whose hourly rows stay, which would leave the file as large as before. Months created by
 * earlier versions (one plain table for all sizes) stay as they are; retention deletes their expired
 * rows in batches.
 */
import type pg from 'pg';

export type PartitionedTable = 'events' | 'kpi_bins' | 'journey_bins';

/** kpi_bins.bin_size's values (its CHECK constraint): one sub-partition each per month. */
export const KPI_BIN_SIZES = ['1m', '15m', '1h', '1d'] as const;
export type KpiBinSize = (typeof KPI_BIN_SIZES)[number];

export interface MonthPartition {
  name: string;
  /** Inclusive, the first instant of the month (UTC). */
  from: Date;
  /** Exclusive, the first instant of the next month. */
  to: Date;
}

export function monthPartition(table: PartitionedTable, instant: Date): MonthPartition {
  const year = instant.getUTCFullYear();
  const month = instant.getUTCMonth();
  return {
    name: `${table}_y${year}m${String(month + 1).padStart(2, '0')}`,
    from: new Date(Date.UTC(year, month, 1)),
    to: new Date(Date.UTC(year, month + 1, 1)),
  };
}

/** The partition of one bin size in a month of kpi_bins (`kpi_bins_y2026m12_1m`). */
export const sizePartitionName = (month: MonthPartition, size: KpiBinSize): string => `${month.name}_${size}`;

/** A month partition's name back to its month, or undefined for a name this code does not make. */
export function parseMonthPartitionName(table: PartitionedTable, name: string): MonthPartition | undefined {
  const m = new RegExp(`^${table}_y(\\d{4})m(\\d{2})$`).exec(name);
  if (!m) return undefined;
  const month = Number(m[2]);
  if (month < 1 || month > 12) return undefined;
  return monthPartition(table, new Date(Date.UTC(Number(m[1]), month - 1, 1)));
}

/** Serialises creating partitions (here) and dropping them (retention.ts) across workers. */
export const PARTITIONS_LOCK = 'storepulse-central-partitions';

/** Remembers the partitions this process has made sure of, so that the common case costs nothing. */
export class PartitionKeeper {
  private readonly known = new Set<string>();

  /**
   * Forgets what it has made sure of, so that the next write checks the catalogue again: after
   * retention dropped partitions, a late row of such a month finds its partition re-created.
   */
  forget(): void {
    this.known.clear();
  }

  /** Creates the missing partitions of `table` for the months starting at `months` (UTC). */
  async ensure(client: pg.ClientBase, table: PartitionedTable, months: readonly Date[]): Promise<string[]> {
    const missing = months.map((m) => monthPartition(table, m)).filter((p) => !this.known.has(p.name));
    if (missing.length === 0) return [];
    const created: string[] = [];
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [PARTITIONS_LOCK]);
      for (const p of missing) {
        // Identifiers and bounds come from monthPartition (a fixed table name and digits), never from a message.
        const exists = await client.query<{ relkind: string }>("SELECT relkind FROM pg_class WHERE relname = $1 AND relkind IN ('r', 'p')", [p.name]);
        const bounds = `FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`;
        if (exists.rowCount === 0) {
          await client.query(`CREATE TABLE ${p.name} PARTITION OF ${table} ${bounds}${table === 'kpi_bins' ? ' PARTITION BY LIST (bin_size)' : ''}`);
          created.push(p.name);
        }
        // A month made by this version (or just now) has a partition per bin size; one that
        // retention dropped comes back when a late bin of that size and month arrives.
        if (table === 'kpi_bins' && (exists.rowCount === 0 || exists.rows[0]!.relkind === 'p')) {
          const present = await client.query<{ relname: string }>('SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = $1::regclass', [p.name]);
          const names = new Set(present.rows.map((r) => r.relname));
          for (const size of KPI_BIN_SIZES) {
            const name = sizePartitionName(p, size);
            if (names.has(name)) continue;
            await client.query(`CREATE TABLE ${name} PARTITION OF ${p.name} FOR VALUES IN ('${size}')`);
            created.push(name);
          }
        }
      }
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
    for (const p of missing) this.known.add(p.name);
    return created;
  }
}
