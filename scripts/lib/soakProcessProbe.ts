/**
 * What the kernel says about the daemon (I/O edge of the soak test): resident memory and open
 * descriptors from /proc, and the size of its SQLite file with the write-ahead log beside it.
 * A value that cannot be read (process gone, file not yet created) is NaN, never a throw: one
 * missing sample must not end an hour-long run.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';

/** VmRSS of a process, in bytes. */
export function residentBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export function openDescriptors(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

const fileSize = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/** The database file plus its -wal and -shm companions: together, what the store takes on disk. */
export function sqliteBytes(databaseFile: string): number {
  const main = fileSize(databaseFile);
  if (main === 0) return NaN;
  return main + fileSize(`${databaseFile}-wal`) + fileSize(`${databaseFile}-shm`);
}
