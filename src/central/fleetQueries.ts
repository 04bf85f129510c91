/**
 * The fleet views the REST API serves, read from PostgreSQL (functions of migrations 2 and 5 over the
 * store_hours and store_days rollups of migrations 4 and 5). Numbers come
 * back as numbers (PostgreSQL's bigint arrives as a string from pg: converted here, once).
 */
import type pg from 'pg';
import { parseSeries, pearson, spearman } from './rankCorrelation.js';

export interface FleetGateway {
  store_id: string;
  gateway_id: string;
  state: 'online' | 'offline' | null;
  state_reason: string | null;
  state_at: string | null;
  last_message_at: string | null;
  last_seq: number | null;
  delivery_lag_s: number | null;
}

export interface StoreCorrelation {
  store_id: string;
  hours: number;
  pearson: number | null;
  spearman: number | null;
}

export interface StoreConversion {
  rank: number;
  store_id: string;
  traffic_in: number;
  transactions: number;
  sales: number;
  conversion: number | null;
  sales_per_visitor: number | null;
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);
const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

export async function fleetGateways(db: pg.Pool): Promise<FleetGateway[]> {
  const { rows } = await db.query<{
    store_id: string;
    gateway_id: string;
    state: 'online' | 'offline' | null;
    state_reason: string | null;
    state_at: Date | null;
    last_message_at: Date | null;
    last_seq: string | null;
    delivery_lag_s: number | null;
  }>('SELECT * FROM fleet_gateways ORDER BY store_id, gateway_id');
  return rows.map((r) => ({ ...r, state_at: iso(r.state_at), last_message_at: iso(r.last_message_at), last_seq: num(r.last_seq) }));
}

/**
 * Per store, Pearson and Spearman correlation of hourly footfall with hourly sales over the hours it
 * was open: the same figures as the SQL function fleet_footfall_sales_correlation (the tests compare
 * them), computed faster. PostgreSQL returns per store its open hours' two series as text
 * (fleet_store_day_series: the store_days rollup of migration 5 for whole days, one row per store and
 * day, so a 90-day period reads 45,000 rows rather than a million); both coefficients are computed
 * here (rankCorrelation.ts). The two series pair up hour by hour.
 */
export async function footfallSalesCorrelation(db: pg.Pool | pg.ClientBase, from: Date, to: Date): Promise<StoreCorrelation[]> {
  const { rows } = await db.query<{ store_id: string; hours: number; traffic: string; sales: string }>('SELECT * FROM fleet_store_day_series($1, $2)', [from, to]);
  return rows.map((r) => {
    const traffic = parseSeries(r.traffic, r.hours);
    const sales = parseSeries(r.sales, r.hours);
    return { store_id: r.store_id, hours: r.hours, pearson: pearson(traffic, sales), spearman: spearman(traffic, sales) };
  });
}

export async function conversionRanking(db: pg.Pool, from: Date, to: Date): Promise<StoreConversion[]> {
  const { rows } = await db.query<{ rank: string; store_id: string; traffic_in: string; transactions: string; sales: number; conversion: number | null; sales_per_visitor: number | null }>(
    'SELECT * FROM fleet_conversion_ranking($1, $2)',
    [from, to],
  );
  return rows.map((r) => ({ ...r, rank: Number(r.rank), traffic_in: Number(r.traffic_in), transactions: Number(r.transactions) }));
}
