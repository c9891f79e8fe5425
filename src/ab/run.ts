/**
 * `ctwindow ab` orchestration: build (or reuse, by config hash) each pipeline's shards over
 * the same exams and exam-level split, train the same seeded small CNN on each, evaluate on
 * the held-out exams (AUC, accuracy, sensitivity at a fixed specificity; exam-level
 * bootstrap CIs), compare strategies pairwise (paired exam bootstrap of the AUC
 * difference) per seed and pooled over K seeds, and write results.json + report.md/html
 * with PNG plots.
 *
 * results.json holds no timings or absolute paths: the same inputs and seeds give the same
 * bytes (timings go to timing.json).
 *
 * @example
 *   const r = await runAb({ pipelines: ['pipelines/ab/pe-band.yaml', 'pipelines/ab/bone.yaml'], out: 'out/ab', seeds: 2 });
 *   console.log(r.comparisons[0].pooled);
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '../backend/index.js';
import { canonicalJson, loadConfig, type LoadedConfig } from '../config/index.js';
import { runPipeline } from '../pipeline/index.js';
import { readManifest } from '../shards/index.js';
import { bootstrapMetric, pairedBootstrap, type MetricCi, type PairedDiff } from './bootstrap.js';
import { loadSplit, selectSlices } from './data.js';
import { accuracy, rank, rocAucRanked, rocCurve, sensitivityAtSpecificityRanked, type Ranked, type RocPoint } from './metrics.js';
import { buildModel, loadModelSpec, type ModelSpec } from './model.js';
import { writeReport } from './report.js';
import { predict, trainModel, type Dataset } from './train.js';

/** Default model spec shipped with the package. */
export const DEFAULT_MODEL = resolve(dirname(fileURLToPath(import.meta.url)), '../../configs/models/small-cnn.yaml');

export interface AbOptions {
  /** Two or more pipeline YAMLs. */
  pipelines: string[];
  /** Output folder (report, results, plots, and shards/ unless shardsDir is given). */
  out: string;
  /** Model spec YAML (default configs/models/small-cnn.yaml). */
  model?: string;
  /** Overrides the spec's train.epochs. */
  epochs?: number;
  /** Number of training seeds K (default 2). */
  seeds?: number;
  /** First training seed (default 1); seeds are seed0 .. seed0+K-1. */
  seed0?: number;
  /** Bootstrap replicates (default 1000). */
  replicates?: number;
  /** Fixed specificity for the sensitivity metric (default 0.9). */
  specificity?: number;
  /** `--set` overrides applied to every pipeline. */
  overrides?: string[];
  /** Where the shards are built / reused (default <out>/shards). */
  shardsDir?: string;
  /** tfjs backend for training (default wasm: XNNPACK kernels, ~4× the cpu backend, same bytes for the same seeds on one machine; cpu: pure JS, same bytes on any machine). */
  backend?: BackendName;
  log?: (line: string) => void;
}

export interface StrategyInfo {
  name: string;
  pipeline: string;
  configHash: string;
  channels: string[];
  trainSlices: number;
  trainPositives: number;
}

export interface SeedResult {
  seed: number;
  auc: MetricCi;
  accuracy: MetricCi;
  sensitivity: MetricCi & { threshold: number };
  /** Mean training loss per epoch. */
  losses: number[];
  roc: RocPoint[];
}

export interface StrategyResult extends StrategyInfo {
  seeds: SeedResult[];
  /** Metrics averaged over seeds, CI from the exam bootstrap of that mean. */
  pooled: { auc: MetricCi; accuracy: MetricCi; sensitivity: MetricCi };
}

export interface Comparison {
  a: string;
  b: string;
  /** AUC(a) − AUC(b) per seed. */
  perSeed: (PairedDiff & { seed: number })[];
  /** Mean over seeds of AUC(a) − AUC(b), the same exam draws for every seed. */
  pooled: PairedDiff;
  /** Plain-language verdict: a winner only when the pooled CI excludes 0. */
  verdict: string;
}

export interface AbResults {
  version: 1;
  model: ModelSpec;
  settings: { seeds: number[]; epochs: number; replicates: number; specificity: number; level: number; backend: string; bootstrapSeed: number };
  data: { valSlices: number; valPositives: number; valExams: number; valPositiveExams: number; trainExams: number; droppedValSlices: number; notes: string[] };
  strategies: StrategyResult[];
  comparisons: Comparison[];
}

const BOOTSTRAP_SEED = 20240611;

/** Fields that must agree so that every strategy sees the same exams and the same split. */
function sameDataKey(c: LoadedConfig['config']): Record<string, unknown> {
  return { source: c.source, split: c.split, seed: c.seed, balance: c.balance };
}

function strategyName(l: LoadedConfig): string {
  return (l.config.name ?? basename(l.file).replace(/\.ya?ml$/i, '')).replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Written next to the shards: the config hash does not cover the data, so reuse also needs the same CSV. */
const SOURCE_MARK = 'ab-source.json';

async function csvDigest(csv: string): Promise<string> {
  try {
    return createHash('sha256').update(await readFile(csv)).digest('hex');
  } catch (e) {
    throw new Error(`ab: cannot read source.csv ${csv} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

async function buildShards(l: LoadedConfig, pipeline: string, overrides: string[], dir: string, log: (s: string) => void): Promise<boolean> {
  const csv = await csvDigest(l.config.source.csv);
  const mark = join(dir, SOURCE_MARK);
  if (existsSync(join(dir, 'manifest.json'))) {
    const m = await readManifest(dir);
    if (m.configHash !== l.hash) {
      throw new Error(`${dir}: holds shards of another config (hash ${m.configHash.slice(0, 12)}, expected ${l.hash.slice(0, 12)}); remove it`);
    }
    let prev: string | undefined;
    try {
      prev = JSON.parse(await readFile(mark, 'utf8')).csvSha256;
    } catch {
      /* absent: not made by ctwindow ab */
    }
    if (prev === csv) {
      log(`shards: reusing ${dir} (config hash ${l.hash.slice(0, 12)}, same train.csv)`);
      return true;
    }
    if (prev === undefined) throw new Error(`${dir}: has shards but no ${SOURCE_MARK} (not made by ctwindow ab); remove it or choose another --shards folder`);
    log(`shards: ${l.config.source.csv} changed since ${dir} was built; rebuilding`);
    await rm(dir, { recursive: true, force: true });
  }
  log(`shards: building ${pipeline} → ${dir}`);
  await runPipeline(pipeline, { overrides: [...overrides, `output.dir=${JSON.stringify(dir)}`], resume: existsSync(dir), log });
  await writeFile(mark, JSON.stringify({ csv: l.config.source.csv, csvSha256: csv }, null, 2) + '\n');
  return false;
}

function metricSet(ranked: Ranked[], scores: Float32Array[], y: Uint8Array, spec: number) {
  const mean = (f: (i: number) => number) => scores.reduce((s, _, i) => s + f(i), 0) / scores.length;
  return {
    auc: (w?: ArrayLike<number>) => mean((i) => rocAucRanked(ranked[i], w)),
    acc: (w?: ArrayLike<number>) => mean((i) => accuracy(scores[i], y, 0.5, w)),
    sens: (w?: ArrayLike<number>) => mean((i) => sensitivityAtSpecificityRanked(ranked[i], spec, w).sensitivity),
  };
}

export async function runAb(o: AbOptions): Promise<AbResults> {
  const log = o.log ?? (() => {});
  if (!Array.isArray(o.pipelines) || o.pipelines.length < 2) throw new Error(`ab: expected at least two pipeline YAMLs, got ${o.pipelines?.length ?? 0}`);
  if (!o.out) throw new Error('ab: --out <dir> is required');
  const K = o.seeds ?? 2;
  if (!Number.isInteger(K) || K < 1 || K > 100) throw new Error(`ab: --seeds must be an integer in 1..100, got ${o.seeds}`);
  const seed0 = o.seed0 ?? 1;
  if (!Number.isInteger(seed0) || seed0 < 0) throw new Error(`ab: --seed must be a non-negative integer, got ${o.seed0}`);
  const replicates = o.replicates ?? 1000;
  const specificity = o.specificity ?? 0.9;
  if (!(specificity > 0 && specificity < 1)) throw new Error(`ab: --specificity must be in (0,1), got ${specificity}`);
  const spec = loadModelSpec(o.model ?? DEFAULT_MODEL);
  if (o.epochs !== undefined) {
    if (!Number.isInteger(o.epochs) || o.epochs < 1) throw new Error(`ab: --epochs must be a positive integer, got ${o.epochs}`);
    spec.train.epochs = o.epochs;
  }
  const overrides = o.overrides ?? [];
  const out = resolve(o.out);
  const shardsRoot = resolve(o.shardsDir ?? join(out, 'shards'));
  const timing: Record<string, number> = {};
  const t0 = Date.now();

  // 1. Configs: same exams, same split.
  const loaded: LoadedConfig[] = [];
  for (const p of o.pipelines) loaded.push(await loadConfig(p, overrides));
  const names = loaded.map(strategyName);
  const dupe = names.find((n, i) => names.indexOf(n) !== i);
  if (dupe) throw new Error(`ab: two pipelines are both named "${dupe}"; give each a distinct name: in its YAML`);
  const key0 = canonicalJson(sameDataKey(loaded[0].config));
  for (const [i, l] of loaded.entries()) {
    if (canonicalJson(sameDataKey(l.config)) !== key0) {
      const diff = Object.keys(sameDataKey(l.config)).filter(
        (k) => canonicalJson((sameDataKey(l.config) as any)[k]) !== canonicalJson((sameDataKey(loaded[0].config) as any)[k]),
      );
      throw new Error(`ab: ${o.pipelines[i]} differs from ${o.pipelines[0]} in ${diff.join(', ')}; an A/B needs the same source, split, seed and balance`);
    }
  }

  // 2. Shards.
  const dirs = loaded.map((l, i) => join(shardsRoot, `${names[i]}-${l.hash.slice(0, 12)}`));
  const reused: boolean[] = [];
  for (const [i, l] of loaded.entries()) reused.push(await buildShards(l, o.pipelines[i], overrides, dirs[i], log));
  timing.shardsMs = Date.now() - t0;

  // 3. Training backend (the pipeline may have selected another one).
  const backend = await initBackend(o.backend ?? 'wasm', log);
  log(`ab: training on ${backend.name} (${backend.reason})`);

  // 4. Data: evaluation on the slices every strategy has, in one order.
  const S = spec.input.size;
  const trains: Dataset[] = [];
  const vals: Dataset[] = [];
  const notes: string[] = [];
  for (const [i, d] of dirs.entries()) {
    const tr = await loadSplit(d, 'train', { size: S });
    const va = await loadSplit(d, 'val', { size: S, unique: true });
    if (va.duplicates) notes.push(`${names[i]}: ${va.duplicates} repeated validation slices counted once`);
    trains.push(tr);
    vals.push(va);
  }
  const common = vals[0].ids.filter((id) => vals.every((v) => v.ids.includes(id)));
  const dropped = Math.max(...vals.map((v) => v.ids.length)) - common.length;
  if (dropped) notes.push(`${dropped} validation slices missing from some strategy (quarantined there) are left out of every strategy's evaluation`);
  if (common.length === 0) throw new Error('ab: the strategies share no validation slice');
  const aligned = vals.map((v) => selectSlices(v, common));
  tf.dispose(vals.map((v) => v.x));
  const trainKeys = trains.map((t) => [...t.ids].sort().join('\n'));
  if (trainKeys.some((k) => k !== trainKeys[0])) notes.push('the training slices differ between strategies (quarantine); each strategy trains on the slices its pipeline wrote');
  const y = aligned[0].y;
  const exams = aligned[0].exams;
  const valExams = new Set(exams);
  const posExams = new Set(exams.filter((_, i) => y[i] === 1));
  const trainExams = new Set(trains[0].exams);
  if (posExams.size === 0 || posExams.size === valExams.size) {
    throw new Error(`ab: the validation split needs exams with and without positive slices (has ${posExams.size} of ${valExams.size} with positives)`);
  }
  for (const e of valExams) if (trainExams.has(e)) throw new Error(`ab: exam ${e} is in both train and val; the split must be exam-level`);
  log(`ab: ${trains[0].x.shape[0]} training slices, ${common.length} validation slices in ${valExams.size} exams (${posExams.size} with PE)`);

  // 5. Train K seeds × strategies.
  const seeds = Array.from({ length: K }, (_, k) => seed0 + k);
  const scores: Float32Array[][] = loaded.map(() => []);
  const losses: number[][][] = loaded.map(() => []);
  const tTrain = Date.now();
  for (const seed of seeds) {
    for (const [i] of loaded.entries()) {
      const ts = Date.now();
      const model = buildModel(spec, { channels: trains[i].x.shape[3], seed });
      const l = await trainModel(model, trains[i], { ...spec.train, seed, onEpoch: (e, loss) => log(`ab: ${names[i]} seed ${seed} epoch ${e + 1}/${spec.train.epochs} loss ${loss.toFixed(4)}`) });
      scores[i].push(await predict(model, aligned[i].x));
      losses[i].push(l);
      model.dispose();
      timing[`train:${names[i]}:${seed}`] = Date.now() - ts;
    }
  }
  timing.trainMs = Date.now() - tTrain;
  tf.dispose([...trains.map((t) => t.x), ...aligned.map((a) => a.x)]);

  // 6. Metrics with exam-level bootstrap CIs.
  const tEval = Date.now();
  const bo = { replicates, seed: BOOTSTRAP_SEED, level: 0.95 };
  const ranked = scores.map((ss) => ss.map((s) => rank(s, y)));
  const strategies: StrategyResult[] = loaded.map((l, i) => {
    const perSeed: SeedResult[] = seeds.map((seed, k) => {
      const m = metricSet([ranked[i][k]], [scores[i][k]], y, specificity);
      const sAt = sensitivityAtSpecificityRanked(ranked[i][k], specificity);
      return {
        seed,
        auc: bootstrapMetric(m.auc, exams, y, bo),
        accuracy: bootstrapMetric(m.acc, exams, y, bo),
        sensitivity: { ...bootstrapMetric(m.sens, exams, y, bo), threshold: sAt.threshold },
        losses: losses[i][k],
        roc: rocCurve(scores[i][k], y),
      };
    });
    const m = metricSet(ranked[i], scores[i], y, specificity);
    return {
      name: names[i],
      pipeline: o.pipelines[i],
      configHash: l.hash,
      channels: trains[i].channels,
      trainSlices: trains[i].y.length,
      trainPositives: trains[i].y.reduce((a, b) => a + b, 0),
      seeds: perSeed,
      pooled: { auc: bootstrapMetric(m.auc, exams, y, bo), accuracy: bootstrapMetric(m.acc, exams, y, bo), sensitivity: bootstrapMetric(m.sens, exams, y, bo) },
    };
  });
  const comparisons: Comparison[] = [];
  for (let a = 0; a < loaded.length; a++) {
    for (let b = a + 1; b < loaded.length; b++) {
      const perSeed = seeds.map((seed, k) => ({
        seed,
        ...pairedBootstrap((w) => rocAucRanked(ranked[a][k], w), (w) => rocAucRanked(ranked[b][k], w), exams, y, bo),
      }));
      const ma = metricSet(ranked[a], scores[a], y, specificity);
      const mb = metricSet(ranked[b], scores[b], y, specificity);
      const pooled = pairedBootstrap(ma.auc, mb.auc, exams, y, bo);
      comparisons.push({ a: names[a], b: names[b], perSeed, pooled, verdict: verdict(names[a], names[b], pooled, valExams.size) });
    }
  }
  timing.evalMs = Date.now() - tEval;

  const results: AbResults = {
    version: 1,
    model: spec,
    settings: { seeds, epochs: spec.train.epochs, replicates, specificity, level: bo.level, backend: backend.name, bootstrapSeed: BOOTSTRAP_SEED },
    data: {
      valSlices: common.length,
      valPositives: y.reduce((a, b) => a + b, 0),
      valExams: valExams.size,
      valPositiveExams: posExams.size,
      trainExams: trainExams.size,
      droppedValSlices: dropped,
      notes,
    },
    strategies,
    comparisons,
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  await writeReport(out, results, { timing: { ...timing, totalMs: Date.now() - t0 } });
  timing.totalMs = Date.now() - t0;
  // Run-dependent facts (times, reuse) stay out of results.json so that it is reproducible.
  const shards = Object.fromEntries(names.map((n, i) => [n, { dir: dirs[i], reused: reused[i] }]));
  await writeFile(join(out, 'timing.json'), JSON.stringify({ backend: backend.name, shards, ...timing }, null, 2) + '\n');
  return results;
}

/** States a winner only when the paired CI of the pooled AUC difference excludes 0. */
export function verdict(a: string, b: string, d: PairedDiff, exams: number): string {
  const ci = `${fmt(d.estimate)} (95% CI ${fmt(d.lo)} to ${fmt(d.hi)}, p = ${d.p < 0.001 ? '< 0.001' : d.p.toFixed(3)})`;
  if (d.significant) {
    const [w, l] = d.estimate > 0 ? [a, b] : [b, a];
    return `${w} beats ${l}: AUC difference ${a} − ${b} = ${ci}; the interval excludes 0 over ${exams} held-out exams.`;
  }
  return `No significant difference between ${a} and ${b}: AUC difference ${a} − ${b} = ${ci}; the interval includes 0, so this data does not pick a winner.`;
}

function fmt(v: number): string {
  return Number.isFinite(v) ? (v >= 0 ? '+' : '−') + Math.abs(v).toFixed(3) : 'n/a';
}
