import type { ChildProcess } from 'node:child_process';

/** SIGTERM and wait for the exit (nothing to do when it is already gone). */
export async function terminate(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
