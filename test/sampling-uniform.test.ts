/**
 * Balanced sampling is uniform and mixes exams, on a generated 1,000-exam RSNA-like CSV read
 * through the real source stage (counting pass + stream): the negatives kept per exam decile
 * fit the uniform expectation (chi-square, 9 degrees of freedom) under several shuffle windows
 * and seeds, every positive is kept, batches hold the fraction, and a 32-slice batch draws from
 * many exams. Oversampling repeats every minority row equally often (±1).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countSource, readSource, type SourceOptions } from '../src/source/index.js';
import { Balancer, Rng, type RefBatch } from '../src/sampling/index.js';
import type { SliceRef } from '../src/types.js';

const EXAMS = 1000;
/** Chi-square critical value, 9 degrees of freedom, p = 0.001. */
const CHI2_9_P001 = 27.88;

let dir = '';
let opts: SourceOptions;
/** Exam index (CSV order) of every study UID, and negatives per exam. */
const examOf = new Map<string, number>();
const negativesPerExam: number[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctw-sampling-'));
  // RSNA-like: exams of 60–300 slices listed together; a third of the exams hold a contiguous
  // run of positive slices (the embolus), the rest are all negative.
  const rng = new Rng(2024, 'csv');
  const rows = ['StudyInstanceUID,SeriesInstanceUID,SOPInstanceUID,pe_present_on_image'];
  for (let e = 0; e < EXAMS; e++) {
    const study = `1.2.840.${e + 1}`;
    const n = 60 + rng.int(241);
    const positive = rng.int(3) === 0;
    const from = rng.int(n);
    const len = positive ? 5 + rng.int(Math.max(1, Math.floor(n / 4))) : 0;
    let neg = 0;
    for (let s = 0; s < n; s++) {
      const label = s >= from && s < from + len ? 1 : 0;
      if (!label) neg++;
      rows.push(`${study},${study}.1,${study}.1.${s + 1},${label}`);
    }
    examOf.set(study, e);
    negativesPerExam.push(neg);
  }
  writeFileSync(join(dir, 'train.csv'), rows.join('\n') + '\n');
  opts = { csv: join(dir, 'train.csv'), dicomRoot: join(dir, 'train'), label: 'pe_present_on_image', columns: { study: 'StudyInstanceUID', series: 'SeriesInstanceUID', sop: 'SOPInstanceUID' }, seed: 1, valFraction: 0 };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function sample(mode: 'undersample' | 'oversample', window: number, seed: number, batchSize = 32): Promise<{ batches: RefBatch[]; balancer: Balancer }> {
  const counts = (await countSource(opts, ['train'])).splits.train;
  const balancer = new Balancer({ mode, positiveFraction: 0.5, batchSize, window, seed, stream: 'train', counts });
  const batches: RefBatch[] = [];
  for await (const item of readSource(opts)) {
    if (item.kind === 'ref') batches.push(...balancer.push({ ...item.ref, split: 'train' }));
  }
  batches.push(...balancer.end());
  return { batches, balancer };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

describe('undersampling: uniform over the CSV, batches mixing exams', () => {
  for (const [window, seed] of [[64, 1], [512, 2], [4096, 3], [32, 4]] as const) {
    it(`window ${window}, seed ${seed}: negatives per exam decile fit uniform; every positive kept; median distinct exams per batch ≥ 8`, async () => {
      const { batches, balancer } = await sample('undersample', window, seed);
      const kept: SliceRef[] = batches.flatMap((b) => b.refs);
      const positives = kept.filter((r) => r.label === 1);
      const negatives = kept.filter((r) => r.label === 0);
      const counted = balancer.stats.counted;
      expect(positives.length).toBe(counted.positives); // the minority: all kept
      expect(negatives.length).toBe(counted.positives); // 50/50
      expect(new Set(kept.map((r) => r.sop)).size).toBe(kept.length); // no row twice
      // Every full batch holds 16 + 16.
      for (const b of batches.slice(0, -1)) expect(b.refs.filter((r) => r.label === 1).length).toBe(16);
      // Negatives kept per exam decile (exams in CSV order) against the uniform expectation.
      const rate = negatives.length / counted.negatives;
      const observed = new Array(10).fill(0);
      const expected = new Array(10).fill(0);
      for (const r of negatives) observed[Math.floor((examOf.get(r.study)! * 10) / EXAMS)]++;
      negativesPerExam.forEach((n, e) => (expected[Math.floor((e * 10) / EXAMS)] += n * rate));
      const chi2 = observed.reduce((s, o, i) => s + (o - expected[i]) ** 2 / expected[i], 0);
      const exams = batches.filter((b) => b.refs.length === 32).map((b) => new Set(b.refs.map((r) => r.study)).size);
      console.log(`[sampling] window ${window}: chi-square ${chi2.toFixed(2)} (9 dof; fails above ${CHI2_9_P001}); kept per decile ${observed.join(' ')}; median distinct exams per 32-slice batch ${median(exams)} (min ${Math.min(...exams)})`);
      expect(chi2).toBeLessThan(CHI2_9_P001);
      expect(median(exams)).toBeGreaterThanOrEqual(8);
    });
  }

  it('the same seed gives the same batches; another seed other ones', async () => {
    const a = (await sample('undersample', 512, 7)).batches.map((b) => b.refs.map((r) => r.sop).join());
    const b = (await sample('undersample', 512, 7)).batches.map((b) => b.refs.map((r) => r.sop).join());
    const c = (await sample('undersample', 512, 8)).batches.map((b) => b.refs.map((r) => r.sop).join());
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
  });
});

describe('oversampling: every minority row repeated equally often', () => {
  it('each positive appears ⌊T/M⌋ or ⌈T/M⌉ times, every negative once, batches 16 + 16', async () => {
    const { batches, balancer } = await sample('oversample', 512, 5);
    const times = new Map<string, number>();
    for (const b of batches) for (const r of b.refs) times.set(r.sop, (times.get(r.sop) ?? 0) + 1);
    const { positives, negatives } = balancer.stats.counted;
    const perPositive: number[] = [];
    const perNegative: number[] = [];
    const labels = new Map<string, 0 | 1>();
    for (const b of batches) for (const r of b.refs) labels.set(r.sop, r.label);
    for (const [sop, n] of times) (labels.get(sop) === 1 ? perPositive : perNegative).push(n);
    expect(perNegative.length).toBe(negatives);
    expect(new Set(perNegative)).toEqual(new Set([1]));
    expect(perPositive.length).toBe(positives);
    const lo = Math.min(...perPositive);
    expect(Math.max(...perPositive) - lo).toBeLessThanOrEqual(1);
    expect(perPositive.reduce((a, b) => a + b, 0)).toBe(negatives); // 50/50 overall
    for (const b of batches.slice(0, -1)) expect(b.refs.filter((r) => r.label === 1).length).toBe(16);
  });
});
