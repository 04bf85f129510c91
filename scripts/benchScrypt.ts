/**
 * npm run bench:scrypt [-- --runs 7] [--json]
 *
 * What one web UI login costs in scrypt at N = 2^14 … 2^17 (r = 8, p = 1, 32-byte key, maxmem
 * 256 MiB): a password verified against a stored hash, `runs` times per N after one warm-up, one at a
 * time and then two at once (two logins arriving together on a 2-core box). Prints a table and the
 * largest N whose median single login stays within the budget (default 250 ms), which is what
 * src/web/auth/passwords.ts (SCRYPT_PARAMS) should use on this machine.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { hashPassword, memoryOf, verifyPassword } from '../src/web/auth/passwords.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, budget: { type: 'string', default: '250' }, json: { type: 'boolean', default: false } },
});
const runs = Number(values.runs);
const budgetMs = Number(values.budget);
const PASSWORD = 'correct horse battery';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** CPU time (all threads: scrypt runs in libuv's pool) of one call, in ms: what it costs without other load. */
async function cpuTimed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

interface Row {
  log2N: number;
  memoryMiB: number;
  medianMs: number;
  maxMs: number;
  cpuMedianMs: number;
  pairMedianMs: number;
}

const rows: Row[] = [];
for (const log2N of [14, 15, 16, 17]) {
  const params = { N: 2 ** log2N, r: 8, p: 1 };
  const stored = await hashPassword(PASSWORD, params);
  if (!(await verifyPassword(PASSWORD, stored))) throw new Error(`N = 2^${log2N}: the password does not verify`);
  const single: number[] = [];
  for (let i = 0; i < runs; i++) single.push(await timed(() => verifyPassword(PASSWORD, stored)));
  const cpu: number[] = [];
  for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) cpu.push(await cpuTimed(() => verifyPassword(PASSWORD, stored)));
  // Two logins at once: the time until both are answered.
  const pair: number[] = [];
  for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) pair.push(await timed(() => Promise.all([verifyPassword(PASSWORD, stored), verifyPassword(PASSWORD, stored)])));
  rows.push({ log2N, memoryMiB: Math.round(memoryOf(params) / 2 ** 20), medianMs: median(single), maxMs: Math.max(...single), cpuMedianMs: median(cpu), pairMedianMs: median(pair) });
}

const fitting = rows.filter((r) => r.medianMs <= budgetMs);
const chosen = fitting.at(-1);
if (values.json) {
  console.log(JSON.stringify({ cpus: os.cpus().length, cpu: os.cpus()[0]?.model, loadavg: os.loadavg(), runs, budgetMs, rows, chosenLog2N: chosen?.log2N ?? null }, null, 2));
} else {
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`scrypt r=8 p=1, ${runs} logins per N, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, load average ${load} (other work inflates the wall times; CPU time does not)`);
  console.log('| N | memory | login p50 | login max | CPU per login | 2 logins at once p50 |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| 2^${r.log2N} | ${r.memoryMiB} MiB | ${r.medianMs.toFixed(0)} ms | ${r.maxMs.toFixed(0)} ms | ${r.cpuMedianMs.toFixed(0)} ms | ${r.pairMedianMs.toFixed(0)} ms |`);
  }
  console.log(chosen ? `largest N within ${budgetMs} ms per login: 2^${chosen.log2N}` : `no N within ${budgetMs} ms per login`);
}
