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
  {
    version: 5,
    name: 'store_days: each store-day\'s open hours as text series, kept from store_hours; the fleet correlation reads it',
    sql: `
      -- The correlation needs every open hour's footfall and sales (Spearman ranks them), and reading
      -- a million store_hours rows was most of its time. One row per store and UTC day holds that
      -- day's open hours (some traffic or a transaction; store-hours whose bins were all deleted are
      -- left out) as two comma-separated lists in hour order, footfall and sales as fleet_store_hours
      -- gives them, paired element by element: a 90-day period reads 24 times fewer rows and appends
      -- ready-made text. A day without open hours keeps its row with hours = 0 (the row is the lock
      -- that orders its recomputations, below). Same byte-order store ids and (day, store) key order
      -- as store_hours.
      CREATE TABLE store_days (
        day      timestamptz NOT NULL,
        store_id text COLLATE "C" NOT NULL,
        hours    integer     NOT NULL,
        traffic  text        NOT NULL,
        sales    text        NOT NULL,
        PRIMARY KEY (day, store_id)
      );
      -- A store-day is recomputed from its own hours: by store, not by hour across all stores.
      CREATE INDEX store_hours_store_hour ON store_hours (store_id, hour);

      -- One store-day's open hours as store_days holds them (hours = 0 and empty lists when none).
      CREATE FUNCTION store_day_series(p_day timestamptz, p_store text, OUT hours integer, OUT traffic text, OUT sales text)
      LANGUAGE sql STABLE AS $fn$
        SELECT count(*)::integer, coalesce(string_agg(h.traffic_in::text, ',' ORDER BY h.hour), ''), coalesce(string_agg(h.sales::text, ',' ORDER BY h.hour), '')
        FROM store_hours h
        WHERE h.store_id = p_store AND h.hour >= p_day AND h.hour < p_day + interval '1 day' AND h.bins > 0 AND (h.traffic_in > 0 OR h.transactions > 0)
      $fn$;

      -- Recomputes the store-days that a statement on store_hours touched, from store_hours itself
      -- (a day's text cannot be patched by a difference, unlike the sums in store_hours). Two writers
      -- touching the same store-day would each recompute it from a snapshot without the other's
      -- uncommitted hours, and the later write would drop the other's hour. So: a store-day without a
      -- row is inserted as computed (a concurrent insert of the same day waits for ours to commit,
      -- then finds the row and takes the path below); an existing row is first locked, in key order,
      -- and only then recomputed, in a new statement whose snapshot sees every writer that held the
      -- lock before. New days are written once (no dead row version per day in a bulk load).
      CREATE FUNCTION store_days_recompute(touched_days timestamptz[], touched_stores text[]) RETURNS void LANGUAGE plpgsql AS $fn$
      DECLARE rest_days timestamptz[]; rest_stores text[];
      BEGIN
        WITH inserted AS (
          INSERT INTO store_days (day, store_id, hours, traffic, sales)
          SELECT t.day, t.store_id, r.hours, r.traffic, r.sales
          FROM unnest(touched_days, touched_stores) AS t(day, store_id) CROSS JOIN LATERAL store_day_series(t.day, t.store_id) r
          ORDER BY 1, 2
          ON CONFLICT (day, store_id) DO NOTHING
          RETURNING day, store_id
        )
        SELECT array_agg(t.day ORDER BY t.day, t.store_id), array_agg(t.store_id ORDER BY t.day, t.store_id) INTO rest_days, rest_stores
        FROM unnest(touched_days, touched_stores) AS t(day, store_id)
        WHERE NOT EXISTS (SELECT 1 FROM inserted i WHERE i.day = t.day AND i.store_id = t.store_id);
        IF rest_days IS NULL THEN
          RETURN;
        END IF;
        PERFORM 1 FROM store_days d JOIN unnest(rest_days, rest_stores) AS t(day, store_id) ON d.day = t.day AND d.store_id = t.store_id
        ORDER BY d.day, d.store_id FOR UPDATE OF d;
        UPDATE store_days d SET hours = r.hours, traffic = r.traffic, sales = r.sales
        FROM unnest(rest_days, rest_stores) AS t(day, store_id) CROSS JOIN LATERAL store_day_series(t.day, t.store_id) r
        WHERE d.day = t.day AND d.store_id = t.store_id;
      END
      $fn$;

      CREATE FUNCTION store_days_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE days timestamptz[]; stores text[];
      BEGIN
        -- Every statement on store_hours fires this, mostly with no rows (ingest batches of 1-minute
        -- bins): those return at once.
        IF TG_OP = 'DELETE' THEN
          SELECT array_agg(k.day ORDER BY k.day, k.store_id), array_agg(k.store_id ORDER BY k.day, k.store_id) INTO days, stores
          FROM (SELECT DISTINCT date_trunc('day', o.hour, 'UTC') AS day, o.store_id FROM old_rows o) k;
        ELSE
          -- An UPDATE never moves a row to another hour or store (the rollup only adds to its sums).
          SELECT array_agg(k.day ORDER BY k.day, k.store_id), array_agg(k.store_id ORDER BY k.day, k.store_id) INTO days, stores
          FROM (SELECT DISTINCT date_trunc('day', n.hour, 'UTC') AS day, n.store_id FROM new_rows n) k;
        END IF;
        IF days IS NOT NULL THEN
          PERFORM store_days_recompute(days, stores);
        END IF;
        RETURN NULL;
      END
      $fn$;
      CREATE TRIGGER store_hours_store_days_insert AFTER INSERT ON store_hours REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION store_days_apply();
      CREATE TRIGGER store_hours_store_days_update AFTER UPDATE ON store_hours REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION store_days_apply();
      CREATE TRIGGER store_hours_store_days_delete AFTER DELETE ON store_hours REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION store_days_apply();
      -- Backfill after the triggers (CREATE TRIGGER locks store_hours against writers until commit),
      -- in one grouped pass rather than a lookup per day. Days with no open hour get their row when
      -- an hour of theirs next changes.
      INSERT INTO store_days (day, store_id, hours, traffic, sales)
      SELECT date_trunc('day', h.hour, 'UTC'), h.store_id, count(*), string_agg(h.traffic_in::text, ',' ORDER BY h.hour), string_agg(h.sales::text, ',' ORDER BY h.hour)
      FROM store_hours h WHERE h.bins > 0 AND (h.traffic_in > 0 OR h.transactions > 0) GROUP BY 1, 2;

      -- Per store over its open hours in [p_from, p_to): their number and the two hourly series as
      -- comma-separated text, paired element by element (both aggregated from the same rows in the
      -- same order). Whole UTC days inside the period come from store_days; the partial days at
      -- either end from store_hours, as two hour ranges (index range scans, disjoint: before the
      -- first whole day, and from the end of the last one). The fleet API computes Pearson and
      -- Spearman from the series (fleetQueries.ts); fleet_footfall_sales_correlation stays the SQL
      -- reference.
      CREATE FUNCTION fleet_store_day_series(p_from timestamptz, p_to timestamptz)
      RETURNS TABLE (store_id text, hours integer, traffic text, sales text)
      LANGUAGE sql STABLE SET work_mem = '64MB' AS $fn$
        WITH b AS MATERIALIZED (
          SELECT f.first_day, greatest(f.first_day, date_trunc('day', p_to, 'UTC')) AS end_day
          FROM (SELECT CASE WHEN date_trunc('day', p_from, 'UTC') = p_from THEN p_from ELSE date_trunc('day', p_from, 'UTC') + interval '1 day' END AS first_day) f
        ), parts AS (
          SELECT d.store_id, d.hours, d.traffic, d.sales FROM b, store_days d WHERE d.day >= b.first_day AND d.day < b.end_day AND d.hours > 0
          UNION ALL
          SELECT h.store_id, 1, h.traffic_in::text, h.sales::text FROM b, store_hours h
          WHERE h.hour >= p_from AND h.hour < least(b.first_day, p_to) AND h.bins > 0 AND (h.traffic_in > 0 OR h.transactions > 0)
          UNION ALL
          SELECT h.store_id, 1, h.traffic_in::text, h.sales::text FROM b, store_hours h
          WHERE h.hour >= b.end_day AND h.hour < p_to AND h.bins > 0 AND (h.traffic_in > 0 OR h.transactions > 0)
        )
        SELECT p.store_id, sum(p.hours)::integer, string_agg(p.traffic, ','), string_agg(p.sales, ',')
        FROM parts p GROUP BY p.store_id ORDER BY p.store_id
      $fn$;
    `,
  },
  {
    version: 6,
    name: 'change annotations (topic annotations) from the gateways, with tombstones',
    sql: `
      -- Operational notes a gateway's users wrote ("display moved", "promo start"), for before/after
      -- comparisons across stores (fleet impact API). Keyed as the gateway numbers them: per gateway
      -- and per database file (source; a replaced file numbers from 1 again). Not partitioned: a
      -- handful of rows per store and month.
      -- A removal on the gateway arrives as a tombstone: the row stays, with deleted_at set and the
      -- note's content cleared (deleted means central no longer holds what it said), so that the
      -- annotation arriving after its tombstone (two workers, two batches) cannot bring it back.
      CREATE TABLE annotations (
        store_id      text        NOT NULL,
        gateway_id    text        NOT NULL,
        source        text        NOT NULL,
        annotation_id bigint      NOT NULL,
        ts            timestamptz,
        text          text,
        subject       text,
        created_at    timestamptz,
        deleted_at    timestamptz,
        key           text        NOT NULL,
        seq           bigint      NOT NULL,
        queued_at     timestamptz NOT NULL,
        ingested_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (store_id, gateway_id, source, annotation_id),
        CHECK (deleted_at IS NOT NULL OR (ts IS NOT NULL AND text IS NOT NULL AND created_at IS NOT NULL))
      );
      -- The impact API and the dashboard look annotations up by time.
      CREATE INDEX annotations_live_ts ON annotations (ts) WHERE deleted_at IS NULL;
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
