/**
 * Raw term: the stored values normalised by their own range (the seed's `none`, which uses
 * `pixel_array`). With HU = stored·slope + intercept, min–max of stored equals min–max of HU
 * when slope > 0 and 1 − min–max(HU) when slope < 0, so every form needs only HU and the sign
 * of each slice's slope.
 *
 * @example
 *   compileWindow({ strategy: 'none' }).scalars[0].terms[0] // { kind: 'raw', weight: 1 }
 */
import type { RawTerm } from '../plan.js';
import { minMax } from './minmax.js';
import type { TermPrimitive } from './types.js';

export const raw: TermPrimitive<RawTerm> = {
  kind: 'raw',
  problem: () => undefined,
  tfjs(tf, _t, x, meta) {
    const v = minMax.tfjs(tf, x);
    if (meta.every((m) => m.slope > 0)) return v;
    const neg = tf.tensor3d(meta.map((m) => (m.slope < 0 ? 1 : 0)), [meta.length, 1, 1], 'bool');
    return tf.where(tf.broadcastTo(neg, x.shape), tf.sub(tf.scalar(1, 'float32'), v), v) as typeof v;
  },
  table: () => (x, meta) => {
    const v = minMax.table(Float32Array.from(x));
    if (meta.slope < 0) for (let i = 0; i < v.length; i++) v[i] = 1 - v[i];
    return v;
  },
  wgsl: (_t, { slopeSign }) => ({ value: 'return x;', imageNorm: true, afterImageNorm: `\n    if (${slopeSign} < 0.0) { return 1.0 - r; }` }),
};
