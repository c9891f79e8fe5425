/**
 * Verifies a plan's JavaScript table function (plan-js.ts) against applyWindowReference on
 * tfjs-cpu, bit for bit, and records the outcome for windowLut. Kept apart from plan-js.ts
 * because it needs tfjs: the main thread verifies once and the worker threads take its word
 * (presetTableFn) without loading tfjs.
 *
 * @example
 *   const fn = tableFnFor(plan);   // verified TableFn, or null: windowLut then evaluates with tfjs
 */
import * as tf from '@tensorflow/tfjs-core';
import { applyWindowReference, type SliceWindowMeta, type WindowPlan } from '../windowing/index.js';
import { compilePlanJs, type TableFn } from './plan-js.js';
import { registerTableFn, registeredTableFn } from './window-lut.js';

const f = Math.fround;

const probeMetas: SliceWindowMeta[] = [
  { windowCenter: [40], windowWidth: [400], slope: 1, intercept: -1024 },
  { windowCenter: [-600.5], windowWidth: [1500.7], slope: -0.5, intercept: 0 },
];

/** The plan's verified JavaScript table function, or null (use tfjs); verified once per plan. */
export function tableFnFor(plan: WindowPlan): TableFn | null {
  let fn = registeredTableFn(plan);
  if (fn === undefined) {
    const js = compilePlanJs(plan);
    fn = js && verifyPlanJs(plan, js, probeMetas) ? js : null;
    registerTableFn(plan, fn);
  }
  return fn;
}

/**
 * Checks `fn` against applyWindowReference bit for bit on probe slices (dense and sparse HU
 * sets from −3000 to 4000, the given metas); false on any difference.
 */
export function verifyPlanJs(plan: WindowPlan, fn: TableFn, metas: SliceWindowMeta[]): boolean {
  const probes: Float32Array[] = [];
  const dense = new Float32Array(7001).map((_, i) => i - 3000);
  probes.push(dense, dense.subarray(1900, 2300), dense.subarray(2950, 3100), new Float32Array([5]));
  // Sparse, non-integer (slope ≠ 1) sets.
  let s = 12345;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  for (let k = 0; k < 4; k++) probes.push(new Float32Array(300).map(() => f(rnd() * 3000 - 1200 + rnd() * 0.37)));
  for (const meta of metas) {
    for (const hu of probes) {
      let want: Float32Array;
      try {
        want = tf.tidy(() => applyWindowReference(plan, tf.tensor3d(hu, [1, 1, hu.length]), [meta]).dataSync() as Float32Array);
      } catch {
        continue; // e.g. no metadata window for this meta: the slice is quarantined before windowing
      }
      const got = fn(hu, meta);
      if (got.length !== want.length) return false;
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) return false;
    }
  }
  return true;
}
