/**
 * What the project's worker threads (fast/worker.ts, shards/hash-worker.ts) share: where the
 * compiled script is, and the Node options to start it with.
 */
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled worker script `file` that sits beside the module `moduleUrl`. Worker threads must
 * load JavaScript: from dist/ it is a sibling; from TypeScript sources (vitest, tsx) it is the
 * build's copy, <repo>/dist/<same folder>/<file>. Whether it exists is the caller's check.
 *
 * @example
 *   builtScriptPath(import.meta.url, 'worker.js')   // …/dist/fast/worker.js
 */
export function builtScriptPath(moduleUrl: string, file: string): string {
  const dir = dirname(fileURLToPath(moduleUrl));
  return moduleUrl.endsWith('.ts') ? resolve(dir, '..', '..', 'dist', basename(dir), file) : join(dir, file);
}

/**
 * Node options for the project's worker threads: the parent's, less those a worker started from
 * a file refuses. A parent run as `node --input-type=module -e '…'` (scripts, tests) would
 * otherwise fail every worker with "--input-type can only be used with string input".
 * Undefined (inherit) when there is nothing to drop: an explicit list may not hold V8 options
 * (`node --perf-basic-prof`, `--trace-gc`: "invalid execArgv flags"), which apply to the whole
 * process anyway.
 *
 * @example
 *   new Worker(script, { execArgv: workerExecArgv() });
 */
export function workerExecArgv(argv: readonly string[] = process.execArgv): string[] | undefined {
  const kept = argv.filter((a) => !a.startsWith('--input-type'));
  return kept.length === argv.length ? undefined : kept;
}
