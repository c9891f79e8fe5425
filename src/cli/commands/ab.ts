/**
 * `ctwindow ab <pipeline-a.yaml> <pipeline-b.yaml> [more…] --out <dir> [--model m.yaml]
 *   [--epochs N] [--seeds K] [--seed S] [--replicates B] [--specificity 0.9] [--set k=v …]
 *   [--backend cpu]`
 *
 * Compares windowing strategies on a downstream model; writes report.md, report.html,
 * PNG plots and results.json into --out.
 */
import type { Command } from 'commander';
import { runAb } from '../../ab/run.js';

const collect = (v: string, prev: string[]) => [...prev, v];

function int(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new Error(`${name}: expected an integer, got "${v}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('ab')
    .description('A/B compare windowing strategies: same exams, same split, same seeded CNN; AUC with exam-bootstrap CIs and paired tests')
    .argument('<pipelines...>', 'two or more pipeline YAML files')
    .requiredOption('--out <dir>', 'output folder (report.md, report.html, *.png, results.json; shards/ unless --shards)')
    .option('--model <yaml>', 'model spec (default configs/models/small-cnn.yaml)')
    .option('--epochs <N>', 'training epochs (overrides the model spec)', int('--epochs'))
    .option('--seeds <K>', 'number of training seeds', int('--seeds'), 2)
    .option('--seed <S>', 'first training seed', int('--seed'), 1)
    .option('--replicates <B>', 'bootstrap replicates', int('--replicates'), 1000)
    .option('--specificity <x>', 'fixed specificity for the sensitivity metric', Number, 0.9)
    .option('--shards <dir>', 'where shards are built or reused by config hash (default <out>/shards)')
    .option('--set <key=value>', 'override a value in every pipeline (dotted key, YAML value); repeatable', collect, [])
    .option('--backend <name>', 'tfjs backend for training: wasm (default; reproducible on one machine) | cpu (pure JS; reproducible on any machine) | webgpu | tensorflow | auto', 'wasm')
    .option('-q, --quiet', 'only the verdicts')
    .action(async (pipelines: string[], o: { out: string; model?: string; epochs?: number; seeds: number; seed: number; replicates: number; specificity: number; shards?: string; set: string[]; backend: string; quiet?: boolean }) => {
      const r = await runAb({
        pipelines,
        out: o.out,
        model: o.model,
        epochs: o.epochs,
        seeds: o.seeds,
        seed0: o.seed,
        replicates: o.replicates,
        specificity: o.specificity,
        shardsDir: o.shards,
        overrides: o.set,
        backend: o.backend as never,
        log: o.quiet ? undefined : (line) => console.error(line),
      });
      for (const s of r.strategies) {
        console.log(`${s.name}: AUC ${s.pooled.auc.estimate.toFixed(3)} [${s.pooled.auc.lo.toFixed(3)}, ${s.pooled.auc.hi.toFixed(3)}] (mean of ${s.seeds.length} seed(s))`);
      }
      for (const c of r.comparisons) console.log(c.verdict);
      console.log(`report: ${o.out}/report.md, ${o.out}/report.html; numbers: ${o.out}/results.json`);
    });
}
