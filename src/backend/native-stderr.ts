/**
 * Native libraries that write to the process's stderr directly (Dawn prints two "Warning:
 * max… artificially reduced" lines when it meets a software Vulkan adapter), silenced for the
 * span of one call: file descriptor 2 points at /dev/null meanwhile and then at what it was
 * (reopened through /proc/self/fd, append mode). Linux only; elsewhere, or with
 * CTWINDOW_VERBOSE=1 (`--verbose`), the call runs as it is.
 *
 * @example
 *   const adapter = await withNativeStderrSilenced(() => gpu.requestAdapter());
 */
import { closeSync, existsSync, openSync } from 'node:fs';

export function verbose(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CTWINDOW_VERBOSE === '1';
}

export async function withNativeStderrSilenced<T>(fn: () => Promise<T>): Promise<T> {
  // With 0, 1 and 2 open, the lowest free descriptor after closing 2 is 2 again.
  const fds = ['/proc/self/fd/0', '/proc/self/fd/1', '/proc/self/fd/2'];
  if (verbose() || process.platform !== 'linux' || !fds.every((f) => existsSync(f))) return fn();
  let saved: number;
  try {
    saved = openSync('/proc/self/fd/2', 'a');
  } catch {
    return fn();
  }
  closeSync(2);
  openSync('/dev/null', 'a');
  try {
    return await fn();
  } finally {
    closeSync(2);
    openSync(`/proc/self/fd/${saved}`, 'a');
    closeSync(saved);
  }
}
