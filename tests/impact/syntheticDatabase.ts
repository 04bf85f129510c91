/** A gateway SQLite file holding weeks of hourly KPI bins of a synthetic store, as the KPI recorder stores them. */
import type { KpiBin } from '../../src/kpi/kpiEngine.js';
import { openDatabase } from '../../src/store/database.js';

export function writeHourlyAggregates(file: string, bins: readonly KpiBin[]): void {
  const db = openDatabase(file);
  try {
    const insert = db.prepare("INSERT INTO aggregates (size, bin, revision, data, computed_at) VALUES ('1h', ?, 1, ?, ?)");
    db.transaction(() => {
      for (const bin of bins) insert.run(bin.from, JSON.stringify(bin), bin.to + 5_000);
    })();
  } finally {
    db.close();
  }
}
