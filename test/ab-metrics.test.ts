import { describe, expect, it } from 'vitest';
import { accuracy, rocAuc, rocCurve, sensitivityAtSpecificity } from '../src/ab/metrics.js';
import { bootstrapMetric, examGroups, makeRng, pairedBootstrap, quantile, resampleWeights } from '../src/ab/bootstrap.js';

/** Brute-force pairwise AUC (independent of the sweep under test). */
function pairwiseAuc(s: number[], y: number[], w?: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < s.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < s.length; j++) {
      if (y[j] !== 0) continue;
      const ww = (w ? w[i] * w[j] : 1);
      den += ww;
      num += ww * (s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0);
    }
  }
  return num / den;
}

describe('ab metrics: hand-computed values', () => {
  it('AUC of known scores: [0.1,0.4,0.35,0.8] vs [0,0,1,1] is 0.75', () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
  });

  it('ties count 1/2 (midranks)', () => {
    expect(rocAuc([0.5, 0.5], [0, 1])).toBe(0.5);
    // pos 0.5 beats neg 0.2 (1) ties neg 0.5 (0.5); pos 0.9 beats both (2) -> 3.5/4
    expect(rocAuc([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1])).toBeCloseTo(0.875, 12);
    expect(rocAuc([1, 1, 1, 1], [0, 1, 0, 1])).toBe(0.5);
  });

  it('perfect, inverted and undefined', () => {
    expect(rocAuc([0.1, 0.2, 0.3], [0, 1, 1])).toBe(1);
    expect(rocAuc([0.3, 0.2, 0.1], [0, 1, 1])).toBe(0);
    expect(rocAuc([0.3, 0.2], [1, 1])).toBeNaN();
  });

  it('matches brute-force pairwise AUC on random tied scores, weighted and unweighted', () => {
    const rng = makeRng('auc');
    const s = Array.from({ length: 200 }, () => Math.round(rng() * 20) / 20);
    const y = s.map((v) => (rng() < 0.3 + 0.4 * v ? 1 : 0));
    const w = s.map(() => Math.floor(rng() * 3));
    expect(rocAuc(s, y)).toBeCloseTo(pairwiseAuc(s, y), 12);
    expect(rocAuc(s, y, w)).toBeCloseTo(pairwiseAuc(s, y, w), 12);
  });

  it('an integer weight equals duplicating the slice', () => {
    const s = [0.1, 0.4, 0.35, 0.8, 0.5];
    const y = [0, 0, 1, 1, 0];
    expect(rocAuc(s, y, [1, 2, 1, 1, 1])).toBeCloseTo(rocAuc([...s, 0.4], [...y, 0]), 12);
  });

  it('ROC curve points and its trapezoid area', () => {
    const pts = rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);
    expect(pts.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0, 0.5],
      [0.5, 0.5],
      [0.5, 1],
      [1, 1],
    ]);
    let area = 0;
    for (let i = 1; i < pts.length; i++) area += ((pts[i].fpr - pts[i - 1].fpr) * (pts[i].tpr + pts[i - 1].tpr)) / 2;
    expect(area).toBeCloseTo(0.75, 12);
  });

  it('sensitivity at a fixed specificity', () => {
    const s = [0.1, 0.4, 0.35, 0.8];
    const y = [0, 0, 1, 1];
    // threshold 0.35: negatives below = {0.1} -> spec 0.5, both positives >= 0.35
    expect(sensitivityAtSpecificity(s, y, 0.5)).toEqual({ sensitivity: 1, specificity: 0.5, threshold: 0.35 });
    // spec 1 needs threshold 0.8 -> one positive of two
    expect(sensitivityAtSpecificity(s, y, 1)).toEqual({ sensitivity: 0.5, specificity: 1, threshold: 0.8 });
    expect(sensitivityAtSpecificity(s, y, 0).sensitivity).toBe(1);
  });

  it('accuracy at 0.5', () => {
    expect(accuracy([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBe(0.75);
    expect(accuracy([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.3)).toBe(0.75);
    expect(accuracy([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.5, [0, 0, 1, 1])).toBe(0.5);
  });

  it('rejects bad input with the argument named', () => {
    expect(() => rocAuc([0.1, 0.2], [0])).toThrow(/scores \(2\) and labels \(1\)/);
    expect(() => rocAuc([0.1, 0.2], [0, 2])).toThrow(/labels\[1\] must be 0 or 1/);
    expect(() => rocAuc([0.1, NaN], [0, 1])).toThrow(/scores\[1\]/);
    expect(() => rocAuc([0.1, 0.2], [0, 1], [1, -1])).toThrow(/weights\[1\]/);
    expect(() => sensitivityAtSpecificity([0.1, 0.2], [0, 1], 1.5)).toThrow(/target/);
  });
});

/** Tiny exam-structured dataset: 12 exams × 5 slices, positives in half the exams. */
function tinyExams(seed: string, signal: number) {
  const rng = makeRng(seed);
  const exams: string[] = [];
  const y: number[] = [];
  const s: number[] = [];
  for (let e = 0; e < 12; e++) {
    for (let k = 0; k < 5; k++) {
      const label = e % 2 === 0 && k >= 2 ? 1 : 0;
      exams.push(`exam${e}`);
      y.push(label);
      s.push(label * signal + rng());
    }
  }
  return { exams, y, s };
}

describe('ab bootstrap over exams', () => {
  it('resamples whole exams: weights are constant within an exam and sum to the exam count', () => {
    const { exams, y } = tinyExams('w', 0.5);
    const g = examGroups(exams, y);
    expect(g.ids.length).toBe(12);
    expect(g.positive.length).toBe(6);
    const w = resampleWeights(makeRng(3), g);
    for (let e = 0; e < 12; e++) {
      const ws = new Set(exams.flatMap((x, i) => (x === `exam${e}` ? [w[i]] : [])));
      expect(ws.size).toBe(1);
    }
    expect(w.reduce((a, b) => a + b, 0)).toBe(12 * 5);
  });

  it('the percentile interval contains the point estimate and is deterministic', () => {
    const { exams, y, s } = tinyExams('ci', 0.4);
    const ci = bootstrapMetric((w) => rocAuc(s, y, w), exams, y, { replicates: 400, seed: 7 });
    expect(ci.estimate).toBeCloseTo(rocAuc(s, y), 12);
    expect(ci.lo).toBeLessThanOrEqual(ci.estimate);
    expect(ci.hi).toBeGreaterThanOrEqual(ci.estimate);
    expect(ci.hi - ci.lo).toBeGreaterThan(0);
    expect(ci.replicates).toBe(400);
    expect(bootstrapMetric((w) => rocAuc(s, y, w), exams, y, { replicates: 400, seed: 7 })).toEqual(ci);
  });

  it('two identical strategies: paired difference exactly 0, p = 1, not significant', () => {
    const { exams, y, s } = tinyExams('same', 0.4);
    const d = pairedBootstrap((w) => rocAuc(s, y, w), (w) => rocAuc([...s], y, w), exams, y, { replicates: 300, seed: 1 });
    expect(d.estimate).toBe(0);
    expect(d.lo).toBe(0);
    expect(d.hi).toBe(0);
    expect(d.p).toBe(1);
    expect(d.significant).toBe(false);
  });

  it('a strong strategy against noise: CI excludes 0, small p', () => {
    const a = tinyExams('strong', 2);
    const b = tinyExams('noise', 0);
    const d = pairedBootstrap((w) => rocAuc(a.s, a.y, w), (w) => rocAuc(b.s, a.y, w), a.exams, a.y, { replicates: 300, seed: 1 });
    expect(d.estimate).toBeGreaterThan(0.3);
    expect(d.lo).toBeGreaterThan(0);
    expect(d.significant).toBe(true);
    expect(d.p).toBeLessThan(0.05);
  });

  it('quantile is type-7 linear interpolation', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([4, 1, 3, 2], 0.25)).toBe(1.75);
    expect(quantile([NaN, 5], 0.9)).toBe(5);
  });
});
