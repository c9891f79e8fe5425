/**
 * Weighted ensemble Σ wᵢ·xᵢ of a scalar's terms, summed left to right as the seed does
 * (a·0.3 + b·0.5 + c·0.2); a weight of 1 multiplies nothing. float32 at every step.
 *
 * @example
 *   ensemble.tfjs(tf, [a, b, c], [0.3, 0.5, 0.2])
 *   ensemble.wgsl(['nterm0(x, s)', 'nterm1(x, s)'], [0.3, 0.7]) // '0.3 * nterm0(x, s) + 0.7 * nterm1(x, s)'
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { Tf } from './types.js';
import { f32 } from './wgsl.js';

const f = Math.fround;

function check(n: number, weights: number[]): void {
  if (n === 0) throw new Error('ensemble: no terms');
  if (weights.length !== n) throw new Error(`ensemble: ${n} terms but ${weights.length} weights`);
  weights.forEach((w, i) => {
    if (!Number.isFinite(w)) throw new Error(`ensemble: weights[${i}] must be finite, got ${w}`);
  });
}

export const ensemble = {
  problem(weights: number[]): string | undefined {
    const i = weights.findIndex((w) => !Number.isFinite(w));
    return i < 0 ? undefined : `term ${i}: weight ${weights[i]} is not finite`;
  },
  tfjs<T extends TF.Tensor>(tf: Tf, xs: T[], weights: number[]): T {
    check(xs.length, weights);
    return tf.tidy(() => {
      const term = (i: number) => (weights[i] === 1 ? xs[i] : tf.mul(xs[i], tf.scalar(weights[i], 'float32')));
      let acc: TF.Tensor = term(0);
      for (let i = 1; i < xs.length; i++) acc = tf.add(acc, term(i));
      return xs.length === 1 && weights[0] === 1 ? tf.clone(acc) : acc;
    }) as T;
  },
  /** The sum of the given term tables, into the first (which the caller owns). */
  table(xs: Float32Array[], weights: number[]): Float32Array {
    check(xs.length, weights);
    const acc = xs[0];
    const fw = weights.map(f);
    if (weights[0] !== 1) for (let i = 0; i < acc.length; i++) acc[i] = acc[i] * fw[0];
    for (let k = 1; k < xs.length; k++) {
      const v = xs[k];
      const w = fw[k];
      if (weights[k] === 1) for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + v[i];
      else for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + f(v[i] * w);
    }
    return acc;
  },
  wgsl(parts: string[], weights: number[]): string {
    check(parts.length, weights);
    return parts.map((p, i) => (weights[i] === 1 ? p : `${f32(weights[i])} * ${p}`)).join(' + ');
  },
};
