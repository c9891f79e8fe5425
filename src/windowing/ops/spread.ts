/**
 * One window over three channels (the seed's all_channels_window): channel `index` of a grey g
 * is clip(3g − index, 0, 1); the seed puts index 0 in B, 1 in R, 2 in G.
 *
 * @example spreadChannel(g, 1) // seed all_channels_window(img)[:, :, 0]
 */
import * as tf from '@tensorflow/tfjs-core';

export function spreadChannel<T extends tf.Tensor>(g: T, index: 0 | 1 | 2): T {
  if (index !== 0 && index !== 1 && index !== 2) throw new Error(`spreadChannel: index must be 0, 1 or 2, got ${String(index)}`);
  return tf.tidy(() => tf.clipByValue(tf.sub(tf.mul(g, tf.scalar(3, 'float32')), tf.scalar(index, 'float32')), 0, 1)) as T;
}
