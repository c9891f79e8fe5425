/**
 * HU clip window on a batch [B,H,W]: values below `lo` become `lo`; values above `hi` become
 * `hi` (above = 'clamp') or `lo` (above = 'floor', the seed's exclusive window). Then
 * normalised by the window, (v − lo)/(hi − lo), or by each slice's own range.
 * `lo`/`hi` are numbers or per-slice tensors of shape [B,1,1] (metadata windows).
 * A window with hi = lo, or a constant slice, gives zeros.
 *
 * @example
 *   const [lo, hi] = windowBounds(40, 80);          // [0, 80]
 *   clipWindow(hu, lo, hi, 'clamp', 'image');        // seed window_image(img, 40, 80)
 *   clipWindow(hu, lo, hi, 'floor', 'image');        // seed window_image_bottom(img, 40, 80)
 */
import * as tf from '@tensorflow/tfjs-core';
import { minMaxPerSlice } from './minmax.js';

export type Bound = number | tf.Tensor3D;

export function clipWindow(x: tf.Tensor3D, lo: Bound, hi: Bound, above: 'clamp' | 'floor', norm: 'image' | 'window'): tf.Tensor3D {
  if (x.rank !== 3) throw new Error(`clipWindow: x must be [B,H,W], got shape [${x.shape.join(',')}]`);
  if (above !== 'clamp' && above !== 'floor') throw new Error(`clipWindow: above must be 'clamp' or 'floor', got ${String(above)}`);
  if (norm !== 'image' && norm !== 'window') throw new Error(`clipWindow: norm must be 'image' or 'window', got ${String(norm)}`);
  return tf.tidy(() => {
    const loT = typeof lo === 'number' ? tf.scalar(lo, 'float32') : lo;
    const hiT = typeof hi === 'number' ? tf.scalar(hi, 'float32') : hi;
    const raised = tf.maximum(x, loT);
    const y = above === 'clamp' ? tf.minimum(raised, hiT) : tf.where(tf.greater(x, hiT), tf.broadcastTo(loT, x.shape), raised);
    if (norm === 'image') return minMaxPerSlice(y as tf.Tensor3D);
    return tf.divNoNan(tf.sub(y, loT), tf.sub(hiT, loT)) as tf.Tensor3D;
  });
}
