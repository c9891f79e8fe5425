/**
 * A WindowPlan evaluated in plain JavaScript on a slice's distinct HU values, mirroring
 * applyWindowReference's tfjs-cpu kernels operation by operation: each kernel computes in
 * double and stores float32, so every step here is `Math.fround(a op b)` in the same order,
 * giving the same bits (the reference's min/max normalisation, sigmoid, clip, weighted sum and
 * channel maps; see src/windowing/ops/). tfjs-cpu's broadcasting kernels cost ~100 ns per
 * element; this costs a few.
 * Written by hand because it must track the reference's exact arithmetic; `verifyPlanJs`
 * (plan-verify.ts)
 * checks it bit for bit against the reference before it is used, and the caller falls back
 * to tfjs for any plan it cannot express or that does not match.
 *
 * @example
 *   const evalTable = compilePlanJs(plan);          // undefined: unknown term/map kind
 *   const table = evalTable!(hu, meta);             // Float32Array [U × C], channel-minor
 */
import { metadataWindow, windowBounds, type ChannelMap, type SliceWindowMeta, type WindowPlan, type WindowTerm } from '../windowing/plan.js';

const f = Math.fround;
export type TableFn = (hu: Float32Array, meta: SliceWindowMeta) => Float32Array;

/** In place: (v − min) / (max − min), 0 when max = min (tf.divNoNan(sub(x, mn), sub(mx, mn))). */
function minMax(v: Float32Array): Float32Array {
  let mn = v[0];
  let mx = v[0];
  for (let i = 1; i < v.length; i++) {
    const x = v[i];
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  const d = f(mx - mn);
  if (d === 0) return v.fill(0);
  for (let i = 0; i < v.length; i++) v[i] = f(v[i] - mn) / d;
  return v;
}

function term(t: WindowTerm, plan: WindowPlan): ((x: Float32Array, meta: SliceWindowMeta) => Float32Array) | undefined {
  switch (t.kind) {
    case 'raw':
      return (x, meta) => {
        const v = minMax(Float32Array.from(x));
        if (meta.slope < 0) for (let i = 0; i < v.length; i++) v[i] = 1 - v[i];
        return v;
      };
    case 'clip':
      return (x, meta) => {
        let lo: number, hi: number;
        if (t.source === 'metadata') {
          const w = metadataWindow(t, meta, plan.fallback);
          if (typeof w === 'string') throw new Error(`applyWindow: slice: ${w}`);
          [lo, hi] = windowBounds(w.center, w.width);
        } else [lo, hi] = windowBounds(t.center, t.width);
        lo = f(lo);
        hi = f(hi);
        const v = new Float32Array(x.length);
        const floor = t.above === 'floor';
        for (let i = 0; i < x.length; i++) {
          const raised = Math.max(x[i], lo);
          v[i] = floor ? (x[i] > hi ? lo : raised) : Math.min(raised, hi);
        }
        if (t.norm === 'image') return minMax(v);
        const d = f(hi - lo);
        for (let i = 0; i < v.length; i++) v[i] = d === 0 ? 0 : f(v[i] - lo) / d;
        return v;
      };
    case 'sigmoid': {
      const ue = Math.log(t.U / t.eps - 1);
      const k = f((2 / t.width) * ue);
      const c = f(t.center);
      const U = f(t.U);
      // The sigmoid of an integer HU, kept once computed (slices of a run share most of their
      // HU values; Math.exp is most of this mirror's cost). The float32 stored is the float32
      // computed, so a hit gives the same bits.
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
        if (t.norm === 'image') return minMax(v);
        if (t.U !== 1) for (let i = 0; i < v.length; i++) v[i] = v[i] * U;
        return v;
      };
    }
    default:
      return undefined;
  }
}

function channel(m: ChannelMap): ((g: number) => number) | undefined {
  const clip01 = (x: number) => (x > 1 ? 1 : x < 0 ? 0 : x);
  switch (m.kind) {
    case 'identity':
      return (g) => g;
    case 'spread': {
      const idx = m.index;
      return (g) => clip01(f(f(g * 3) - idx));
    }
    case 'gradient': {
      const floor = f(m.floor);
      if (m.component === 'g') return (g) => (g <= 0.75 ? clip01(f(g * 4)) : clip01(f(4 - f(g * 4))));
      const r = m.component === 'r';
      return (g) => (g > floor && g <= 1 ? clip01(r ? f(f(g * 4) - 2) : f(2 - f(g * 4))) : 0);
    }
    default:
      return undefined;
  }
}

/** The plan as a table function, or undefined when it uses a kind this mirror does not know. */
export function compilePlanJs(plan: WindowPlan): TableFn | undefined {
  const scalars: ((x: Float32Array, meta: SliceWindowMeta) => Float32Array)[] = [];
  for (const s of plan.scalars) {
    const terms = s.terms.map((t) => term(t, plan));
    if (!terms.length || terms.some((t) => !t)) return undefined;
    const weights = s.terms.map((t) => t.weight);
    if (weights.some((w) => !Number.isFinite(w))) return undefined;
    const fw = weights.map((w) => f(w));
    scalars.push((x, meta) => {
      // weightedSum: acc = w0·t0 (skipped when w0 = 1), then acc + wi·ti, float32 each step.
      const acc = terms[0]!(x, meta);
      if (weights[0] !== 1) for (let i = 0; i < acc.length; i++) acc[i] = acc[i] * fw[0];
      for (let k = 1; k < terms.length; k++) {
        const v = terms[k]!(x, meta);
        const w = fw[k];
        if (weights[k] === 1) for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + v[i];
        else for (let i = 0; i < acc.length; i++) acc[i] = acc[i] + f(v[i] * w);
      }
      return s.norm === 'image' ? minMax(acc) : acc;
    });
  }
  const outs = plan.outputs.map((o) => ({ scalar: o.scalar, map: channel(o.map) }));
  if (outs.some((o) => !o.map || !(o.scalar >= 0 && o.scalar < scalars.length))) return undefined;
  const C = outs.length;
  return (hu, meta) => {
    const U = hu.length;
    const vals = scalars.map((s) => s(hu, meta));
    const table = new Float32Array(U * C);
    for (let c = 0; c < C; c++) {
      const g = vals[outs[c].scalar];
      const map = outs[c].map!;
      for (let i = 0, o = c; i < U; i++, o += C) table[o] = map(g[i]);
    }
    return table;
  };
}
