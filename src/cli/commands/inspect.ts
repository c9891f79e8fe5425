/**
 * `ctwindow inspect <outdir> [--json]`: counts from manifest.json (no shard is read).
 *
 * @example
 *   ctwindow inspect out/ --json | jq .positives
 */
import type { Command } from 'commander';
import { formatInspect, inspectDataset } from '../../shards/inspect.js';

export function register(program: Command): void {
  program
    .command('inspect')
    .description('summarise a dataset folder: slices, labels, shards, quarantined inputs (from manifest.json)')
    .argument('<outdir>', 'dataset folder written by `ctwindow run` or `ctwindow merge`')
    .option('--json', 'print JSON instead of text')
    .action(async (outdir: string, opts: { json?: boolean }) => {
      const s = await inspectDataset(outdir);
      process.stdout.write(opts.json ? JSON.stringify(s, null, 2) + '\n' : formatInspect(s) + '\n');
    });
}
