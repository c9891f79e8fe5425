/**
 * `ctwindow merge <dirs…> --out <dir>`: joins partition outputs (complete dataset folders) into
 * one dataset; shards are hard-linked when possible, renumbered per split in argument order.
 *
 * @example
 *   ctwindow merge out-part0 out-part1 --out out-all && ctwindow verify out-all
 */
import type { Command } from 'commander';
import { mergeDatasets } from '../../shards/merge.js';

export function register(program: Command): void {
  program
    .command('merge')
    .description('join complete dataset folders (partitions of one run) into one dataset')
    .argument('<dirs...>', 'source dataset folders, in order')
    .requiredOption('--out <dir>', 'output folder (must be empty or absent)')
    .option('--mixed-configs', 'join datasets made with different configs (default: only partitions of one run)')
    .action(async (dirs: string[], opts: { out: string; mixedConfigs?: boolean }) => {
      const r = await mergeDatasets(dirs, opts.out, { allowMixedConfigs: opts.mixedConfigs === true });
      const parts = Object.entries(r.manifest.splits).map(([k, s]) => `${k} ${s!.records} records in ${s!.shards.length} shards`);
      console.log(`merged ${dirs.length} dataset(s) into ${opts.out}: ${parts.join(', ')} (${r.linked} hard-linked, ${r.copied} copied)`);
    });
}
