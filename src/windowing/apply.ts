/**
 * applyWindow: the plan on the current tfjs backend, by the executor that backend has. On the
 * cpu and wasm backends the table executor (table.ts, same values as the reference); elsewhere
 * applyWindowReference, unless a fused executor (src/windowing/gpu/) was registered for the
 * backend with `setWindowExecutor` and accepts the plan.
 *
 * @example
 *   const plan = compileWindow({ strategy: 'channelwise' });
 *   const out = applyWindow(plan, hu, metas); // [B,H,W,3]; caller disposes (or wraps in tf.tidy)
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SliceWindowMeta, WindowPlan } from './plan.js';
import { applyWindowTable } from './table.js';
import { applyWindowReference, checkWindowInputs } from './reference.js';

/** A faster implementation of the same plan semantics; returns undefined to decline. */
export type WindowExecutor = (plan: WindowPlan, hu: tf.Tensor3D, meta: SliceWindowMeta[]) => tf.Tensor4D | undefined;

const executors: { backend: string; run: WindowExecutor }[] = [];

/** Register an executor for one backend name (e.g. 'webgpu'); later registrations win. */
export function setWindowExecutor(backend: string, run: WindowExecutor): void {
  executors.unshift({ backend, run });
}

export function applyWindow(plan: WindowPlan, hu: tf.Tensor3D, meta: SliceWindowMeta[]): tf.Tensor4D {
  checkWindowInputs(plan, hu, meta);
  const backend = tf.getBackend();
  for (const e of executors) {
    if (e.backend !== backend) continue;
    const out = e.run(plan, hu, meta);
    if (out) return out;
  }
  if (backend === 'cpu' || backend === 'wasm') {
    const out = applyWindowTable(tf, plan, hu, meta);
    if (out) return out;
  }
  return applyWindowReference(plan, hu, meta);
}
