/**
 * zoneOffsetMs remembers offsets per UTC minute: it must still agree with Intl at every instant,
 * across the DST changes of both hemispheres and in zones with half- and quarter-hour offsets.
 */
import { describe, expect, it } from 'vitest';
import { zoneOffsetMs } from '../../src/kpi/timeBins.js';

/** The offset straight from Intl, uncached: wall clock (to the second) read as UTC, minus the instant. */
function intlOffset(ts: number, timeZone: string): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const p = Object.fromEntries(f.formatToParts(new Date(ts)).filter((x) => x.type !== 'literal').map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(ts / 1000) * 1000;
}

describe('zoneOffsetMs', () => {
  const cases: [string, string][] = [
    ['Europe/Paris', '2026-03-29T00:58:00Z'], // spring forward at 01:00 UTC
    ['Europe/Paris', '2026-10-25T00:58:00Z'], // fall back at 01:00 UTC
    ['America/New_York', '2026-11-01T05:58:00Z'],
    ['Australia/Sydney', '2026-04-04T15:58:00Z'],
    ['Asia/Kolkata', '2026-06-01T00:00:00Z'],
    ['Asia/Kathmandu', '2026-06-01T00:00:00Z'],
  ];
  it.each(cases)('agrees with Intl second by second around %s %s, asked twice', (zone, iso) => {
    const start = Date.parse(iso);
    const offsets = new Set<number>();
    for (let pass = 0; pass < 2; pass++) {
      for (let ts = start; ts < start + 5 * 60_000; ts += 1_000 + 7) {
        expect(zoneOffsetMs(ts, zone)).toBe(intlOffset(ts, zone));
        offsets.add(zoneOffsetMs(ts, zone));
      }
    }
    // The windows over a DST change really see both offsets.
    if (!zone.startsWith('Asia')) expect(offsets.size).toBe(2);
  });
});
