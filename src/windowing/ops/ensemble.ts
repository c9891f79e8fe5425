/**
 * Weighted ensemble Σ wᵢ·xᵢ of same-shaped tensors, summed left to right as the seed does
 * (a·0.3 + b·0.5 + c·0.2). A single term with weight 1 is returned as a clone.
 *
 * @example weightedSum([a, b, c], [0.3, 0.5, 0.2])
 */
import * as tf from '@tensorflow/tfjs-core';

export function weightedSum<T extends tf.Tensor>(xs: T[], weights: number[]): T {
  if (xs.length === 0) throw new Error('weightedSum: xs must not be empty');
  if (weights.length !== xs.length) throw new Error(`weightedSum: ${xs.length} tensors but ${weights.length} weights`);
  weights.forEach((w, i) => {
    if (!Number.isFinite(w)) throw new Error(`weightedSum: weights[${i}] must be finite, got ${w}`);
  });
  return tf.tidy(() => {
    const term = (i: number) => (weights[i] === 1 ? xs[i] : tf.mul(xs[i], tf.scalar(weights[i], 'float32')));
    let acc: tf.Tensor = term(0);
    for (let i = 1; i < xs.length; i++) acc = tf.add(acc, term(i));
    return xs.length === 1 && weights[0] === 1 ? tf.clone(acc) : acc;
  }) as T;
}
