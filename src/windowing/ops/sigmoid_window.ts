/**
 * Sigmoid window on a batch [B,H,W] (the seed's sigmoid_window):
 *   ue = ln(U/eps − 1), z = (2·ue/width)·(x − center), y = U / (1 + exp(−z))
 * then normalised by each slice's own range (`norm: 'image'`, as in the seed) or left as is.
 * float32: exp(−z) may overflow to +Inf, which gives y = 0, never NaN. (x − center) is formed
 * first so the subtraction is exact for integer HU (the seed's W·x + b is the same in exact arithmetic).
 *
 * @example sigmoidWindow(hu, 40, 80, 1, 1 / 255, 'image') // seed sigmoid_window(img, 40, 80)
 */
import * as tf from '@tensorflow/tfjs-core';
import { minMaxPerSlice } from './minmax.js';

export function sigmoidWindow(x: tf.Tensor3D, center: number, width: number, U: number, eps: number, norm: 'image' | 'none'): tf.Tensor3D {
  if (x.rank !== 3) throw new Error(`sigmoidWindow: x must be [B,H,W], got shape [${x.shape.join(',')}]`);
  if (!Number.isFinite(center)) throw new Error(`sigmoidWindow: center must be finite, got ${center}`);
  if (!(width > 0) || !Number.isFinite(width)) throw new Error(`sigmoidWindow: width must be > 0, got ${width}`);
  if (!(U > 0 && eps > 0 && eps < U)) throw new Error(`sigmoidWindow: need 0 < eps < U, got U=${U}, eps=${eps}`);
  const ue = Math.log(U / eps - 1);
  const k = (2 / width) * ue;
  return tf.tidy(() => {
    const z = tf.mul(tf.sub(x, tf.scalar(center, 'float32')), tf.scalar(k, 'float32'));
    const s = tf.reciprocal(tf.add(tf.scalar(1, 'float32'), tf.exp(tf.neg(z))));
    if (norm === 'image') return minMaxPerSlice(s as tf.Tensor3D); // U cancels
    return (U === 1 ? s : tf.mul(s, tf.scalar(U, 'float32'))) as tf.Tensor3D;
  });
}
