/**
 * `ctwindow verify <outdir>`: recomputes every frame CRC and shard digest (crc32c; sha256 where recorded) and cross-checks
 * index and manifest. Exit 0 when intact; exit 1 with one line per problem (naming shard and
 * record) otherwise.
 *
 * @example
 *   ctwindow verify out/ || echo damaged
 */
import type { Command } from 'commander';
import { formatProblem, verifyDataset } from '../../shards/verify.js';
import { readManifest } from '../../shards/manifest.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description('check a dataset folder: frame CRCs, shard digests, indexes and manifest; non-zero exit on any damage')
    .argument('<outdir>', 'dataset folder')
    .option('--json', 'print the problems as JSON')
    .action(async (outdir: string, opts: { json?: boolean }) => {
      const problems = await verifyDataset(outdir);
      if (opts.json) process.stdout.write(JSON.stringify({ ok: problems.length === 0, problems }, null, 2) + '\n');
      if (problems.length) {
        if (!opts.json) for (const p of problems) console.error(`ctwindow verify: ${formatProblem(p)}`);
        console.error(`ctwindow verify: ${outdir}: ${problems.length} problem(s)`);
        process.exitCode = 1;
        return;
      }
      const m = await readManifest(outdir);
      const parts = Object.entries(m.splits).map(([k, s]) => `${k} ${s!.records} records / ${s!.shards.length} shards`);
      if (!opts.json) console.log(`ok: ${outdir} (${parts.join(', ')})`);
    });
}
