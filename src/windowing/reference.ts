/**
 * applyWindowReference: a WindowPlan evaluated with plain tfjs ops, step by step as plan.ts
 * describes. This is the definition of truth that faster executors (fused GPU kernel, CPU
 * lookup table) are tested against.
 *
 * @example
 *   const plan = compileWindow({ strategy: 'sigmoid-ensemble' });
 *   const out = tf.tidy(() => applyWindowReference(plan, hu, metas)); // [B,H,W,3] float32 in [0,1]
 */
import * as tf from '@tensorflow/tfjs-core';
import { clipWindow } from './ops/clip_window.js';
import { weightedSum } from './ops/ensemble.js';
import { gradientComponent } from './ops/gradient.js';
import { minMaxPerSlice } from './ops/minmax.js';
import { sigmoidWindow } from './ops/sigmoid_window.js';
import { spreadChannel } from './ops/spread.js';
import { metadataWindow, windowBounds, type ChannelMap, type SliceWindowMeta, type WindowPlan, type WindowTerm } from './plan.js';

/** Checks the batch against the plan; throws with the argument named. */
export function checkWindowInputs(plan: WindowPlan, hu: tf.Tensor, meta: SliceWindowMeta[]): void {
  if (!plan || plan.version !== 1 || !Array.isArray(plan.outputs)) throw new Error('applyWindow: plan must be a WindowPlan from compileWindow');
  if (hu.rank !== 3) throw new Error(`applyWindow: hu must be [B,H,W], got shape [${hu.shape.join(',')}]`);
  if (hu.shape.some((d) => d < 1)) throw new Error(`applyWindow: hu must not be empty, got shape [${hu.shape.join(',')}]`);
  if (hu.dtype !== 'float32') throw new Error(`applyWindow: hu must be float32, got ${hu.dtype}`);
  if (!Array.isArray(meta) || meta.length !== hu.shape[0]) {
    throw new Error(`applyWindow: meta must have one entry per slice (${hu.shape[0]}), got ${Array.isArray(meta) ? meta.length : typeof meta}`);
  }
  meta.forEach((m, i) => {
    if (!Number.isFinite(m?.slope) || m.slope === 0) throw new Error(`applyWindow: meta[${i}].slope must be finite and non-zero, got ${m?.slope}`);
  });
}

function evalTerm(t: WindowTerm, x: tf.Tensor3D, meta: SliceWindowMeta[], plan: WindowPlan): tf.Tensor3D {
  switch (t.kind) {
    case 'raw': {
      // min–max of stored values = min–max of HU for slope > 0, 1 − that for slope < 0.
      const v = minMaxPerSlice(x);
      if (meta.every((m) => m.slope > 0)) return v;
      const neg = tf.tensor3d(meta.map((m) => (m.slope < 0 ? 1 : 0)), [meta.length, 1, 1], 'bool');
      return tf.where(tf.broadcastTo(neg, x.shape), tf.sub(tf.scalar(1, 'float32'), v), v) as tf.Tensor3D;
    }
    case 'clip': {
      if (t.source === 'metadata') {
        const bounds = meta.map((m, i) => {
          const w = metadataWindow(t, m, plan.fallback);
          if (typeof w === 'string') throw new Error(`applyWindow: slice ${i}: ${w}`);
          return windowBounds(w.center, w.width);
        });
        const lo = tf.tensor3d(bounds.map((b) => b[0]), [meta.length, 1, 1], 'float32');
        const hi = tf.tensor3d(bounds.map((b) => b[1]), [meta.length, 1, 1], 'float32');
        return clipWindow(x, lo, hi, t.above, t.norm);
      }
      const [lo, hi] = windowBounds(t.center, t.width);
      return clipWindow(x, lo, hi, t.above, t.norm);
    }
    case 'sigmoid':
      return sigmoidWindow(x, t.center, t.width, t.U, t.eps, t.norm);
    default:
      throw new Error(`applyWindow: unknown term kind ${(t as { kind: string }).kind}`);
  }
}

function evalMap(m: ChannelMap, g: tf.Tensor3D): tf.Tensor3D {
  switch (m.kind) {
    case 'identity':
      return g;
    case 'gradient':
      return gradientComponent(g, m.component, m.floor);
    case 'spread':
      return spreadChannel(g, m.index);
    default:
      throw new Error(`applyWindow: unknown channel map ${(m as { kind: string }).kind}`);
  }
}

/** [B,H,W] float32 HU + per-slice meta → [B,H,W,C] float32 in [0,1]. */
export function applyWindowReference(plan: WindowPlan, hu: tf.Tensor3D, meta: SliceWindowMeta[]): tf.Tensor4D {
  checkWindowInputs(plan, hu, meta);
  return tf.tidy(() => {
    const scalars = plan.scalars.map((s) => {
      const terms = s.terms.map((t) => evalTerm(t, hu, meta, plan));
      const sum = weightedSum(terms, s.terms.map((t) => t.weight));
      return s.norm === 'image' ? minMaxPerSlice(sum) : sum;
    });
    const channels = plan.outputs.map((o) => evalMap(o.map, scalars[o.scalar]));
    return tf.stack(channels, 3) as tf.Tensor4D;
  });
}
