/**
 * Where the compiled worker script is. Worker threads must load JavaScript: from dist/ (the
 * CLI) the script sits beside this module; from TypeScript sources (vitest, tsx) it is the
 * build's copy in <repo>/dist/fast/worker.js, which `npm run build` writes.
 *
 * @example
 *   new Worker(workerScript());
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export class WorkerScriptMissingError extends Error {}

/** `from`: the module URL to resolve against (this module's own; tests pass another). */
export function workerScript(from: string = import.meta.url): string {
  const here = fileURLToPath(from);
  const dir = dirname(here);
  const candidates = here.endsWith('.ts')
    ? [resolve(dir, '..', '..', 'dist', 'fast', 'worker.js')]
    : [join(dir, 'worker.js')];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new WorkerScriptMissingError(
    `fast processor: worker script not found at ${candidates.join(' or ')}; build it with \`npm run build\` (tsc -p tsconfig.build.json), or set workers: 0 to run in-process`,
  );
}
