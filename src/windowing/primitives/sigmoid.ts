/**
 * Sigmoid term (the seed's sigmoid_window):
 *   ue = ln(U/eps − 1), z = (2·ue/width)·(x − center), y = U / (1 + exp(−z))
 * then normalised by the slice's own range (`norm: 'image'`, every seed strategy, where U
 * cancels) or scaled by U. float32: exp(−z) may overflow to +Inf, giving 0, never NaN.
 * (x − center) is formed first so the subtraction is exact for integer HU (the seed's W·x + b
 * is the same in exact arithmetic).
 *
 * @example
 *   // seed sigmoid_window(img, 40, 80):
 *   { kind: 'sigmoid', center: 40, width: 80, U: 1, eps: 1 / 255, norm: 'image', weight: 1 }
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { SigmoidTerm } from '../plan.js';
import { minMax } from './minmax.js';
import type { TermPrimitive } from './types.js';
import { f32 } from './wgsl.js';

const f = Math.fround;

/** The slope k = 2·ue/width of z = k·(x − center). */
const slope = (t: SigmoidTerm) => (2 / t.width) * Math.log(t.U / t.eps - 1);

export const sigmoid: TermPrimitive<SigmoidTerm> = {
  kind: 'sigmoid',
  problem(t) {
    if (!Number.isFinite(t.center)) return `sigmoid: center must be finite, got ${t.center}`;
    if (!(t.width > 0) || !Number.isFinite(t.width)) return `sigmoid: width must be > 0, got ${t.width}`;
    if (!(t.U > 0 && t.eps > 0 && t.eps < t.U)) return `sigmoid: need 0 < eps < U, got U=${t.U}, eps=${t.eps}`;
    if (t.norm !== 'image' && t.norm !== 'none') return `sigmoid: norm must be 'image' or 'none', got ${String(t.norm)}`;
    return undefined;
  },
  tfjs(tf, t, x) {
    const problem = sigmoid.problem(t);
    if (problem) throw new Error(problem);
    return tf.tidy(() => {
      const z = tf.mul(tf.sub(x, tf.scalar(t.center, 'float32')), tf.scalar(slope(t), 'float32'));
      const s = tf.reciprocal(tf.add(tf.scalar(1, 'float32'), tf.exp(tf.neg(z)))) as TF.Tensor3D;
      if (t.norm === 'image') return minMax.tfjs(tf, s);
      return t.U === 1 ? s : (tf.mul(s, tf.scalar(t.U, 'float32')) as TF.Tensor3D);
    });
  },
  table(t) {
    const k = f(slope(t));
    const c = f(t.center);
    const U = f(t.U);
    // The sigmoid of an integer HU, kept once computed (slices of a run share most of their HU
    // values; Math.exp is most of the cost). The float32 stored is the float32 computed.
    const memo = new Float32Array(65536);
    const known = new Uint8Array(65536);
    return (x) => {
      const v = new Float32Array(x.length);
      for (let i = 0; i < x.length; i++) {
        const j = x[i] + 32768;
        const cacheable = (j | 0) === j && j >= 0 && j < 65536;
        if (cacheable && known[j]) {
          v[i] = memo[j];
          continue;
        }
        const z = f(f(x[i] - c) * k);
        v[i] = 1 / f(1 + f(Math.exp(-z)));
        if (cacheable) {
          memo[j] = v[i];
          known[j] = 1;
        }
      }
      if (t.norm === 'image') return minMax.table(v);
      if (t.U !== 1) for (let i = 0; i < v.length; i++) v[i] = v[i] * U;
      return v;
    };
  },
  wgsl(t) {
    // z = (2·ue/width)·x − (2·center/width)·ue, in float64 on the host, once.
    const ue = Math.log(t.U / t.eps - 1);
    const a = (2 / t.width) * ue;
    const b = ((-2 * t.center) / t.width) * ue;
    // exp overflow (z ≪ 0) gives U/inf = 0, never NaN.
    return { value: `let z = ${f32(a)} * x + ${f32(b)};\n  return ${f32(t.U)} / (1.0 + exp(-z));`, imageNorm: t.norm === 'image' };
  },
};
