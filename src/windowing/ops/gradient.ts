/**
 * One component of the seed's map_to_gradient (blue → green → red colormap of a grey g):
 *   r = clip(4g − 2, 0, 1) · [g > floor] · [g ≤ 1]
 *   g = clip(4g · [g ≤ 0.75], 0, 1) + clip((4 − 4g) · [g > 0.75], 0, 1)
 *   b = clip(2 − 4g, 0, 1) · [g > floor] · [g ≤ 1]
 * floor = 0 (map_to_gradient) or 0.01 (map_to_gradient_sig).
 *
 * @example tf.stack(['r', 'g', 'b'].map((c) => gradientComponent(g, c, 0)), -1) // seed map_to_gradient(g)
 */
import * as tf from '@tensorflow/tfjs-core';

export function gradientComponent<T extends tf.Tensor>(g: T, component: 'r' | 'g' | 'b', floor: number): T {
  if (!['r', 'g', 'b'].includes(component)) throw new Error(`gradientComponent: component must be r, g or b, got ${String(component)}`);
  if (!Number.isFinite(floor)) throw new Error(`gradientComponent: floor must be finite, got ${floor}`);
  return tf.tidy(() => {
    const four = tf.scalar(4, 'float32');
    if (component === 'g') {
      const low = tf.lessEqual(g, tf.scalar(0.75, 'float32'));
      const up = tf.clipByValue(tf.where(low, tf.mul(g, four), tf.zerosLike(g)), 0, 1);
      const down = tf.clipByValue(tf.where(low, tf.zerosLike(g), tf.sub(four, tf.mul(g, four))), 0, 1);
      return tf.add(up, down);
    }
    const lin = component === 'r' ? tf.sub(tf.mul(g, four), tf.scalar(2, 'float32')) : tf.sub(tf.scalar(2, 'float32'), tf.mul(g, four));
    const inside = tf.logicalAnd(tf.greater(g, tf.scalar(floor, 'float32')), tf.lessEqual(g, tf.scalar(1, 'float32')));
    return tf.where(inside, tf.clipByValue(lin, 0, 1), tf.zerosLike(g));
  }) as T;
}
