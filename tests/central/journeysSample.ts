/** A sample journey-aggregates message for the central tests. */

/** A journeys message as journeysMessage() publishes it (schemas/upstream/v1/journeys.schema.json). */
export function journeysPublication(gw: { storeId: string; gatewayId: string }, seq: number, from: number): { topic: string; payload: string } {
  const report = {
    journeys: 12,
    states: ['entry', 'promo', 'tills', 'exit'],
    transitions: [
      { from: 'entry', to: 'promo', count: 9 },
      { from: 'promo', to: 'tills', count: 5 },
    ],
    top_paths: [{ zones: ['promo', 'tills'], continues: false, count: 5 }],
    other_paths: { paths: 2, journeys: 7 },
    min_path_count: 5,
    funnel: [{ zone: 'promo', persons: 9, person_conversion: 0.4, units: 7, unit_conversion: 0.5 }],
    buying_units: { units: 10, persons: 12, mean_size: 1.2, sizes: [{ size: 1, units: 8 }, { size: 2, units: 2 }] },
    conversion: { persons: 0.3, units: 0.35 },
    zones: [{ zone: 'promo', visits: 9, dwell_s_mean: 42.5 }],
  };
  const data = { bin: '1h', from: new Date(from).toISOString(), to: new Date(from + 3_600_000).toISOString(), time_zone: 'Europe/Paris', journeys: report };
  const envelope = { v: 1, key: `${gw.gatewayId}:journeys:1h:${from}`, seq, store_id: gw.storeId, gateway_id: gw.gatewayId, kind: 'journeys', queued_at: new Date(from + 3_600_000).toISOString(), data };
  return { topic: `storepulse/v1/${gw.storeId}/${gw.gatewayId}/journeys/1h`, payload: JSON.stringify(envelope) };
}
