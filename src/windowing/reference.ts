/**
 * applyWindowReference: the tfjs executor, a WindowPlan evaluated with each primitive's tfjs
 * form (primitives/), step by step as plan.ts describes. This is the definition of truth that
 * the table and WebGPU executors are tested against.
 *
 * @example
 *   const plan = compileWindow({ strategy: 'sigmoid-ensemble' });
 *   const out = tf.tidy(() => applyWindowReference(plan, hu, metas)); // [B,H,W,3] float32 in [0,1]
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SliceWindowMeta, WindowPlan } from './plan.js';
import { ensemble, mapPrimitive, minMax, planProblem, termPrimitive } from './primitives/index.js';

/** Checks the batch against the plan; throws with the argument named. */
export function checkWindowInputs(plan: WindowPlan, hu: tf.Tensor, meta: SliceWindowMeta[]): void {
  const problem = planProblem(plan);
  if (problem) throw new Error(`applyWindow: plan: ${problem}`);
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

/** [B,H,W] float32 HU + per-slice meta → [B,H,W,C] float32 in [0,1]. */
export function applyWindowReference(plan: WindowPlan, hu: tf.Tensor3D, meta: SliceWindowMeta[]): tf.Tensor4D {
  checkWindowInputs(plan, hu, meta);
  return tf.tidy(() => {
    const scalars = plan.scalars.map((s) => {
      const terms = s.terms.map((t) => termPrimitive(t.kind).tfjs(tf, t, hu, meta, { plan }));
      const sum = ensemble.tfjs(tf, terms, s.terms.map((t) => t.weight));
      return s.norm === 'image' ? minMax.tfjs(tf, sum) : sum;
    });
    const channels = plan.outputs.map((o) => mapPrimitive(o.map.kind).tfjs(tf, o.map, scalars[o.scalar]));
    return tf.stack(channels, 3) as tf.Tensor4D;
  });
}
