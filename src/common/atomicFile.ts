/**
 * Replaces a file so that a reader (or a power cut) sees the old content or the new, never half of
 * each: write a temp file beside it, fsync, keep the previous version as `<file>.prev`, rename.
 */
import { copyFile, open, rename } from 'node:fs/promises';
import { existsSync } from 'node:fs';

export async function writeFileAtomic(file: string, content: string | Buffer, options: { keepPrevious?: boolean; mode?: number } = {}): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await open(tmp, 'w', options.mode ?? 0o644);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (options.keepPrevious && existsSync(file)) await copyFile(file, `${file}.prev`);
  await rename(tmp, file);
}
