/**
 * The verdict of a simulated fleet day (`npm run bench:central -- --fleet-day`): "no gap" means every
 * store has exactly one 1-minute KPI bin for every minute of the day, contiguous, each at the highest
 * revision its gateway sent and with the traffic that revision carried. Around it: the stored rows
 * equal what was sent (none lost, none twice, nothing unknown), no dead letters, and the store_hours
 * and store_days rollups equal the stored 1-minute bins summed per hour and per UTC day.
 *
 * Pure and incremental: the caller records what the gateways sent as it streams them, then feeds the
 * stored rows in any order, a page at a time (a 500-store day is 720,000 bins: held here as typed
 * arrays indexed by store and minute, a few MB, not as row objects).
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** How many problems of each kind the verdict spells out (the counts are always complete). */
const EXAMPLES = 10;
/** How many gaps the verdict lists (every other bin lost would be 360,000 of them). */
export const GAPS_LISTED = 100;

export interface FleetDayPlan {
  /** Store ids, one gateway each. */
  stores: readonly string[];
  /** First minute of the day (epoch ms, on a minute boundary). */
  start: number;
  minutes: number;
}

/** A kpi_bins row as read back (only what the check needs). */
export interface StoredBin {
  storeId: string;
  binSize: string;
  /** Epoch ms. */
  from: number;
  to: number;
  revision: number;
  trafficIn: number;
}

/** A store_hours row. `bins`: how many gateways' 1-hour bins it sums. */
export interface StoredStoreHour {
  storeId: string;
  hour: number;
  bins: number;
  trafficIn: number;
}

/** A gateways row: the newest seq committed and the last status applied. */
export interface StoredGateway {
  storeId: string;
  lastSeq: number | null;
  state: string | null;
  reason: string | null;
}

/** A store_days row: the day's open hours' footfall as comma-separated text. */
export interface StoredStoreDay {
  storeId: string;
  day: number;
  traffic: string;
}

export interface TableCounts {
  kpiBinRows: number;
  eventRows: number;
  deadLetters: number;
}

export interface Gap {
  storeId: string;
  /** First missing minute (ISO 8601) and how many follow it, itself included. */
  from: string;
  minutes: number;
}

export interface FleetDayVerdict {
  /** Every store has every minute's bin exactly once. */
  noGap: boolean;
  /** noGap, and nothing else wrong (revisions, traffic, totals, dead letters, rollups). */
  ok: boolean;
  stores: number;
  minutes: number;
  /** stores × minutes. */
  binsExpected: number;
  /** Distinct store-minutes some 1-minute bin was published for. */
  binsSent: number;
  /** 1-minute rows read back. */
  binsStored: number;
  storesComplete: number;
  missing: number;
  /** Runs of consecutive missing minutes of one store. */
  gapCount: number;
  /** The first GAPS_LISTED of them. */
  gaps: Gap[];
  duplicates: number;
  wrongRevision: number;
  wrongTraffic: number;
  /** Rows of unknown stores, outside the day, off the minute grid, or not one minute long. */
  unexpected: number;
  hourlyBinsStored: number;
  rollupHoursChecked: number;
  rollupHourMismatches: number;
  rollupDaysChecked: number;
  rollupDayMismatches: number;
  /** Gateways whose last seq or final status is not the one they sent (or that have no row). */
  gatewaysWrong: number;
  /** Human-readable, a few examples per kind; empty when ok. */
  problems: string[];
}

export class FleetDayCheck {
  private readonly storeIndex = new Map<string, number>();
  private readonly minutes: number;
  /** Per store-minute (store × minutes + minute): highest revision sent, 0 when none was. */
  private readonly sentRevision: Uint16Array;
  private readonly sentTraffic: Int32Array;
  /** 1-minute rows read back per store-minute, and their revision and traffic. */
  private readonly seen: Uint8Array;
  private readonly storedRevision: Uint16Array;
  private readonly storedTraffic: Int32Array;
  private readonly firstHour: number;
  private readonly hours: number;
  /** Store-hours a 1-hour bin was sent for ("store\0hour"): each must have its store_hours row. */
  private readonly hoursSent = new Set<string>();
  private binsStored = 0;
  private hourlyBinsStored = 0;
  private readonly unexpectedRows: string[] = [];
  private unexpected = 0;
  private readonly hourRows: StoredStoreHour[] = [];
  private readonly dayRows: StoredStoreDay[] = [];
  private readonly gatewaysSent = new Map<string, { lastSeq: number; state: string; reason: string | null }>();
  private readonly gatewayRows: StoredGateway[] = [];

  constructor(private readonly plan: FleetDayPlan) {
    if (plan.start % MINUTE !== 0) throw new Error('the fleet day must start on a minute boundary');
    plan.stores.forEach((id, i) => this.storeIndex.set(id, i));
    this.minutes = plan.minutes;
    const cells = plan.stores.length * plan.minutes;
    this.sentRevision = new Uint16Array(cells);
    this.sentTraffic = new Int32Array(cells);
    this.seen = new Uint8Array(cells);
    this.storedRevision = new Uint16Array(cells);
    this.storedTraffic = new Int32Array(cells);
    // UTC hours: the rollups' hours are the gateways' 1-hour bins, which are UTC hours in any time
    // zone a whole number of hours from UTC (the simulated fleet's Europe/Paris).
    this.firstHour = Math.floor(plan.start / HOUR) * HOUR;
    this.hours = Math.ceil((plan.start + plan.minutes * MINUTE - this.firstHour) / HOUR);
  }

  /** A 1-minute bin a gateway published (call again for each revision). */
  sent(storeId: string, from: number, revision: number, trafficIn: number): void {
    const cell = this.cell(storeId, from);
    if (cell === undefined) throw new Error(`sent a bin outside the plan: ${storeId} ${new Date(from).toISOString()}`);
    if (revision >= this.sentRevision[cell]!) {
      this.sentRevision[cell] = revision;
      this.sentTraffic[cell] = trafficIn;
    }
  }

  /** A 1-hour bin a gateway published: it feeds store_hours. */
  sentHour(storeId: string, hour: number): void {
    this.hoursSent.add(`${storeId}\u0000${hour}`);
  }

  /** A gateway's last published seq and the status it ended with. */
  sentGateway(storeId: string, lastSeq: number, state: string, reason: string | null): void {
    this.gatewaysSent.set(storeId, { lastSeq, state, reason });
  }

  /** A kpi_bins row read back. */
  stored(row: StoredBin): void {
    if (row.binSize !== '1m') {
      if (row.binSize === '1h' && this.hoursSent.has(`${row.storeId}\u0000${row.from}`)) this.hourlyBinsStored += 1;
      else this.unexpectedRow(row, 'a bin of another size that was not sent');
      return;
    }
    const cell = this.cell(row.storeId, row.from);
    if (cell === undefined || row.to !== row.from + MINUTE) {
      this.unexpectedRow(row, cell === undefined ? 'unknown store, outside the day or off the minute grid' : 'not one minute long');
      return;
    }
    if (this.sentRevision[cell] === 0) this.unexpectedRow(row, 'stored but never sent');
    this.binsStored += 1;
    this.seen[cell] = Math.min(255, this.seen[cell]! + 1);
    this.storedRevision[cell] = row.revision;
    this.storedTraffic[cell] = row.trafficIn;
  }

  storeHour(row: StoredStoreHour): void {
    this.hourRows.push(row);
  }

  storeDay(row: StoredStoreDay): void {
    this.dayRows.push(row);
  }

  storedGateway(row: StoredGateway): void {
    this.gatewayRows.push(row);
  }

  /** Judges everything fed so far. */
  verdict(counts: TableCounts & { kpiBinsSent: number; eventsSent: number }): FleetDayVerdict {
    const problems = new Problems();
    for (const text of this.unexpectedRows) problems.add('unexpected', text);
    const { stores } = this.plan;
    let missing = 0;
    let duplicates = 0;
    let wrongRevision = 0;
    let wrongTraffic = 0;
    let binsSent = 0;
    let storesComplete = 0;
    const gaps: Gap[] = [];
    // Per store and UTC hour of the day: the stored 1-minute bins' traffic summed.
    const hourSums = new Float64Array(stores.length * this.hours);
    for (let s = 0; s < stores.length; s++) {
      let gapStart = -1;
      const endGap = (m: number): void => {
        if (gapStart < 0) return;
        gaps.push({ storeId: stores[s]!, from: new Date(this.plan.start + gapStart * MINUTE).toISOString(), minutes: m - gapStart });
        gapStart = -1;
      };
      for (let m = 0; m < this.minutes; m++) {
        const cell = s * this.minutes + m;
        if (this.sentRevision[cell]! > 0) binsSent += 1;
        if (this.seen[cell] === 0) {
          missing += 1;
          if (gapStart < 0) gapStart = m;
          continue;
        }
        endGap(m);
        const at = (): string => `${stores[s]} ${new Date(this.plan.start + m * MINUTE).toISOString()}`;
        if (this.seen[cell]! > 1) {
          duplicates += this.seen[cell]! - 1;
          problems.add('duplicate', `${at()}: ${this.seen[cell]} rows`);
        }
        if (this.sentRevision[cell]! > 0 && this.storedRevision[cell] !== this.sentRevision[cell]) {
          wrongRevision += 1;
          problems.add('revision', `${at()}: revision ${this.storedRevision[cell]}, sent up to ${this.sentRevision[cell]}`);
        } else if (this.sentRevision[cell]! > 0 && this.storedTraffic[cell] !== this.sentTraffic[cell]) {
          wrongTraffic += 1;
          problems.add('traffic', `${at()}: traffic in ${this.storedTraffic[cell]}, its revision sent ${this.sentTraffic[cell]}`);
        }
        const hourCell = s * this.hours + Math.floor((this.plan.start + m * MINUTE - this.firstHour) / HOUR);
        hourSums[hourCell] = hourSums[hourCell]! + this.storedTraffic[cell]!;
      }
      endGap(this.minutes);
      if (gaps.length === 0 || gaps.at(-1)!.storeId !== stores[s]) storesComplete += 1;
    }
    for (const g of gaps) problems.add('gap', `${g.storeId}: ${g.minutes} minute(s) missing from ${g.from}`);

    // Rollups: each store-hour row equals its minutes summed; each store-day row the hours it covers.
    let rollupHourMismatches = 0;
    const daySums = new Map<string, number>();
    const hoursListed = new Set<string>();
    for (const h of this.hourRows) {
      const s = this.storeIndex.get(h.storeId);
      const index = (h.hour - this.firstHour) / HOUR;
      const key = `${h.storeId}\u0000${h.hour}`;
      const label = `${h.storeId} ${new Date(h.hour).toISOString()}`;
      if (s === undefined || !Number.isInteger(index) || index < 0 || index >= this.hours || hoursListed.has(key)) {
        rollupHourMismatches += 1;
        problems.add('store_hours', `${label}: ${hoursListed.has(key) ? 'listed twice' : 'a store-hour outside the fleet day'}`);
        continue;
      }
      hoursListed.add(key);
      const want = hourSums[s * this.hours + index]!;
      if (h.bins !== 1 || h.trafficIn !== want) {
        rollupHourMismatches += 1;
        problems.add('store_hours', `${label}: traffic in ${h.trafficIn} from ${h.bins} bin(s), its 1-minute bins sum to ${want}`);
      }
      const dayKey = `${h.storeId}\u0000${Math.floor(h.hour / DAY) * DAY}`;
      daySums.set(dayKey, (daySums.get(dayKey) ?? 0) + want);
    }
    for (const key of this.hoursSent) {
      if (hoursListed.has(key)) continue;
      rollupHourMismatches += 1;
      const [storeId, hour] = key.split('\u0000');
      problems.add('store_hours', `${storeId} ${new Date(Number(hour)).toISOString()}: its 1-hour bin was sent, no store_hours row`);
    }
    let rollupDayMismatches = 0;
    for (const d of this.dayRows) {
      const key = `${d.storeId}\u0000${d.day}`;
      const want = daySums.get(key);
      daySums.delete(key);
      const got = d.traffic === '' ? 0 : d.traffic.split(',').reduce((sum, v) => sum + Number(v), 0);
      if (got !== (want ?? 0)) {
        rollupDayMismatches += 1;
        problems.add('store_days', `${d.storeId} ${new Date(d.day).toISOString().slice(0, 10)}: traffic ${got}, its hours' 1-minute bins sum to ${want ?? 0}`);
      }
    }
    // A store-day with rolled-up traffic and no store_days row (a day without traffic may lack one).
    for (const [key, want] of daySums) {
      if (want === 0) continue;
      rollupDayMismatches += 1;
      const [storeId, day] = key.split('\u0000');
      problems.add('store_days', `${storeId} ${new Date(Number(day)).toISOString().slice(0, 10)}: no row, its hours' 1-minute bins sum to ${want}`);
    }

    // Each gateway's newest message and final status arrived (and nobody else's).
    let gatewaysWrong = 0;
    const gatewaysListed = new Set<string>();
    for (const g of this.gatewayRows) {
      const want = this.gatewaysSent.get(g.storeId);
      gatewaysListed.add(g.storeId);
      if (!want || g.lastSeq !== want.lastSeq || g.state !== want.state || g.reason !== want.reason) {
        gatewaysWrong += 1;
        const wanted = want ? `sent up to seq ${want.lastSeq}, ended ${want.state}${want.reason ? `/${want.reason}` : ''}` : 'not a gateway of the fleet';
        problems.add('gateways', `${g.storeId}: last seq ${g.lastSeq}, state ${g.state}${g.reason ? `/${g.reason}` : ''}; ${wanted}`);
      }
    }
    for (const storeId of this.gatewaysSent.keys()) {
      if (gatewaysListed.has(storeId)) continue;
      gatewaysWrong += 1;
      problems.add('gateways', `${storeId}: no gateways row`);
    }

    if (counts.kpiBinRows !== counts.kpiBinsSent) problems.add('totals', `kpi_bins has ${counts.kpiBinRows} rows, ${counts.kpiBinsSent} distinct bins were sent`);
    if (counts.eventRows !== counts.eventsSent) problems.add('totals', `events has ${counts.eventRows} rows, ${counts.eventsSent} were sent`);
    if (counts.deadLetters !== 0) problems.add('totals', `${counts.deadLetters} dead letter(s)`);

    const noGap = missing === 0 && duplicates === 0;
    return {
      noGap,
      ok: noGap && problems.count() === 0,
      stores: stores.length,
      minutes: this.minutes,
      binsExpected: stores.length * this.minutes,
      binsSent,
      binsStored: this.binsStored,
      storesComplete,
      missing,
      gapCount: gaps.length,
      gaps: gaps.slice(0, GAPS_LISTED),
      duplicates,
      wrongRevision,
      wrongTraffic,
      unexpected: this.unexpected,
      hourlyBinsStored: this.hourlyBinsStored,
      rollupHoursChecked: this.hourRows.length,
      rollupHourMismatches,
      rollupDaysChecked: this.dayRows.length,
      rollupDayMismatches,
      gatewaysWrong,
      problems: problems.list(),
    };
  }

  /** store × minutes + minute, or undefined for an unknown store or an instant off the day's minute grid. */
  private cell(storeId: string, from: number): number | undefined {
    const s = this.storeIndex.get(storeId);
    const m = (from - this.plan.start) / MINUTE;
    if (s === undefined || !Number.isInteger(m) || m < 0 || m >= this.minutes) return undefined;
    return s * this.minutes + m;
  }

  private unexpectedRow(row: StoredBin, why: string): void {
    this.unexpected += 1;
    if (this.unexpectedRows.length < EXAMPLES) this.unexpectedRows.push(`${row.storeId} ${row.binSize} ${new Date(row.from).toISOString()}: ${why}`);
  }
}

/** Problems by kind: all counted, the first few of each kind spelled out. */
class Problems {
  private readonly byKind = new Map<string, { examples: string[]; count: number }>();

  add(kind: string, text: string): void {
    let entry = this.byKind.get(kind);
    if (!entry) this.byKind.set(kind, (entry = { examples: [], count: 0 }));
    entry.count += 1;
    if (entry.examples.length < EXAMPLES) entry.examples.push(`${kind}: ${text}`);
  }

  count(): number {
    let n = 0;
    for (const e of this.byKind.values()) n += e.count;
    return n;
  }

  list(): string[] {
    return [...this.byKind.values()].flatMap((e) => (e.count > e.examples.length ? [...e.examples, `… and ${e.count - e.examples.length} more`] : e.examples));
  }
}
