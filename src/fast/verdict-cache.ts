/**
 * Remembers, across runs, whether a plan's JavaScript table function (plan-js.ts) matched the
 * tfjs reference bit for bit (plan-verify.ts). Verifying costs the main thread ~0.35 s per run
 * (loading tfjs, then running the reference ops on the probe sets); with the verdict on disk,
 * a cpu run starts its workers' first chunk without loading tfjs on the main thread at all.
 *
 * The verdict is a pure function of the plan, the code on both sides and the engine, so the key
 * covers exactly those: the plan's JSON, a digest of the mirror's and the reference's source
 * files as loaded (fast/plan-js, windowing/plan, windowing/reference, windowing/ops/*), the
 * tfjs-core and tfjs-backend-cpu versions, and V8's version (Math.exp and friends). Any change
 * is a new key, verified afresh. A missing, unreadable or unwritable cache only means verifying
 * again.
 *
 * Where: $CTWINDOW_CACHE_DIR, else $XDG_CACHE_HOME/ctwindow, else ~/.cache/ctwindow;
 * CTWINDOW_CACHE=off turns it off.
 *
 * @example
 *   const v = readVerdict(plan);          // true | false | undefined (not known yet)
 *   if (v === undefined) writeVerdict(plan, tableFnFor(plan) !== null);
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WindowPlan } from '../windowing/plan.js';

const require = createRequire(import.meta.url);

/** The cache folder, or undefined when caching is off. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.CTWINDOW_CACHE === 'off') return undefined;
  if (env.CTWINDOW_CACHE_DIR) return env.CTWINDOW_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ctwindow');
}

let codeDigest: string | undefined;

/** sha256 over the source files of the mirror and of the reference, as this process loads them. */
function sourceDigest(): string {
  if (codeDigest) return codeDigest;
  const here = fileURLToPath(import.meta.url);
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  const win = join(dirname(here), '..', 'windowing');
  const files = [
    join(dirname(here), `plan-js${ext}`),
    join(win, `plan${ext}`),
    join(win, `reference${ext}`),
    ...readdirSync(join(win, 'ops')).filter((f) => f.endsWith(ext) && !f.endsWith(`.d${ext}`)).sort().map((f) => join(win, 'ops', f)),
  ];
  const h = createHash('sha256');
  for (const f of files) h.update(f.slice(f.lastIndexOf('/') + 1)).update(readFileSync(f));
  codeDigest = h.digest('hex');
  return codeDigest;
}

function version(pkg: string): string {
  try {
    return (require(`${pkg}/package.json`) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The cache key of `plan`'s verdict on this code and engine. */
export function verdictKey(plan: WindowPlan): string {
  return createHash('sha256')
    .update(
      JSON.stringify({
        plan,
        code: sourceDigest(),
        tfjsCore: version('@tensorflow/tfjs-core'),
        tfjsCpu: version('@tensorflow/tfjs-backend-cpu'),
        v8: process.versions.v8,
      }),
    )
    .digest('hex');
}

function fileFor(plan: WindowPlan): string | undefined {
  const dir = cacheDir();
  return dir && join(dir, 'plan-verdicts', `${verdictKey(plan)}.json`);
}

/** The recorded verdict for `plan`, or undefined when none is (or caching is off). */
export function readVerdict(plan: WindowPlan): boolean | undefined {
  try {
    const file = fileFor(plan);
    if (!file || !existsSync(file)) return undefined;
    const v = (JSON.parse(readFileSync(file, 'utf8')) as { verdict?: unknown }).verdict;
    return typeof v === 'boolean' ? v : undefined;
  } catch {
    return undefined; // unreadable: verify again
  }
}

/** Records `plan`'s verdict (atomically; failures to write are ignored: the next run verifies). */
export function writeVerdict(plan: WindowPlan, verdict: boolean): void {
  try {
    const file = fileFor(plan);
    if (!file) return;
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ verdict, strategy: plan.name, v8: process.versions.v8 }) + '\n');
    renameSync(tmp, file);
  } catch {
    /* a read-only home: no cache */
  }
}
