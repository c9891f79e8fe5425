/**
 * Per-slice min–max normalisation of a batch: (x − min) / (max − min), reductions over H and W.
 * A constant slice (max = min) gives zeros, not NaN (the seed divides by zero there).
 *
 * @example
 *   minMaxPerSlice(tf.tensor3d([[[1, 3]], [[5, 5]]])) // [[[0, 1]], [[0, 0]]]
 */
import * as tf from '@tensorflow/tfjs-core';

export function minMaxPerSlice(x: tf.Tensor3D): tf.Tensor3D {
  if (x.rank !== 3) throw new Error(`minMaxPerSlice: x must be [B,H,W], got shape [${x.shape.join(',')}]`);
  return tf.tidy(() => {
    const mn = tf.min(x, [1, 2], true);
    const mx = tf.max(x, [1, 2], true);
    // divNoNan: 0 where the range is 0 (constant slice).
    return tf.divNoNan(tf.sub(x, mn), tf.sub(mx, mn)) as tf.Tensor3D;
  });
}
