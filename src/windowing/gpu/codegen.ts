/**
 * WGSL code generation for the fused windowing kernels, from a WindowPlan.
 *
 * A plan (see ../plan.ts) is evaluated in at most three GPU passes, each one kernel:
 *   1. range of every term normalised by the image (per-slice min/max, reduced on the GPU),
 *   2. range of every scalar normalised by the image (needs 1; only sigmoid-gradient-ensemble),
 *   3. the output: HU → terms → normalisation → weighted sums → channel maps → float32 or
 *      uint8 packed four to a u32.
 * Every pass generates its per-pixel code from the same snippets, so a range pass reduces
 * exactly the expression the output pass normalises (min → 0, max → 1 in practice; a compiler
 * may still contract a·x + b differently in two shaders, so normalised values are clamped to [0,1]).
 *
 * Written by hand because no library generates WGSL from a windowing description; tfjs's
 * WebGPU backend compiles and caches the result (its shader key includes `FusedLayout.key`).
 *
 * @example
 *   const layout = fusedLayout(plan);            // undefined when the plan cannot be fused
 *   layout?.termRanges.length                    // how many per-slice ranges pass 1 reduces
 */
import type { ChannelMap, ClipTerm, WindowPlan, WindowTerm } from '../plan.js';

/** Most ranges one reduction pass folds (each is a min/max pair held in registers per invocation). */
export const MAX_RANGES = 6;
/** Most output channels the fused path writes. */
export const MAX_CHANNELS = 16;

/** Per-slice table columns before the metadata windows: slope sign, slope, intercept. */
export const SLICE_FIXED_COLUMNS = 3;

/**
 * What the kernels read: float32 HU ([B,H,W] tensor), or DICOM stored values packed two int16 /
 * uint16 per int32 (half the upload), converted to HU in the kernel with each slice's rescale.
 */
export type FusedInput = 'float32' | 'int16' | 'uint16';

/** WGSL giving every pass the batch size (dimB), slice size (dimHW) and pixel n of slice s in HU (loadX). */
export function inputFunctions(input: FusedInput, sliceColumns: number): string {
  if (input === 'float32') {
    return `fn dimB() -> i32 { return uniforms.huShape.x; }
fn dimHW() -> i32 { return uniforms.huShape.y * uniforms.huShape.z; }
fn loadX(n: i32, s: i32) -> f32 { return hu[n]; }`;
  }
  // little endian: pixel 2k in the low half of word k, 2k+1 in the high half
  const raw =
    input === 'int16'
      ? 'select((w << 16u) >> 16u, w >> 16u, (n & 1) == 1)'
      : 'select(w & 0xffff, (w >> 16u) & 0xffff, (n & 1) == 1)';
  return `fn dimB() -> i32 { return uniforms.nB; }
fn dimHW() -> i32 { return uniforms.nHW; }
fn loadX(n: i32, s: i32) -> f32 {
  let w = hu[n / 2];
  return f32(${raw}) * sl[s * ${sliceColumns} + 1] + sl[s * ${sliceColumns} + 2];
}`;
}

/** Where a term's value range or window comes from, resolved once per plan. */
export interface TermSlot {
  scalar: number;
  term: number;
  /** index into pass-1 ranges when the term is normalised by the image */
  range?: number;
  /** column of the per-slice parameter table holding [lo, hi] (metadata clip terms) */
  metaColumn?: number;
}

export interface FusedLayout {
  /** Stable, shader-relevant description of the plan (part of tfjs's shader cache key). */
  key: string;
  terms: TermSlot[];
  /** Terms reduced in pass 1 (indices into `terms`). */
  termRanges: number[];
  /** Scalars reduced in pass 2. */
  scalarRanges: number[];
  /** Scalars the outputs read. */
  usedScalars: number[];
  /** Columns of the per-slice parameter table: [slopeSign, slope, intercept, lo0, hi0, lo1, hi1, …]. */
  sliceColumns: number;
  channels: number;
  plan: WindowPlan;
}

/** A WGSL f32 literal (always has a '.' or an exponent so it is a float). */
export function f32(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`fused window: non-finite constant ${n} in the plan`);
  const s = String(n);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

/** The seed's window bounds: lo = c − ⌊w/2⌋, hi = c + ⌊w/2⌋. */
function bounds(t: ClipTerm): [number, number] {
  const half = Math.floor(t.width / 2);
  return [t.center - half, t.center + half];
}

/**
 * Resolve a plan into the layout the kernels need, or undefined when the fused path does not
 * cover it (unknown term/map kind, more ranges than fit the reduction pass, too many channels).
 */
export function fusedLayout(plan: WindowPlan): FusedLayout | undefined {
  if (!plan || plan.version !== 1 || !Array.isArray(plan.scalars) || !Array.isArray(plan.outputs)) return undefined;
  const C = plan.outputs.length;
  if (C < 1 || C > MAX_CHANNELS) return undefined;
  const usedScalars = [...new Set(plan.outputs.map((o) => o.scalar))].sort((a, b) => a - b);
  if (usedScalars.some((s) => !Number.isInteger(s) || s < 0 || s >= plan.scalars.length)) return undefined;
  const terms: TermSlot[] = [];
  const termRanges: number[] = [];
  const scalarRanges: number[] = [];
  let metaColumn = SLICE_FIXED_COLUMNS;
  for (const si of usedScalars) {
    const sc = plan.scalars[si];
    if (!sc || !Array.isArray(sc.terms) || sc.terms.length === 0) return undefined;
    if (sc.norm !== 'image' && sc.norm !== 'none') return undefined;
    if (sc.norm === 'image') scalarRanges.push(si);
    sc.terms.forEach((t: WindowTerm, ti) => {
      const slot: TermSlot = { scalar: si, term: ti };
      const imageNorm = t.kind === 'raw' || t.norm === 'image';
      if (imageNorm) {
        slot.range = termRanges.length;
        termRanges.push(terms.length);
      }
      if (t.kind === 'clip' && t.source === 'metadata') {
        slot.metaColumn = metaColumn;
        metaColumn += 2;
      }
      terms.push(slot);
    });
  }
  for (const t of terms) {
    const term = plan.scalars[t.scalar].terms[t.term] as WindowTerm;
    if (!['raw', 'clip', 'sigmoid'].includes(term.kind)) return undefined;
    if (!Number.isFinite(term.weight)) return undefined;
    if (term.kind === 'clip' && (!['clamp', 'floor'].includes(term.above) || !['image', 'window'].includes(term.norm))) return undefined;
    if (term.kind === 'sigmoid' && !['image', 'none'].includes(term.norm)) return undefined;
  }
  for (const o of plan.outputs) {
    const m = o.map as ChannelMap;
    if (!m || !['identity', 'gradient', 'spread'].includes(m.kind)) return undefined;
  }
  if (termRanges.length > MAX_RANGES || scalarRanges.length > MAX_RANGES) return undefined;
  const key = JSON.stringify({
    s: usedScalars.map((si) => [plan.scalars[si].norm, plan.scalars[si].terms]),
    o: plan.outputs.map((o) => [o.scalar, o.map]),
  });
  return { key, terms, termRanges, scalarRanges, usedScalars, sliceColumns: metaColumn, channels: C, plan };
}

/** Per-pixel WGSL functions shared by every pass: term values, normalised terms, scalars, maps. */
export function pixelFunctions(l: FusedLayout, withTermRanges: boolean, withScalarRanges: boolean): string {
  const S = l.sliceColumns;
  const QA = l.termRanges.length;
  const QB = l.scalarRanges.length;
  const out: string[] = [];
  l.terms.forEach((slot, i) => {
    const t = l.plan.scalars[slot.scalar].terms[slot.term] as WindowTerm;
    let value: string;
    let norm = '';
    if (t.kind === 'raw') {
      value = 'return x;';
    } else if (t.kind === 'clip') {
      const [lo, hi] = bounds(t);
      const loE = slot.metaColumn !== undefined ? `sl[s * ${S} + ${slot.metaColumn}]` : f32(lo);
      const hiE = slot.metaColumn !== undefined ? `sl[s * ${S} + ${slot.metaColumn + 1}]` : f32(hi);
      value =
        `let lo = ${loE}; let hi = ${hiE};\n` +
        (t.above === 'floor' ? '  if (x > hi) { return lo; }\n  return max(x, lo);' : '  return min(max(x, lo), hi);');
      if (t.norm === 'window') {
        norm = `let lo = ${loE}; let hi = ${hiE};\n  if (hi > lo) { return clamp((v - lo) / (hi - lo), 0.0, 1.0); }\n  return 0.0;`;
      }
    } else {
      // z = (2·ue/width)·x − (2·center/width)·ue, in float64 on the host, once.
      const ue = Math.log(t.U / t.eps - 1);
      const a = (2 / t.width) * ue;
      const b = ((-2 * t.center) / t.width) * ue;
      // exp overflow (z ≪ 0) gives U/inf = 0, never NaN.
      value = `let z = ${f32(a)} * x + ${f32(b)};\n  return ${f32(t.U)} / (1.0 + exp(-z));`;
    }
    out.push(`fn term${i}(x: f32, s: i32) -> f32 {\n  ${value}\n}`);
    if (slot.range !== undefined) {
      const flip = t.kind === 'raw' ? `\n    if (sl[s * ${S}] < 0.0) { return 1.0 - r; }` : '';
      norm = withTermRanges
        ? `let mn = ra[s * ${2 * QA} + ${2 * slot.range}]; let mx = ra[s * ${2 * QA} + ${2 * slot.range + 1}];\n` +
          `  if (mx > mn) {\n    let r = clamp((v - mn) / (mx - mn), 0.0, 1.0);${flip}\n    return r;\n  }\n  return 0.0;`
        : 'return 0.0; // ranges not available in this pass';
    }
    out.push(`fn nterm${i}(x: f32, s: i32) -> f32 {\n  let v = term${i}(x, s);\n  ${norm || 'return v;'}\n}`);
  });
  for (const si of l.usedScalars) {
    const sc = l.plan.scalars[si];
    const parts = l.terms
      .map((slot, i) => ({ slot, i }))
      .filter(({ slot }) => slot.scalar === si)
      .map(({ slot, i }) => {
        const w = (sc.terms[slot.term] as WindowTerm).weight;
        return w === 1 ? `nterm${i}(x, s)` : `${f32(w)} * nterm${i}(x, s)`;
      });
    // Left to right, like the reference's a·w0 + b·w1 + c·w2.
    out.push(`fn rawScalar${si}(x: f32, s: i32) -> f32 {\n  return ${parts.join(' + ')};\n}`);
    const q = l.scalarRanges.indexOf(si);
    const body =
      q < 0
        ? 'return v;'
        : withScalarRanges
          ? `let mn = rb[s * ${2 * QB} + ${2 * q}]; let mx = rb[s * ${2 * QB} + ${2 * q + 1}];\n  if (mx > mn) { return clamp((v - mn) / (mx - mn), 0.0, 1.0); }\n  return 0.0;`
          : 'return 0.0; // ranges not available in this pass';
    out.push(`fn scalar${si}(x: f32, s: i32) -> f32 {\n  let v = rawScalar${si}(x, s);\n  ${body}\n}`);
  }
  return out.join('\n');
}

/** WGSL expression of one channel map applied to `g`. */
export function mapExpr(m: ChannelMap, g: string): string {
  switch (m.kind) {
    case 'identity':
      return g;
    case 'spread':
      return `clamp(3.0 * ${g} - ${f32(m.index)}, 0.0, 1.0)`;
    case 'gradient': {
      const inside = `select(0.0, 1.0, ${g} > ${f32(m.floor)} && ${g} <= 1.0)`;
      if (m.component === 'r') return `(clamp(4.0 * ${g} - 2.0, 0.0, 1.0) * ${inside})`;
      if (m.component === 'b') return `(clamp(-4.0 * ${g} + 2.0, 0.0, 1.0) * ${inside})`;
      return (
        `(clamp(4.0 * ${g} * select(0.0, 1.0, ${g} <= 0.75), 0.0, 1.0) + ` +
        `clamp((-4.0 * ${g} + 4.0) * select(0.0, 1.0, ${g} > 0.75), 0.0, 1.0))`
      );
    }
  }
}
