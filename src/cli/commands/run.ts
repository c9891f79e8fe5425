/**
 * `ctwindow run <pipeline.yaml> [--set dotted.key=value …] [--resume] [--partition i/N]`
 *
 * Exit codes: 0 the dataset is written; 1 the run finished but failed (no slice written, or
 * more quarantined than quarantine.maxFraction; the manifest says why); 2 refused before any
 * work (config, CSV, dicomRoot, output folder); 130 interrupted (Ctrl-C: what is committed
 * stays, and the message gives the --resume command).
 */
import type { Command } from 'commander';
import { runPipeline, RunAborted, RunError, type RunSummary } from '../../pipeline/run.js';
import { groupQuarantine } from '../../pipeline/quarantine.js';
import { ConfigError } from '../../config/index.js';
import { SourceError } from '../../source/index.js';
import { createProgress } from '../progress.js';

const collect = (v: string, prev: string[]) => [...prev, v];

/** `--partition i/N`, or the array index of Kubernetes Indexed Jobs / Slurm / AWS Batch with `--partitions N`. */
export function resolvePartition(spec: string | undefined, count: string | undefined, env: NodeJS.ProcessEnv = process.env): { index: number; count: number } | undefined {
  if (spec) {
    const m = /^(\d+)\/(\d+)$/.exec(spec);
    if (!m) throw new RunError(`--partition: expected i/N (e.g. 0/4), got "${spec}"`);
    return { index: Number(m[1]), count: Number(m[2]) };
  }
  const fromEnv = env.JOB_COMPLETION_INDEX ?? env.SLURM_ARRAY_TASK_ID ?? env.AWS_BATCH_JOB_ARRAY_INDEX;
  if (count === undefined) return undefined;
  const n = Number(count);
  if (!Number.isInteger(n) || n < 1) throw new RunError(`--partitions: expected a positive integer, got "${count}"`);
  if (fromEnv === undefined) throw new RunError('--partitions given but none of JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX is set; use --partition i/N');
  return { index: Number(fromEnv), count: n };
}

export function formatSummary(s: RunSummary): string {
  const m = s.manifest;
  const lines = [`done: ${s.outDir}`];
  if (s.alreadyComplete) lines.push('  (already complete: nothing to do)');
  for (const [split, sum] of Object.entries(m.splits)) {
    if (!sum) continue;
    lines.push(
      `  ${split.padEnd(5)} ${sum.slices} slices in ${sum.records} batches, ${sum.shards.length} shard(s): ${sum.positives} positive / ${sum.negatives} negative; ` +
        `dropped ${sum.sampling.dropped}, repeated ${sum.sampling.repeated}`,
    );
  }
  const count = m.quarantine?.count ?? m.quarantined.length;
  const where = m.quarantine ? `all of them in ${m.quarantine.file}, one JSON line each` : 'all of them in manifest.json "quarantined"';
  lines.push(`  quarantined ${count}${count ? ` (${where}):` : ''}`);
  const groups = m.quarantine?.byReason ?? groupQuarantine(m.quarantined);
  for (const g of groups.slice(0, 8)) lines.push(`    ${g.reason}: ${g.count}, e.g. ${g.example}`);
  if (groups.length > 8) lines.push(`    … and ${groups.length - 8} other reason(s)`);
  for (const w of m.warnings ?? []) lines.push(`  warning: ${w}`);
  const ctx = m.context as { edgeFilled?: number; neighboursMissing?: number } | undefined;
  if (ctx) lines.push(`  context: channels ${m.channels.join(', ')}; ${ctx.edgeFilled ?? 0} neighbours edge-filled, ${ctx.neighboursMissing ?? 0} missing on disk or undecodable`);
  const secs = s.elapsedMs / 1000;
  lines.push(`  backend ${m.backend.name} (${m.backend.reason}); ${s.slicesWritten} slices written in ${secs.toFixed(1)} s (${(s.slicesWritten / Math.max(secs, 1e-9)).toFixed(1)} slices/s)${s.resumedRecords ? `; ${s.resumedRecords} records kept from the interrupted run` : ''}`);
  for (const p of s.problems) lines.push(`FAILED: ${p}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a pipeline YAML: CSV ⨝ DICOM → windowing → balanced batches → shards')
    .argument('<pipeline>', 'pipeline YAML file')
    .option('--set <key=value>', 'override a config value (dotted key, YAML value); repeatable', collect, [])
    .option('--backend <name>', 'tfjs backend: auto | tensorflow | webgpu | wasm | cpu (overrides the YAML)')
    .option('--resume', 'continue an interrupted run in the same output folder')
    .option('--partition <i/N>', 'process only exams of partition i of N (into part-i-of-N/)')
    .option('--partitions <N>', 'partition count, index from JOB_COMPLETION_INDEX / SLURM_ARRAY_TASK_ID / AWS_BATCH_JOB_ARRAY_INDEX')
    .option('-q, --quiet', 'errors only: no progress, no summary')
    .action(async (pipeline: string, o: { set: string[]; backend?: string; resume?: boolean; partition?: string; partitions?: string; quiet?: boolean }) => {
      const overrides = [...o.set, ...(o.backend ? [`backend=${o.backend}`] : [])];
      const progress = createProgress({ quiet: o.quiet });
      // Ctrl-C: stop after the records in flight, say what is committed and how to go on; a
      // second Ctrl-C leaves at once.
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) {
          progress.stop();
          process.exit(130);
        }
        abort.abort();
        progress.stop();
        process.stderr.write('\nctwindow run: stopping after the records in flight (Ctrl-C again to leave at once)…\n');
      };
      process.on('SIGINT', onSigint);
      try {
        const summary = await runPipeline(pipeline, {
          overrides,
          resume: o.resume,
          partition: resolvePartition(o.partition, o.partitions),
          onProgress: (p) => progress.update(p),
          log: o.quiet ? undefined : (line) => progress.log(line),
          signal: abort.signal,
        });
        progress.stop();
        if (summary.problems.length) {
          console.error(formatSummary(summary));
          process.exitCode = 1;
        } else if (!o.quiet) console.log(formatSummary(summary));
      } catch (e) {
        progress.stop();
        if (e instanceof RunAborted) {
          const again = ['ctwindow', 'run', pipeline, ...o.set.flatMap((x) => ['--set', x]), ...(o.backend ? ['--backend', o.backend] : []), ...(o.partition ? ['--partition', o.partition] : []), '--resume'];
          console.error(`ctwindow run: ${e.message}; no manifest.json, so the folder is marked unfinished.\nContinue with: ${again.map(shellQuote).join(' ')}`);
          process.exitCode = 130;
          return;
        }
        if (e instanceof ConfigError || e instanceof RunError || e instanceof SourceError) {
          console.error(`ctwindow run: ${e.message}`);
          process.exitCode = 2;
          return;
        }
        throw e;
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

/** A word as a POSIX shell reads it back. */
function shellQuote(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}
