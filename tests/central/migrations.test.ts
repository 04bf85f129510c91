/** Central's numbered migrations on a real PostgreSQL: applied once even when workers start together, and a newer schema is refused. */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { planBatch } from '../../src/central/batchPlan.js';
import { writeBatch } from '../../src/central/batchWriter.js';
import { checkMigrationNumbering, migrate, MIGRATIONS } from '../../src/central/migrations.js';
import { PartitionKeeper } from '../../src/central/monthPartitions.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';
import { sql } from './centralHarness.js';
import { journeysPublication } from './journeysSample.js';

async function withClient<T>(url: string, use: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

describe('migration numbering', () => {
  it('is 1, 2, 3… with no hole', () => {
    expect(checkMigrationNumbering(MIGRATIONS)).toEqual([]);
    expect(checkMigrationNumbering([{ version: 1, name: 'a', sql: '' }, { version: 3, name: 'b', sql: '' }])).toEqual(['migration #2 has version 3, want 2']);
  });
});

describe.skipIf(postgresUnavailable() !== undefined)('central migrations (real PostgreSQL)', () => {
  const postgres = usePostgres();

  it('four workers starting at once: the schema is made once, the others find nothing to do', async () => {
    const url = await postgres().createDatabase('migrate_race');
    const applied = await Promise.all(Array.from({ length: 4 }, () => withClient(url, (c) => migrate(c))));
    expect(applied.filter((a) => a.length > 0)).toEqual([MIGRATIONS.map((m) => m.version)]);
    expect(await sql(url, 'SELECT version, name FROM schema_migrations')).toEqual(MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    const tables = await sql<{ relname: string; relkind: string }>(url, "SELECT relname, relkind FROM pg_class WHERE relname IN ('events', 'kpi_bins', 'journey_bins', 'gateways', 'dead_letters') ORDER BY relname");
    expect(tables).toEqual([
      { relname: 'dead_letters', relkind: 'r' },
      { relname: 'events', relkind: 'p' },
      { relname: 'gateways', relkind: 'r' },
      { relname: 'journey_bins', relkind: 'p' },
      { relname: 'kpi_bins', relkind: 'p' },
    ]);
  });

  it('refuses a database migrated by a newer storepulse, and changes nothing', async () => {
    const url = await postgres().createDatabase('migrate_newer');
    await withClient(url, (c) => migrate(c));
    await sql(url, "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
    await expect(withClient(url, (c) => migrate(c))).rejects.toThrow(new RegExp(`schema is version 99, newer than this storepulse knows \\(${MIGRATIONS.length}\\)`));
    const extra = { version: MIGRATIONS.length + 1, name: 'next', sql: 'CREATE TABLE should_not_exist (x int)' };
    await expect(withClient(url, (c) => migrate(c, [...MIGRATIONS, extra]))).rejects.toThrow(/version 99/);
    expect(await sql(url, "SELECT 1 FROM pg_class WHERE relname = 'should_not_exist'")).toEqual([]);
  });

  it('journey bins land once, in their monthly partition', async () => {
    const url = await postgres().createDatabase('journeys_once');
    const from = Date.UTC(2026, 11, 2, 9, 0);
    const message = journeysPublication({ storeId: 'store-001', gatewayId: 'gw-001' }, 7, from);
    const received = { topic: message.topic, payload: Buffer.from(message.payload), receivedAt: from + 4_000_000 };
    const keeper = new PartitionKeeper();
    const results = await withClient(url, async (c) => {
      await migrate(c);
      return [await writeBatch(c, planBatch([received], 'storepulse', from + 4_000_000), keeper), await writeBatch(c, planBatch([received], 'storepulse', from + 4_000_000), keeper)];
    });
    expect(results.map((r) => r.journeyBinsInserted)).toEqual([1, 0]);
    expect(await sql(url, "SELECT tableoid::regclass::text AS part, journeys, report->'other_paths' AS other FROM journey_bins")).toEqual([
      { part: 'journey_bins_y2026m12', journeys: 12, other: { paths: 2, journeys: 7 } },
    ]);
  });

  it('a failing migration leaves nothing half-applied', async () => {
    const url = await postgres().createDatabase('migrate_fail');
    const broken = [...MIGRATIONS, { version: MIGRATIONS.length + 1, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT no_such_function();' }];
    await expect(withClient(url, (c) => migrate(c, broken))).rejects.toThrow(/no_such_function/);
    expect(await sql(url, "SELECT 1 FROM pg_class WHERE relname IN ('half_done', 'events')")).toEqual([]);
  });
});
