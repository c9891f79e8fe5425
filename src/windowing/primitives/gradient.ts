/**
 * Gradient channel map, one component of the seed's map_to_gradient (blue → green → red
 * colormap of a grey g):
 *   r = clip(4g − 2, 0, 1) · [g > floor] · [g ≤ 1]
 *   g = clip(4g · [g ≤ 0.75], 0, 1) + clip((4 − 4g) · [g > 0.75], 0, 1)
 *   b = clip(2 − 4g, 0, 1) · [g > floor] · [g ≤ 1]
 * floor = 0 (map_to_gradient) or 0.01 (map_to_gradient_sig).
 *
 * @example { name: 'gradient.r', scalar: 0, map: { kind: 'gradient', component: 'r', floor: 0 } }
 */
import type { MapPrimitive, MapOf } from './types.js';
import { f32 } from './wgsl.js';

const f = Math.fround;
const clip01 = (x: number) => (x > 1 ? 1 : x < 0 ? 0 : x);

export const gradient: MapPrimitive<MapOf<'gradient'>> = {
  kind: 'gradient',
  problem(m) {
    if (!['r', 'g', 'b'].includes(m.component)) return `gradient: component must be r, g or b, got ${String(m.component)}`;
    if (!Number.isFinite(m.floor)) return `gradient: floor must be finite, got ${m.floor}`;
    return undefined;
  },
  tfjs(tf, m, g) {
    const problem = gradient.problem(m);
    if (problem) throw new Error(problem);
    return tf.tidy(() => {
      const four = tf.scalar(4, 'float32');
      if (m.component === 'g') {
        const low = tf.lessEqual(g, tf.scalar(0.75, 'float32'));
        const up = tf.clipByValue(tf.where(low, tf.mul(g, four), tf.zerosLike(g)), 0, 1);
        const down = tf.clipByValue(tf.where(low, tf.zerosLike(g), tf.sub(four, tf.mul(g, four))), 0, 1);
        return tf.add(up, down);
      }
      const lin = m.component === 'r' ? tf.sub(tf.mul(g, four), tf.scalar(2, 'float32')) : tf.sub(tf.scalar(2, 'float32'), tf.mul(g, four));
      const inside = tf.logicalAnd(tf.greater(g, tf.scalar(m.floor, 'float32')), tf.lessEqual(g, tf.scalar(1, 'float32')));
      return tf.where(inside, tf.clipByValue(lin, 0, 1), tf.zerosLike(g));
    }) as typeof g;
  },
  table(m) {
    const floor = f(m.floor);
    if (m.component === 'g') return (g) => (g <= 0.75 ? clip01(f(g * 4)) : clip01(f(4 - f(g * 4))));
    const r = m.component === 'r';
    return (g) => (g > floor && g <= 1 ? clip01(r ? f(f(g * 4) - 2) : f(2 - f(g * 4))) : 0);
  },
  wgsl(m, g) {
    const inside = `select(0.0, 1.0, ${g} > ${f32(m.floor)} && ${g} <= 1.0)`;
    if (m.component === 'r') return `(clamp(4.0 * ${g} - 2.0, 0.0, 1.0) * ${inside})`;
    if (m.component === 'b') return `(clamp(-4.0 * ${g} + 2.0, 0.0, 1.0) * ${inside})`;
    return `(clamp(4.0 * ${g} * select(0.0, 1.0, ${g} <= 0.75), 0.0, 1.0) + clamp((-4.0 * ${g} + 4.0) * select(0.0, 1.0, ${g} > 0.75), 0.0, 1.0))`;
  },
};
