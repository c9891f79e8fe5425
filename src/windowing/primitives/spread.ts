/**
 * Spread channel map, one window over three channels (the seed's all_channels_window): channel
 * `index` of a grey g is clip(3g − index, 0, 1); the seed puts index 0 in B, 1 in R, 2 in G.
 *
 * @example { name: 'all-channels.r', scalar: 0, map: { kind: 'spread', index: 1 } }
 */
import type { MapPrimitive, MapOf } from './types.js';
import { f32 } from './wgsl.js';

const f = Math.fround;
const clip01 = (x: number) => (x > 1 ? 1 : x < 0 ? 0 : x);

export const spread: MapPrimitive<MapOf<'spread'>> = {
  kind: 'spread',
  problem: (m) => (m.index === 0 || m.index === 1 || m.index === 2 ? undefined : `spread: index must be 0, 1 or 2, got ${String(m.index)}`),
  tfjs(tf, m, g) {
    return tf.tidy(() => tf.clipByValue(tf.sub(tf.mul(g, tf.scalar(3, 'float32')), tf.scalar(m.index, 'float32')), 0, 1)) as typeof g;
  },
  table(m) {
    const idx = m.index;
    return (g) => clip01(f(f(g * 3) - idx));
  },
  wgsl: (m, g) => `clamp(3.0 * ${g} - ${f32(m.index)}, 0.0, 1.0)`,
};
