/**
 * Central's PostgreSQL schema as numbered migrations, applied in order and recorded in
 * `schema_migrations`. Several workers may start at once: the whole run holds a transaction-level
 * advisory lock, so exactly one applies what is missing and the others then find nothing to do.
 * A database newer than this code is refused rather than written with an older idea of the schema.
 */
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events, KPI bins partitioned by month; gateways; dead letters',
    sql: `
      CREATE TABLE events (
        store_id    text        NOT NULL,
        gateway_id  text        NOT NULL,
        key         text        NOT NULL,
        seq         bigint      NOT NULL,
        type        text        NOT NULL,
        time        timestamptz NOT NULL,
        queued_at   timestamptz NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now(),
        data        jsonb       NOT NULL,
        -- A unique index on a partitioned table must contain the partition key. A re-delivery is
        -- byte-identical, so it carries the same time and meets its original in the same partition.
        PRIMARY KEY (key, time)
      ) PARTITION BY RANGE (time);
      CREATE INDEX events_store_time ON events (store_id, time);

      CREATE TABLE kpi_bins (
        store_id     text        NOT NULL,
        gateway_id   text        NOT NULL,
        bin_size     text        NOT NULL CHECK (bin_size IN ('1m', '15m', '1h', '1d')),
        bin_from     timestamptz NOT NULL,
        bin_to       timestamptz NOT NULL,
        time_zone    text        NOT NULL,
        revision     integer     NOT NULL,
        key          text        NOT NULL,
        seq          bigint      NOT NULL,
        queued_at    timestamptz NOT NULL,
        ingested_at  timestamptz NOT NULL DEFAULT now(),
        traffic_in   integer     NOT NULL,
        traffic_out  integer     NOT NULL,
        transactions integer     NOT NULL,
        sales        double precision NOT NULL,
        kpis         jsonb       NOT NULL,
        PRIMARY KEY (store_id, gateway_id, bin_size, bin_from)
      ) PARTITION BY RANGE (bin_from);

      CREATE TABLE gateways (
        store_id        text NOT NULL,
        gateway_id      text NOT NULL,
        state           text CHECK (state IN ('online', 'offline')),
        state_reason    text,
        state_at        timestamptz,
        last_seq        bigint,
        last_queued_at  timestamptz,
        last_message_at timestamptz,
        PRIMARY KEY (store_id, gateway_id)
      );

      CREATE TABLE dead_letters (
        id         bigserial   PRIMARY KEY,
        digest     bytea       NOT NULL UNIQUE,
        topic      text        NOT NULL,
        payload    bytea       NOT NULL,
        reason     text        NOT NULL,
        first_seen timestamptz NOT NULL,
        last_seen  timestamptz NOT NULL,
        deliveries integer     NOT NULL
      );

      -- The fleet view: delivery lag is how far behind real time the gateway's newest message was
      -- when it arrived (a gateway emptying its outbox after an outage shows a large lag).
      CREATE VIEW fleet_gateways AS
        SELECT store_id, gateway_id, state, state_reason, state_at, last_message_at, last_seq,
               extract(epoch FROM last_message_at - last_queued_at)::double precision AS delivery_lag_s
        FROM gateways;
    `,
  },
  {
    version: 2,
    name: 'fleet analytics: hourly footfall and sales per store, their correlation, stores ranked by conversion',
    sql: `
      -- The analytics read the gateways' 1-hour bins: one row per store and hour instead of sixty.
      -- Covering, so that they are answered from the index alone.
      CREATE INDEX kpi_bins_size_from ON kpi_bins (bin_size, bin_from) INCLUDE (store_id, traffic_in, transactions, sales);

      -- Footfall and sales per store and hour in [p_from, p_to). A store with several gateways gets
      -- their sum: each gateway counts its own entrances and tills.
      CREATE FUNCTION fleet_store_hours(p_from timestamptz, p_to timestamptz)
      RETURNS TABLE (store_id text, hour timestamptz, traffic_in bigint, transactions bigint, sales double precision)
      LANGUAGE sql STABLE AS $fn$
        SELECT k.store_id, k.bin_from, sum(k.traffic_in)::bigint, sum(k.transactions)::bigint, sum(k.sales)
        FROM kpi_bins k
        WHERE k.bin_size = '1h' AND k.bin_from >= p_from AND k.bin_from < p_to
        GROUP BY k.store_id, k.bin_from
      $fn$;

      -- Per store, how hourly footfall and hourly sales move together, over the hours the store was
      -- open (some traffic or a sale: closed hours pair zero with zero and would inflate the figure).
      -- Pearson on the values; Spearman is Pearson on ranks, ties sharing their mean rank. NULL when a
      -- store has fewer than two open hours or no variation. \`hours\` says how much data each rests on.
      CREATE FUNCTION fleet_footfall_sales_correlation(p_from timestamptz, p_to timestamptz)
      RETURNS TABLE (store_id text, hours integer, pearson double precision, spearman double precision)
      LANGUAGE sql STABLE
      -- The ranking sorts every store-hour of the period; in memory, not spilled to disk.
      SET work_mem = '128MB'
      AS $fn$
        WITH open_hours AS (
          -- Byte order for the store ids (plain identifiers): the window sorts compare them a million
          -- times, and the locale's collation made the query a third slower (measured).
          SELECT h.store_id COLLATE "C" AS store_id, h.traffic_in, h.sales FROM fleet_store_hours(p_from, p_to) h WHERE h.traffic_in > 0 OR h.transactions > 0
        ), ranked AS (
          -- Mean rank of a value = (its rank + how many values are <= it) / 2: ties share the mean of
          -- the ranks they span. Both come from one sort per variable (count(*) over an ordered
          -- window counts the row's peers too).
          SELECT o.store_id, o.traffic_in, o.sales,
                 (rank() OVER by_traffic + count(*) OVER by_traffic) / 2.0 AS traffic_rank,
                 (rank() OVER by_sales + count(*) OVER by_sales) / 2.0 AS sales_rank
          FROM open_hours o
          WINDOW by_traffic AS (PARTITION BY o.store_id ORDER BY o.traffic_in),
                 by_sales AS (PARTITION BY o.store_id ORDER BY o.sales)
        )
        SELECT r.store_id::text, count(*)::integer, corr(r.traffic_in, r.sales), corr(r.traffic_rank::double precision, r.sales_rank::double precision)
        FROM ranked r GROUP BY r.store_id ORDER BY r.store_id
      $fn$;

      -- Stores ranked by conversion (transactions per visitor) over [p_from, p_to), with the traffic
      -- it rests on; a store without traffic has no conversion and comes last.
      CREATE FUNCTION fleet_conversion_ranking(p_from timestamptz, p_to timestamptz)
      RETURNS TABLE (rank bigint, store_id text, traffic_in bigint, transactions bigint, sales double precision,
                     conversion double precision, sales_per_visitor double precision)
      LANGUAGE sql STABLE AS $fn$
        SELECT rank() OVER (ORDER BY t.conversion DESC NULLS LAST), t.store_id, t.traffic_in, t.transactions, t.sales, t.conversion, t.sales_per_visitor
        FROM (
          SELECT h.store_id, sum(h.traffic_in)::bigint AS traffic_in, sum(h.transactions)::bigint AS transactions, sum(h.sales) AS sales,
                 sum(h.transactions)::double precision / nullif(sum(h.traffic_in), 0) AS conversion,
                 sum(h.sales) / nullif(sum(h.traffic_in), 0) AS sales_per_visitor
          FROM fleet_store_hours(p_from, p_to) h GROUP BY h.store_id
        ) t
        ORDER BY 1, 2
      $fn$;
    `,
  },
  {
    version: 3,
    name: 'journey aggregates (topic journeys/<bin>), partitioned by month',
    sql: `
      -- Final when sent (the gateway publishes a bin once its journeys are complete): the first copy
      -- of a bin is kept, a re-delivery changes nothing.
      CREATE TABLE journey_bins (
        store_id    text        NOT NULL,
        gateway_id  text        NOT NULL,
        bin_size    text        NOT NULL CHECK (bin_size IN ('15m', '1h', '1d')),
        bin_from    timestamptz NOT NULL,
        bin_to      timestamptz NOT NULL,
        time_zone   text        NOT NULL,
        key         text        NOT NULL,
        seq         bigint      NOT NULL,
        queued_at   timestamptz NOT NULL,
        ingested_at timestamptz NOT NULL DEFAULT now(),
        journeys    integer     NOT NULL,
        report      jsonb       NOT NULL,
        PRIMARY KEY (store_id, gateway_id, bin_size, bin_from)
      ) PARTITION BY RANGE (bin_from);
    `,
  },
  {
    version: 4,
    name: 'store_hours: footfall and sales per store and hour, kept by the ingest transaction; fleet analytics read it',
    sql: `
      -- One row per store and hour: the sum of its gateways' 1-hour KPI bins. Kept up to date by the
      -- statement triggers below, in the transaction that writes kpi_bins, so it is never stale and
      -- never ahead of the bins (a materialized view would be a full recomputation of every hour on
      -- each refresh and stale in between; this costs one grouped upsert per ingest batch).
      -- Ordered by hour first: analytics ask for a period across all stores. Store ids compare as
      -- bytes (plain identifiers; the locale's collation made the sorts a third slower, measured).
      -- Sales are numeric: the row is updated by differences (a revision replaces a bin), and
      -- floating-point differences would drift from the bins' sum over many revisions.
      CREATE TABLE store_hours (
        hour         timestamptz NOT NULL,
        store_id     text COLLATE "C" NOT NULL,
        bins         integer     NOT NULL,
        traffic_in   bigint      NOT NULL,
        traffic_out  bigint      NOT NULL,
        transactions bigint      NOT NULL,
        sales        numeric     NOT NULL,
        PRIMARY KEY (hour, store_id)
      );

      -- Adds (sign 1) or removes (sign -1) a set of kpi_bins rows. Grouped and sorted by
      -- (hour, store_id), so two workers updating overlapping hours lock the rows in the same order.
      -- A statement trigger with transition tables: one upsert per ingest statement, not one per row.
      CREATE FUNCTION store_hours_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
          INSERT INTO store_hours AS h (hour, store_id, bins, traffic_in, traffic_out, transactions, sales)
          SELECT o.bin_from, o.store_id, -count(*), -sum(o.traffic_in), -sum(o.traffic_out), -sum(o.transactions), -sum(o.sales::numeric)
          FROM old_rows o WHERE o.bin_size = '1h' GROUP BY o.bin_from, o.store_id ORDER BY 1, 2
          ON CONFLICT (hour, store_id) DO UPDATE SET bins = h.bins + EXCLUDED.bins, traffic_in = h.traffic_in + EXCLUDED.traffic_in,
            traffic_out = h.traffic_out + EXCLUDED.traffic_out, transactions = h.transactions + EXCLUDED.transactions, sales = h.sales + EXCLUDED.sales;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
          INSERT INTO store_hours AS h (hour, store_id, bins, traffic_in, traffic_out, transactions, sales)
          SELECT n.bin_from, n.store_id, count(*), sum(n.traffic_in), sum(n.traffic_out), sum(n.transactions), sum(n.sales::numeric)
          FROM new_rows n WHERE n.bin_size = '1h' GROUP BY n.bin_from, n.store_id ORDER BY 1, 2
          ON CONFLICT (hour, store_id) DO UPDATE SET bins = h.bins + EXCLUDED.bins, traffic_in = h.traffic_in + EXCLUDED.traffic_in,
            traffic_out = h.traffic_out + EXCLUDED.traffic_out, transactions = h.transactions + EXCLUDED.transactions, sales = h.sales + EXCLUDED.sales;
        END IF;
        RETURN NULL;
      END
      $fn$;
      -- Triggers first, then the backfill: CREATE TRIGGER locks kpi_bins against writers until this
      -- migration commits, so no bin slips between the backfill and the triggers.
      -- (INSERT … ON CONFLICT DO UPDATE fires the INSERT trigger for its new rows and the UPDATE
      -- trigger, old and new, for the bins it replaced by a higher revision.)
      CREATE TRIGGER kpi_bins_store_hours_insert AFTER INSERT ON kpi_bins REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION store_hours_apply();
      CREATE TRIGGER kpi_bins_store_hours_update AFTER UPDATE ON kpi_bins REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION store_hours_apply();
      CREATE TRIGGER kpi_bins_store_hours_delete AFTER DELETE ON kpi_bins REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION store_hours_apply();
      INSERT INTO store_hours (hour, store_id, bins, traffic_in, traffic_out, transactions, sales)
      SELECT bin_from, store_id, count(*), sum(traffic_in), sum(traffic_out), sum(transactions), sum(sales::numeric)
      FROM kpi_bins WHERE bin_size = '1h' GROUP BY bin_from, store_id;

      -- The analytics now read the rollup: no grouping of gateways' bins at query time. Same
      -- signatures and results as migration 2's versions.
      CREATE OR REPLACE FUNCTION fleet_store_hours(p_from timestamptz, p_to timestamptz)
      RETURNS TABLE (store_id text, hour timestamptz, traffic_in bigint, transactions bigint, sales double precision)
      LANGUAGE sql STABLE AS $fn$
        SELECT h.store_id, h.hour, h.traffic_in, h.transactions, h.sales::double precision
        -- bins = 0: every bin of that store-hour was deleted since; the raw aggregation has no row.
        FROM store_hours h WHERE h.hour >= p_from AND h.hour < p_to AND h.bins > 0
      $fn$;

      -- Per store over its open hours in [p_from, p_to): their number, Pearson's r of footfall and
      -- sales, and the two hourly series as comma-separated text (aggregated from the same rows in the
      -- same order, so they pair up hour by hour). The fleet API ranks them for Spearman in Node
      -- (src/central/rankCorrelation.ts says why). One hash aggregation, no sort of the hours; its
      -- states hold every value of the period, in memory rather than spilled to disk.
      CREATE FUNCTION fleet_store_series(p_from timestamptz, p_to timestamptz)
      RETURNS TABLE (store_id text, hours integer, pearson double precision, traffic text, sales text)
      LANGUAGE sql STABLE SET work_mem = '64MB' AS $fn$
        SELECT h.store_id, count(*)::integer, corr(h.traffic_in, h.sales::double precision),
               string_agg(h.traffic_in::text, ','), string_agg(h.sales::text, ',')
        FROM store_hours h
        WHERE h.hour >= p_from AND h.hour < p_to AND h.bins > 0 AND (h.traffic_in > 0 OR h.transactions > 0)
        GROUP BY h.store_id ORDER BY h.store_id
      $fn$;

      -- Recomputes the rollup of [p_from, p_to) from kpi_bins (after detaching or repairing
      -- partitions by hand, which fires no trigger). Returns the rows written.
      CREATE FUNCTION store_hours_rebuild(p_from timestamptz, p_to timestamptz) RETURNS bigint LANGUAGE plpgsql AS $fn$
      DECLARE written bigint;
      BEGIN
        DELETE FROM store_hours WHERE hour >= p_from AND hour < p_to;
        INSERT INTO store_hours (hour, store_id, bins, traffic_in, traffic_out, transactions, sales)
        SELECT bin_from, store_id, count(*), sum(traffic_in), sum(traffic_out), sum(transactions), sum(sales::numeric)
        FROM kpi_bins WHERE bin_size = '1h' AND bin_from >= p_from AND bin_from < p_to GROUP BY bin_from, store_id;
        GET DIAGNOSTICS written = ROW_COUNT;
        RETURN written;
      END
      $fn$;
    `,
  },
];

/** Every version from 1 up, none missing: a hole would mean a lost migration in a merge. */
export function checkMigrationNumbering(migrations: readonly Migration[]): string[] {
  return migrations.flatMap((m, i) => (m.version === i + 1 ? [] : [`migration #${i + 1} has version ${m.version}, want ${i + 1}`]));
}

const LOCK_NAME = 'storepulse-central-migrations';

/** Applies the missing migrations; returns the versions it applied (none when up to date). */
export async function migrate(client: pg.ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const problems = checkMigrationNumbering(migrations);
  if (problems.length > 0) throw new Error(`central migrations are misnumbered: ${problems.join('; ')}`);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [LOCK_NAME]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    const done = new Set(rows.map((r) => r.version));
    const newest = rows.at(-1)?.version ?? 0;
    const known = migrations.at(-1)?.version ?? 0;
    if (newest > known) throw new Error(`the database's schema is version ${newest}, newer than this storepulse knows (${known}): upgrade storepulse`);
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
