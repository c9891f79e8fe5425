/**
 * Min–max normalisation by the slice's own range: (x − min) / (max − min), a constant slice
 * (max = min) giving zeros, not NaN (the seed divides by zero there). Used by every term or
 * scalar whose `norm` is 'image'. A min/max over a slice's pixels equals the min/max over its
 * distinct values, so the table form normalises the table itself.
 *
 * @example
 *   minMax.tfjs(tf, tf.tensor3d([[[1, 3]], [[5, 5]]])) // [[[0, 1]], [[0, 0]]]
 *   minMax.table(Float32Array.of(1, 3))                // [0, 1] (in place)
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { Tf } from './types.js';

const f = Math.fround;

export const minMax = {
  /** Per-slice over H and W: tf.divNoNan(x − min, max − min). */
  tfjs(tf: Tf, x: TF.Tensor3D): TF.Tensor3D {
    if (x.rank !== 3) throw new Error(`minMax: x must be [B,H,W], got shape [${x.shape.join(',')}]`);
    return tf.tidy(() => {
      const mn = tf.min(x, [1, 2], true);
      const mx = tf.max(x, [1, 2], true);
      return tf.divNoNan(tf.sub(x, mn), tf.sub(mx, mn)) as TF.Tensor3D;
    });
  },
  /** In place over one slice's values; the same float32 steps as divNoNan(sub, sub) on tfjs-cpu. */
  table(v: Float32Array): Float32Array {
    let mn = v[0];
    let mx = v[0];
    for (let i = 1; i < v.length; i++) {
      const x = v[i];
      if (x < mn) mn = x;
      if (x > mx) mx = x;
    }
    const d = f(mx - mn);
    if (d === 0) return v.fill(0);
    for (let i = 0; i < v.length; i++) v[i] = f(v[i] - mn) / d;
    return v;
  },
  /** WGSL normalising `v` by the range (mn, mx) read from `at` (an array expression, two values). */
  wgsl(mn: string, mx: string, after = ''): string {
    return `let mn = ${mn}; let mx = ${mx};\n  if (mx > mn) {\n    let r = clamp((v - mn) / (mx - mn), 0.0, 1.0);${after}\n    return r;\n  }\n  return 0.0;`;
  },
};
