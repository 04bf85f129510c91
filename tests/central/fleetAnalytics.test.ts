/**
 * Footfall against sales across the fleet, from what central ingested: hourly traffic and sales per
 * store, their Pearson and Spearman correlation with the number of hours used, and the stores ranked
 * by conversion — computed by PostgreSQL and checked against a reference computed in the test from
 * what the simulated gateways sent.
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { publications, simulatedFleet, simulateGateway } from '../../src/central/fleetSimulation.js';
import { until } from '../helpers/gatewayHarness.js';
import { hasMosquitto } from '../helpers/mosquitto.js';
import { useMosquitto } from '../helpers/mosquittoSuite.js';
import { postgresUnavailable, usePostgres } from '../helpers/postgres.js';
import { sql, startWorker, workerConfig } from './centralHarness.js';
import { averageRanks, pearson, spearman } from './statistics.js';

const START = Date.UTC(2026, 10, 9, 6, 0);
const HOURS = 8;

describe('reference statistics', () => {
  it('average ranks share ties; Pearson and Spearman on known values', () => {
    expect(averageRanks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
    // Monotonic but not linear: Spearman 1, Pearson below 1.
    expect(spearman([1, 2, 3, 4], [1, 4, 9, 100])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [1, 4, 9, 100])!).toBeLessThan(0.9);
  });
});

describe.skipIf(postgresUnavailable() !== undefined || !hasMosquitto())('fleet analytics in PostgreSQL', () => {
  const broker = useMosquitto();
  const postgres = usePostgres();

  it('correlation of hourly footfall with sales per store, and stores ranked by conversion, as the gateways counted them', async () => {
    const databaseUrl = await postgres().createDatabase('fleet_analytics');
    const fleet = simulatedFleet(3).map((gw, i) => ({ gw, traffic: simulateGateway(gw, { start: START, minutes: HOURS * 60, seed: 100 + i, hourly: true }) }));
    const messages = fleet.flatMap(({ gw, traffic }) => publications(gw, traffic.messages, START));
    const { worker } = await startWorker(workerConfig({ brokerUrl: broker().url, databaseUrl, clientId: 'analytics', group: 'analytics' }));
    const publisher = await mqtt.connectAsync(broker().url, { clientId: 'analytics-fleet', protocolVersion: 5 });
    await Promise.all(messages.map((m) => publisher.publishAsync(m.topic, m.payload, { qos: 1 })));
    await publisher.endAsync();
    await until(() => worker.stats().acknowledged, (n) => n === messages.length, 60_000, 'the fleet ingested');

    const from = new Date(START);
    const to = new Date(START + HOURS * 3_600_000);
    const correlation = await sql<{ store_id: string; hours: number; pearson: number | null; spearman: number | null }>(
      databaseUrl,
      'SELECT * FROM fleet_footfall_sales_correlation($1, $2)',
      [from, to],
    );
    expect(correlation.map((c) => c.store_id)).toEqual(fleet.map((f) => f.gw.storeId));
    for (const { gw, traffic } of fleet) {
      const open = [...traffic.hourlyBins.values()].filter((h) => h.trafficIn > 0 || h.transactions > 0);
      expect(open.length).toBeGreaterThan(3);
      const row = correlation.find((c) => c.store_id === gw.storeId)!;
      expect(row.hours).toBe(open.length);
      expect(row.pearson).toBeCloseTo(pearson(open.map((h) => h.trafficIn), open.map((h) => h.sales))!, 9);
      expect(row.spearman).toBeCloseTo(spearman(open.map((h) => h.trafficIn), open.map((h) => h.sales))!, 9);
      // The simulation makes sales follow footfall.
      expect(row.pearson!).toBeGreaterThan(0.3);
    }

    const ranking = await sql<{ rank: string; store_id: string; traffic_in: string; transactions: string; conversion: number }>(
      databaseUrl,
      'SELECT rank, store_id, traffic_in, transactions, conversion FROM fleet_conversion_ranking($1, $2)',
      [from, to],
    );
    const expected = fleet
      .map(({ gw, traffic }) => {
        const hours = [...traffic.hourlyBins.values()];
        const trafficIn = hours.reduce((s, h) => s + h.trafficIn, 0);
        const transactions = hours.reduce((s, h) => s + h.transactions, 0);
        return { store_id: gw.storeId, traffic_in: trafficIn, transactions, conversion: transactions / trafficIn };
      })
      .sort((a, b) => b.conversion - a.conversion);
    expect(ranking.map((r) => ({ store_id: r.store_id, traffic_in: Number(r.traffic_in), transactions: Number(r.transactions), conversion: r.conversion }))).toEqual(expected);
    expect(ranking.map((r) => Number(r.rank))).toEqual([1, 2, 3]);

    // A window with no data: no rows, no error.
    expect(await sql(databaseUrl, 'SELECT * FROM fleet_footfall_sales_correlation($1, $2)', [new Date(0), new Date(1000)])).toEqual([]);
  });
});
