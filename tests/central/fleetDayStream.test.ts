/**
 * fleetSimulation.streamGateway, the fleet-day benchmark's minute-by-minute simulation, publishes
 * exactly what simulateGateway does for the same seed (the central tests' reference): same messages in
 * the same order, same final bins — across the store's opening time (occupancy restarts) and from a
 * start that is not on an hour (the first, partial hour is not published).
 */
import { describe, expect, it } from 'vitest';
import { simulatedFleet, simulateGateway, streamGateway, type SimulationOptions } from '../../src/central/fleetSimulation.js';

const gw = simulatedFleet(2)[1]!;

describe('streamGateway', () => {
  // Europe/Paris opens at local midnight: 23:00 UTC in November.
  it.each([
    ['hour-aligned, across the opening time', { start: Date.UTC(2026, 10, 1, 21, 0), minutes: 240, seed: 5, reviseEvery: 10, hourly: true }],
    ['from 21:17, with every 7th bin revised', { start: Date.UTC(2026, 10, 1, 21, 17), minutes: 200, seed: 9, reviseEvery: 7, hourly: true }],
    ['without hourly bins or revisions', { start: Date.UTC(2026, 10, 2, 8, 0), minutes: 90, seed: 3 }],
  ] satisfies [string, SimulationOptions][])('%s: the same messages as simulateGateway', (_, options) => {
    const whole = simulateGateway(gw, options);
    const minutes = [...streamGateway(gw, options)];
    expect(minutes).toHaveLength(options.minutes);
    expect(minutes.flatMap((m) => m.messages)).toEqual(whole.messages);
    // Occupancy really carried over somewhere (else the test would not show the carry works).
    expect(whole.messages.some((m) => m.kind === 'metrics' && (m.body as { kpis: { occupancy: { end: number } } }).kpis.occupancy.end > 0)).toBe(true);
    for (const m of minutes) expect(m.bin).toEqual({ ...whole.finalBins.get(m.from)!, transactions: m.bin.transactions });
    expect(new Map(minutes.filter((m) => m.hour).map((m) => [m.hour!.from, { trafficIn: m.hour!.trafficIn, transactions: m.hour!.transactions, sales: m.hour!.sales }]))).toEqual(whole.hourlyBins);
  });
});
