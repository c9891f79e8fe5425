/**
 * Node options for the project's worker threads: the parent's, less those a worker started from
 * a file refuses. A parent run as `node --input-type=module -e '…'` (scripts, tests) would
 * otherwise fail every worker with "--input-type can only be used with string input".
 *
 * @example
 *   new Worker(script, { execArgv: workerExecArgv() });
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] {
  return argv.filter((a) => !a.startsWith('--input-type'));
}
