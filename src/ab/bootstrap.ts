/**
 * Exam-level (cluster) bootstrap: slices of one exam are correlated, so a replicate
 * draws whole exams with replacement and weights every slice by how many times its exam
 * was drawn. Draws are stratified by exam class (exams with any positive slice vs none)
 * so every replicate has both classes and the AUC is defined. Percentile intervals;
 * the paired comparison applies the *same* exam draw to both strategies.
 *
 * RNG: seedrandom's ARC4 generator (deterministic for a given seed string).
 *
 * @example
 *   const exams = ['e1', 'e1', 'e2', 'e3'];
 *   const ci = bootstrapMetric((w) => rocAuc(scores, labels, w), exams, labels, { seed: 1 });
 *   const d = pairedBootstrap((w) => rocAuc(a, labels, w), (w) => rocAuc(b, labels, w), exams, labels);
 *   if (d.lo > 0 || d.hi < 0) console.log('significant');
 */
import seedrandom from 'seedrandom';
import type { Labels, Weights } from './metrics.js';

export type Rng = () => number;

/** Deterministic uniform [0,1) generator. */
export function makeRng(seed: number | string): Rng {
  const r = seedrandom(String(seed));
  return () => r.double();
}

/** Uniform integer in [0, n). */
export function randInt(rng: Rng, n: number): number {
  return Math.floor(rng() * n);
}

/** Fisher–Yates permutation of 0..n-1. */
export function permutation(rng: Rng, n: number): Int32Array {
  const p = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = randInt(rng, i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export interface ExamGroups {
  /** Distinct exam ids in first-seen order. */
  ids: string[];
  /** Slice index -> exam index. */
  sliceExam: Int32Array;
  /** Exam indices with at least one positive slice / with none. */
  positive: Int32Array;
  negative: Int32Array;
}

export function examGroups(exams: ArrayLike<string>, labels: Labels): ExamGroups {
  if (exams.length !== labels.length) {
    throw new Error(`bootstrap: exams (${exams.length}) and labels (${labels.length}) differ in length`);
  }
  const idx = new Map<string, number>();
  const ids: string[] = [];
  const sliceExam = new Int32Array(exams.length);
  const pos: boolean[] = [];
  for (let i = 0; i < exams.length; i++) {
    const e = exams[i];
    if (typeof e !== 'string' || e === '') throw new Error(`bootstrap: exams[${i}] must be a non-empty exam id`);
    let k = idx.get(e);
    if (k === undefined) {
      k = ids.length;
      idx.set(e, k);
      ids.push(e);
      pos.push(false);
    }
    sliceExam[i] = k;
    if (labels[i] === 1) pos[k] = true;
  }
  const positive = Int32Array.from(pos.flatMap((p, k) => (p ? [k] : [])));
  const negative = Int32Array.from(pos.flatMap((p, k) => (p ? [] : [k])));
  return { ids, sliceExam, positive, negative };
}

/** One replicate: per-slice weights = number of times the slice's exam was drawn. */
export function resampleWeights(rng: Rng, g: ExamGroups): Float64Array {
  const counts = new Float64Array(g.ids.length);
  for (const stratum of [g.positive, g.negative]) {
    for (let i = 0; i < stratum.length; i++) counts[stratum[randInt(rng, stratum.length)]]++;
  }
  const w = new Float64Array(g.sliceExam.length);
  for (let i = 0; i < w.length; i++) w[i] = counts[g.sliceExam[i]];
  return w;
}

/** Linear-interpolation quantile (type 7) of finite values, q in [0,1]. */
export function quantile(values: ArrayLike<number>, q: number): number {
  const v = Array.from(values).filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const h = (v.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return v[lo] + (h - lo) * (v[hi] - v[lo]);
}

export interface BootstrapOptions {
  /** Replicates (default 1000). */
  replicates?: number;
  /** RNG seed (default 0). */
  seed?: number | string;
  /** Two-sided confidence level (default 0.95). */
  level?: number;
}

export interface MetricCi {
  estimate: number;
  lo: number;
  hi: number;
  level: number;
  /** Replicates with a finite value (the others are dropped). */
  replicates: number;
}

function opts(o: BootstrapOptions): Required<BootstrapOptions> {
  const replicates = o.replicates ?? 1000;
  const level = o.level ?? 0.95;
  if (!Number.isInteger(replicates) || replicates < 1) throw new Error(`bootstrap: replicates must be a positive integer, got ${replicates}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap: level must be in (0,1), got ${level}`);
  return { replicates, level, seed: o.seed ?? 0 };
}

/** The finite values of `metric` over `o.replicates` seeded exam-level resamples. */
function replicates(metric: (w?: Weights) => number, exams: ArrayLike<string>, labels: Labels, o: ReturnType<typeof opts>): number[] {
  const g = examGroups(exams, labels);
  const rng = makeRng(o.seed);
  const reps: number[] = [];
  for (let b = 0; b < o.replicates; b++) {
    const v = metric(resampleWeights(rng, g));
    if (Number.isFinite(v)) reps.push(v);
  }
  return reps;
}

/**
 * Percentile CI of `metric` over exam-level resamples. `metric(undefined)` is the point
 * estimate; `metric(weights)` a replicate.
 */
export function bootstrapMetric(
  metric: (w?: Weights) => number,
  exams: ArrayLike<string>,
  labels: Labels,
  options: BootstrapOptions = {},
): MetricCi {
  const o = opts(options);
  const reps = replicates(metric, exams, labels, o);
  const a = (1 - o.level) / 2;
  return { estimate: metric(undefined), lo: quantile(reps, a), hi: quantile(reps, 1 - a), level: o.level, replicates: reps.length };
}

export interface PairedDiff extends MetricCi {
  /** Two-sided bootstrap p-value for H0: difference = 0. */
  p: number;
  /** True when the CI excludes 0. */
  significant: boolean;
}

/**
 * Paired bootstrap of metricA − metricB: each replicate applies one exam draw to both.
 * p = min(1, 2·min(P*(d ≤ 0), P*(d ≥ 0))) with the (count+1)/(B+1) correction, so two
 * identical strategies (d ≡ 0) give p = 1.
 */
export function pairedBootstrap(
  metricA: (w?: Weights) => number,
  metricB: (w?: Weights) => number,
  exams: ArrayLike<string>,
  labels: Labels,
  options: BootstrapOptions = {},
): PairedDiff {
  const o = opts(options);
  // One exam draw per replicate, applied to both metrics.
  const reps = replicates((w) => metricA(w) - metricB(w), exams, labels, o);
  const a = (1 - o.level) / 2;
  const lo = quantile(reps, a);
  const hi = quantile(reps, 1 - a);
  const B = reps.length;
  const le = reps.filter((d) => d <= 0).length;
  const ge = reps.filter((d) => d >= 0).length;
  const p = B > 0 ? Math.min(1, 2 * Math.min((le + 1) / (B + 1), (ge + 1) / (B + 1))) : NaN;
  return {
    estimate: metricA(undefined) - metricB(undefined),
    lo,
    hi,
    level: o.level,
    replicates: B,
    p,
    significant: B > 0 && (lo > 0 || hi < 0),
  };
}
