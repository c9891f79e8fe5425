/**
 * CPU fast path: evaluate the plan once per distinct HU value of each slice, then gather.
 *
 * Every step of a WindowPlan is a per-pixel function of HU except the per-slice min/max
 * normalisations, and a min/max over the pixels equals the min/max over the slice's distinct
 * values. So running applyWindowReference on the sorted distinct values ([1,1,U], U ≈ a few
 * thousand for CT against 262 144 pixels) and looking every pixel up gives the reference's
 * values exactly (same float32 ops on the same numbers), at a fraction of the cost.
 * Written by hand: a lookup table is specific to the plan semantics; no library does it.
 *
 * @example
 *   const out = applyWindowLut(plan, hu, metas); // same values as applyWindowReference, [B,H,W,C]
 */
import * as tf from '@tensorflow/tfjs-core';
import type { SliceWindowMeta, WindowPlan } from './plan.js';
import { applyWindowReference, checkWindowInputs } from './reference.js';

/** Sorted distinct values of `v`; undefined if it holds NaN. */
function distinct(v: Float32Array): Float32Array | undefined {
  const s = Float32Array.from(v).sort();
  if (s.length && Number.isNaN(s[s.length - 1])) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) if (i === 0 || s[i] !== s[i - 1]) s[n++] = s[i];
  return s.subarray(0, n);
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
 * Distinct values and, per pixel, the index of its value among them. Integer-valued slices
 * (the usual CT case) use a presence table over [min, max]; others sort.
 */
function indexSlice(v: Float32Array): { u: Float32Array; idx: Int32Array } | undefined {
  let mn = Infinity;
  let mx = -Infinity;
  let integer = true;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
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
  const u = distinct(v); // NaN (or ±Inf mixed with NaN) → undefined
  if (!u) return undefined;
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

/** Returns undefined (caller falls back to the reference) when the input holds NaN. */
export function applyWindowLut(plan: WindowPlan, hu: tf.Tensor3D, meta: SliceWindowMeta[]): tf.Tensor4D | undefined {
  checkWindowInputs(plan, hu, meta);
  const [B, H, W] = hu.shape;
  const C = plan.outputs.length;
  const N = H * W;
  const all = hu.dataSync() as Float32Array;
  const out = new Float32Array(B * N * C);
  for (let b = 0; b < B; b++) {
    const slice = all.subarray(b * N, (b + 1) * N);
    const ix = indexSlice(slice);
    if (!ix) return undefined;
    const { u, idx } = ix;
    const lut = tf.tidy(() => applyWindowReference(plan, tf.tensor3d(u, [1, 1, u.length]), [meta[b]]));
    const table = lut.dataSync() as Float32Array;
    lut.dispose();
    const base = b * N * C;
    if (C === 3) {
      for (let p = 0, o = base; p < N; p++, o += 3) {
        const at = idx[p] * 3;
        out[o] = table[at];
        out[o + 1] = table[at + 1];
        out[o + 2] = table[at + 2];
      }
    } else {
      for (let p = 0; p < N; p++) {
        const at = idx[p] * C;
        const o = base + p * C;
        for (let c = 0; c < C; c++) out[o + c] = table[at + c];
      }
    }
  }
  return tf.tensor4d(out, [B, H, W, C], 'float32');
}
