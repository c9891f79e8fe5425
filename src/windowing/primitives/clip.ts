/**
 * Clip term, a hard HU window [lo, hi] with lo = center − ⌊width/2⌋, hi = center + ⌊width/2⌋
 * (the seed's Python floor division; `windowBounds`). Values below lo become lo; values above
 * hi become hi (`above: 'clamp'`) or lo (`above: 'floor'`, the seed's exclusive window). Then
 * normalised by the window, (v − lo)/(hi − lo) (0 when hi = lo), or by the slice's own range.
 * `source: 'metadata'` takes the window per slice from the DICOM tags (`metadataWindow`).
 *
 * @example
 *   // seed window_image(img, 40, 80) and window_image_bottom(img, 40, 80):
 *   { kind: 'clip', center: 40, width: 80, above: 'clamp', norm: 'image', weight: 1 }
 *   { kind: 'clip', center: 40, width: 80, above: 'floor', norm: 'image', weight: 1 }
 */
import type * as TF from '@tensorflow/tfjs-core';
import { metadataWindow, windowBounds, type ClipTerm, type SliceWindowMeta, type WindowPlan } from '../plan.js';
import { minMax } from './minmax.js';
import type { TermPrimitive } from './types.js';

const f = Math.fround;

/** The window [lo, hi] one slice uses; throws naming the slice's missing tags. */
export function clipBounds(t: ClipTerm, meta: SliceWindowMeta, plan: WindowPlan, slice = 0): [number, number] {
  if (t.source !== 'metadata') return windowBounds(t.center, t.width);
  const w = metadataWindow(t, meta, plan.fallback);
  if (typeof w === 'string') throw new Error(`applyWindow: slice ${slice}: ${w}`);
  return windowBounds(w.center, w.width);
}

export const clip: TermPrimitive<ClipTerm> = {
  kind: 'clip',
  problem(t) {
    if (t.above !== 'clamp' && t.above !== 'floor') return `clip: above must be 'clamp' or 'floor', got ${String(t.above)}`;
    if (t.norm !== 'image' && t.norm !== 'window') return `clip: norm must be 'image' or 'window', got ${String(t.norm)}`;
    if (t.source !== 'metadata' && !(Number.isFinite(t.center) && Number.isFinite(t.width))) return `clip: center/width must be finite, got ${t.center}/${t.width}`;
    return undefined;
  },
  tfjs(tf, t, x, meta, { plan }) {
    return tf.tidy(() => {
      const per = (i: 0 | 1) => tf.tensor3d(meta.map((m, s) => clipBounds(t, m, plan, s)[i]), [meta.length, 1, 1], 'float32');
      const fixed = t.source !== 'metadata' ? windowBounds(t.center, t.width) : undefined;
      const lo: TF.Tensor = fixed ? tf.scalar(fixed[0], 'float32') : per(0);
      const hi: TF.Tensor = fixed ? tf.scalar(fixed[1], 'float32') : per(1);
      const raised = tf.maximum(x, lo);
      const y = (t.above === 'clamp' ? tf.minimum(raised, hi) : tf.where(tf.greater(x, hi), tf.broadcastTo(lo, x.shape), raised)) as TF.Tensor3D;
      if (t.norm === 'image') return minMax.tfjs(tf, y);
      return tf.divNoNan(tf.sub(y, lo), tf.sub(hi, lo)) as TF.Tensor3D;
    });
  },
  table: (t, { plan }) => (x, meta) => {
    let [lo, hi] = clipBounds(t, meta, plan);
    lo = f(lo);
    hi = f(hi);
    const v = new Float32Array(x.length);
    const floor = t.above === 'floor';
    for (let i = 0; i < x.length; i++) {
      const raised = Math.max(x[i], lo);
      v[i] = floor ? (x[i] > hi ? lo : raised) : Math.min(raised, hi);
    }
    if (t.norm === 'image') return minMax.table(v);
    const d = f(hi - lo);
    for (let i = 0; i < v.length; i++) v[i] = d === 0 ? 0 : f(v[i] - lo) / d;
    return v;
  },
  wgsl(t, { lo, hi }) {
    const value = `let lo = ${lo}; let hi = ${hi};\n` + (t.above === 'floor' ? '  if (x > hi) { return lo; }\n  return max(x, lo);' : '  return min(max(x, lo), hi);');
    if (t.norm === 'image') return { value, imageNorm: true };
    const windowNorm = `let lo = ${lo}; let hi = ${hi};\n  if (hi > lo) { return clamp((v - lo) / (hi - lo), 0.0, 1.0); }\n  return 0.0;`;
    return { value, imageNorm: false, windowNorm };
  },
};
