/**
 * Where the compiled worker script is (builtScriptPath: beside this module in dist/, or the
 * build's <repo>/dist/fast/worker.js from TypeScript sources), or an error saying what to run.
 *
 * @example
 *   new Worker(workerScript());
 */
import { existsSync } from 'node:fs';
import { builtScriptPath } from '../worker-threads.js';

export class WorkerScriptMissingError extends Error {}

/** `from`: the module URL to resolve against (this module's own; tests pass another). */
export function workerScript(from: string = import.meta.url): string {
  const c = builtScriptPath(from, 'worker.js');
  if (existsSync(c)) return c;
  throw new WorkerScriptMissingError(
    `fast processor: worker script not found at ${c}; build it with \`npm run build\` (tsc -p tsconfig.build.json), or set workers: 0 to run in-process`,
  );
}
