/**
 * The table executor's core: a WindowPlan compiled, from each primitive's table form
 * (primitives/), into a function of a slice's distinct HU values. Every step of a plan is a
 * per-pixel function of HU except the per-slice min/max normalisations, and a min/max over the
 * pixels equals the min/max over the distinct values, so `table[j]` is exactly the reference's
 * value for every pixel holding the j-th distinct value (same float32 steps on the same
 * numbers; test/windowing-primitives.test.ts holds every primitive to that, bit for bit).
 *
 * `applyWindowTable` is applyWindow on tensors for the cpu and wasm backends; the fast path
 * (src/fast/window-lut.ts) indexes stored values instead and adds resize and encoding.
 *
 * @example
 *   const evalTable = compileTable(plan);       // throws naming what the plan lacks
 *   const table = evalTable(hu, meta);          // Float32Array [U × C], channel-minor
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { SliceWindowMeta, WindowPlan } from './plan.js';
import { ensemble, mapPrimitive, minMax, planProblem, termPrimitive } from './primitives/index.js';

export type TableFn = (hu: Float32Array, meta: SliceWindowMeta) => Float32Array;

/** The plan as a table function; throws `window plan: …` naming what cannot be executed. */
export function compileTable(plan: WindowPlan): TableFn {
  const problem = planProblem(plan);
  if (problem) throw new Error(`window plan: ${problem}`);
  const scalars = plan.scalars.map((s) => {
    const terms = s.terms.map((t) => termPrimitive(t.kind).table(t, { plan }));
    const weights = s.terms.map((t) => t.weight);
    return (x: Float32Array, meta: SliceWindowMeta) => {
      const sum = ensemble.table(terms.map((term) => term(x, meta)), weights);
      return s.norm === 'image' ? minMax.table(sum) : sum;
    };
  });
  const outs = plan.outputs.map((o) => ({ scalar: o.scalar, map: mapPrimitive(o.map.kind).table(o.map) }));
  const C = outs.length;
  return (hu, meta) => {
    const U = hu.length;
    const vals = scalars.map((s) => s(hu, meta));
    const table = new Float32Array(U * C);
    for (let c = 0; c < C; c++) {
      const g = vals[outs[c].scalar];
      const map = outs[c].map;
      for (let i = 0, o = c; i < U; i++, o += C) table[o] = map(g[i]);
    }
    return table;
  };
}

/** Index of x in sorted distinct `u` (x is known to be present). */
function find(u: Float32Array, x: number): number {
  let lo = 0;
  let hi = u.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Largest integer HU span handled by direct indexing (beyond it: sort + binary search). */
const MAX_SPAN = 1 << 20;

/**
 * Distinct values of a float HU slice and, per pixel, the index of its value among them;
 * undefined when the slice holds NaN. Integer-valued slices (the usual CT case) use a
 * presence table over [min, max]; others sort.
 */
export function indexHu(v: Float32Array): { u: Float32Array; idx: Int32Array } | undefined {
  let mn = Infinity;
  let mx = -Infinity;
  let integer = true;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (Number.isNaN(x)) return undefined;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
    if (integer && !Number.isInteger(x)) integer = false;
  }
  const idx = new Int32Array(v.length);
  if (integer && mx - mn < MAX_SPAN) {
    const slot = new Int32Array(mx - mn + 1).fill(-1);
    for (let i = 0; i < v.length; i++) slot[v[i] - mn] = 0;
    let n = 0;
    for (let k = 0; k < slot.length; k++) if (slot[k] === 0) slot[k] = n++;
    const u = new Float32Array(n);
    for (let k = 0; k < slot.length; k++) if (slot[k] >= 0) u[slot[k]] = mn + k;
    for (let i = 0; i < v.length; i++) idx[i] = slot[v[i] - mn];
    return { u, idx };
  }
  const s = Float32Array.from(v).sort();
  let n = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) s[n++] = s[i];
  const u = s.subarray(0, n);
  let last = NaN;
  let at = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== last) {
      at = find(u, v[i]);
      last = v[i];
    }
    idx[i] = at;
  }
  return { u, idx };
}

const compiled = new Map<string, TableFn>();

/** compileTable, kept per plan for the life of the process. */
export function tableFor(plan: WindowPlan): TableFn {
  const key = JSON.stringify(plan);
  let fn = compiled.get(key);
  if (!fn) compiled.set(key, (fn = compileTable(plan)));
  return fn;
}

/**
 * applyWindow on the CPU: per slice, the plan on its distinct values, then every pixel looks its
 * value up. Same values as applyWindowReference; undefined (caller uses the reference) when a
 * slice holds NaN.
 */
export function applyWindowTable(tf: typeof TF, plan: WindowPlan, hu: TF.Tensor3D, meta: SliceWindowMeta[]): TF.Tensor4D | undefined {
  const [B, H, W] = hu.shape;
  const C = plan.outputs.length;
  const N = H * W;
  const fn = tableFor(plan);
  const all = hu.dataSync() as Float32Array;
  const out = new Float32Array(B * N * C);
  for (let b = 0; b < B; b++) {
    const ix = indexHu(all.subarray(b * N, (b + 1) * N));
    if (!ix) return undefined;
    const table = fn(ix.u, meta[b]);
    const { idx } = ix;
    for (let p = 0, o = b * N * C; p < N; p++) {
      const at = idx[p] * C;
      for (let c = 0; c < C; c++) out[o++] = table[at + c];
    }
  }
  return tf.tensor4d(out, [B, H, W, C], 'float32');
}
