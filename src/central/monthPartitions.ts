/**
 * Monthly partitions (UTC months) of the partitioned tables, created when the first row of a month
 * arrives. Old months can then be detached or dropped whole, and queries over a period only read its
 * months. Creation runs in its own short transaction under an advisory lock, so two workers meeting
 * a new month at once do not race on CREATE TABLE.
 */
import type pg from 'pg';

export type PartitionedTable = 'events' | 'kpi_bins' | 'journey_bins';

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

const LOCK_NAME = 'storepulse-central-partitions';

/** Remembers the partitions this process has made sure of, so that the common case costs nothing. */
export class PartitionKeeper {
  private readonly known = new Set<string>();

  /** Creates the missing partitions of `table` for the months starting at `months` (UTC). */
  async ensure(client: pg.ClientBase, table: PartitionedTable, months: readonly Date[]): Promise<string[]> {
    const missing = months.map((m) => monthPartition(table, m)).filter((p) => !this.known.has(p.name));
    if (missing.length === 0) return [];
    const created: string[] = [];
    await client.query('BEGIN');
    try {
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_NAME]);
      for (const p of missing) {
        const exists = await client.query('SELECT 1 FROM pg_class WHERE relname = $1 AND relkind = $2', [p.name, 'r']);
        if (exists.rowCount === 0) {
          // Identifiers and bounds come from monthPartition (a fixed table name and digits), never from a message.
          await client.query(`CREATE TABLE ${p.name} PARTITION OF ${table} FOR VALUES FROM ('${p.from.toISOString()}') TO ('${p.to.toISOString()}')`);
          created.push(p.name);
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
