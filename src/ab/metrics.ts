/**
 * Binary-classification metrics on per-slice scores, with optional non-negative weights
 * (an exam-level bootstrap replicate is expressed as weights = how many times each slice's
 * exam was drawn, so the same code serves the point estimate and every replicate).
 *
 * Hand-written because no maintained JS package offers a weighted, tie-correct ROC AUC:
 * the sweep below is the Mann–Whitney U statistic with midranks (a tied positive/negative
 * pair counts 1/2), computed in one pass over the scores sorted once.
 *
 * @example
 *   rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);            // 0.75
 *   sensitivityAtSpecificity([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.5); // { sensitivity: 1, threshold: 0.35, ... }
 */

export type Scores = ArrayLike<number>;
export type Labels = ArrayLike<number>;
export type Weights = ArrayLike<number>;

/** Scores sorted ascending once; reused by every weighted metric of a bootstrap. */
export interface Ranked {
  /** Indices into the original arrays, ascending by score (stable). */
  order: Int32Array;
  scores: Float64Array;
  labels: Uint8Array;
}

function validate(scores: Scores, labels: Labels, weights?: Weights): void {
  if (scores.length !== labels.length) {
    throw new Error(`metrics: scores (${scores.length}) and labels (${labels.length}) differ in length`);
  }
  if (weights && weights.length !== scores.length) {
    throw new Error(`metrics: weights (${weights.length}) and scores (${scores.length}) differ in length`);
  }
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) throw new Error(`metrics: scores[${i}] is not a finite number (${scores[i]})`);
    if (labels[i] !== 0 && labels[i] !== 1) throw new Error(`metrics: labels[${i}] must be 0 or 1, got ${labels[i]}`);
    if (weights && !(weights[i] >= 0)) throw new Error(`metrics: weights[${i}] must be >= 0, got ${weights[i]}`);
  }
}

/** Validates and sorts once. */
export function rank(scores: Scores, labels: Labels): Ranked {
  validate(scores, labels);
  const n = scores.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => scores[a] - scores[b] || a - b);
  return { order, scores: Float64Array.from(scores), labels: Uint8Array.from(labels) };
}

/** Weighted positive/negative totals. */
function totals(r: Ranked, w?: Weights): { pos: number; neg: number } {
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < r.labels.length; i++) {
    const wi = w ? w[i] : 1;
    if (r.labels[i] === 1) pos += wi;
    else neg += wi;
  }
  return { pos, neg };
}

/**
 * ROC AUC = P(score_pos > score_neg) + 0.5 P(tie). NaN when one class has zero weight.
 */
export function rocAucRanked(r: Ranked, w?: Weights): number {
  const { order, scores, labels } = r;
  let negBelow = 0;
  let sum = 0;
  let pos = 0;
  let i = 0;
  while (i < order.length) {
    const s = scores[order[i]];
    let gPos = 0;
    let gNeg = 0;
    let j = i;
    for (; j < order.length && scores[order[j]] === s; j++) {
      const k = order[j];
      const wk = w ? w[k] : 1;
      if (labels[k] === 1) gPos += wk;
      else gNeg += wk;
    }
    sum += gPos * (negBelow + 0.5 * gNeg);
    negBelow += gNeg;
    pos += gPos;
    i = j;
  }
  const neg = negBelow;
  return pos > 0 && neg > 0 ? sum / (pos * neg) : NaN;
}

/** ROC AUC (midranks for ties), optionally weighted. */
export function rocAuc(scores: Scores, labels: Labels, weights?: Weights): number {
  if (weights) validate(scores, labels, weights);
  return rocAucRanked(rank(scores, labels), weights);
}

export interface RocPoint {
  /** Predict positive when score >= threshold. */
  threshold: number;
  fpr: number;
  tpr: number;
}

/**
 * ROC curve: one point per distinct score (descending thresholds), starting at (0,0)
 * with threshold +Infinity and ending at (1,1).
 */
export function rocCurve(scores: Scores, labels: Labels, weights?: Weights): RocPoint[] {
  validate(scores, labels, weights);
  const r = rank(scores, labels);
  const { pos, neg } = totals(r, weights);
  if (!(pos > 0 && neg > 0)) throw new Error('rocCurve: needs at least one positive and one negative (with weight > 0)');
  const pts: RocPoint[] = [{ threshold: Infinity, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  let i = r.order.length - 1;
  while (i >= 0) {
    const s = r.scores[r.order[i]];
    for (; i >= 0 && r.scores[r.order[i]] === s; i--) {
      const k = r.order[i];
      const wk = weights ? weights[k] : 1;
      if (r.labels[k] === 1) tp += wk;
      else fp += wk;
    }
    pts.push({ threshold: s, fpr: fp / neg, tpr: tp / pos });
  }
  return pts;
}

export interface SensAtSpec {
  sensitivity: number;
  /** Specificity actually reached (>= the target). */
  specificity: number;
  /** Predict positive when score >= threshold (Infinity: nothing positive). */
  threshold: number;
}

/**
 * Highest sensitivity whose specificity is at least `target`, thresholding at the
 * scores themselves (positive when score >= threshold).
 */
export function sensitivityAtSpecificityRanked(r: Ranked, target: number, w?: Weights): SensAtSpec {
  if (!(target >= 0 && target <= 1)) throw new Error(`sensitivityAtSpecificity: target must be in [0,1], got ${target}`);
  const { pos, neg } = totals(r, w);
  if (!(pos > 0 && neg > 0)) return { sensitivity: NaN, specificity: NaN, threshold: NaN };
  // Ascending sweep: at threshold t = s (a distinct score), negatives below t are true negatives.
  let negBelow = 0;
  let posBelow = 0;
  let i = 0;
  const eps = 1e-12;
  while (i < r.order.length) {
    const s = r.scores[r.order[i]];
    if (negBelow / neg >= target - eps) {
      return { sensitivity: (pos - posBelow) / pos, specificity: negBelow / neg, threshold: s };
    }
    for (; i < r.order.length && r.scores[r.order[i]] === s; i++) {
      const k = r.order[i];
      const wk = w ? w[k] : 1;
      if (r.labels[k] === 1) posBelow += wk;
      else negBelow += wk;
    }
  }
  return { sensitivity: 0, specificity: 1, threshold: Infinity };
}

export function sensitivityAtSpecificity(scores: Scores, labels: Labels, target: number, weights?: Weights): SensAtSpec {
  if (weights) validate(scores, labels, weights);
  return sensitivityAtSpecificityRanked(rank(scores, labels), target, weights);
}

/** Weighted fraction of slices with (score >= threshold) === label. */
export function accuracy(scores: Scores, labels: Labels, threshold = 0.5, weights?: Weights): number {
  validate(scores, labels, weights);
  let ok = 0;
  let tot = 0;
  for (let i = 0; i < scores.length; i++) {
    const wi = weights ? weights[i] : 1;
    tot += wi;
    if ((scores[i] >= threshold ? 1 : 0) === labels[i]) ok += wi;
  }
  return tot > 0 ? ok / tot : NaN;
}
