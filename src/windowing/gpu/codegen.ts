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
import { windowBounds, type ChannelMap, type WindowPlan, type WindowTerm } from '../plan.js';
import { ensemble, f32, mapPrimitive, minMax, planProblem, termPrimitive } from '../primitives/index.js';

export { f32 };

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

/**
 * Resolve a plan into the layout the kernels need, or undefined when the fused path does not
 * cover it (unknown term/map kind, more ranges than fit the reduction pass, too many channels).
 */
export function fusedLayout(plan: WindowPlan): FusedLayout | undefined {
  if (planProblem(plan)) return undefined;
  const C = plan.outputs.length;
  if (C > MAX_CHANNELS) return undefined;
  const usedScalars = [...new Set(plan.outputs.map((o) => o.scalar))].sort((a, b) => a - b);
  const terms: TermSlot[] = [];
  const termRanges: number[] = [];
  const scalarRanges: number[] = [];
  let metaColumn = SLICE_FIXED_COLUMNS;
  for (const si of usedScalars) {
    const sc = plan.scalars[si];
    if (sc.norm === 'image') scalarRanges.push(si);
    sc.terms.forEach((t: WindowTerm, ti) => {
      const slot: TermSlot = { scalar: si, term: ti };
      if (termPrimitive(t.kind).wgsl(t, { lo: 'lo', hi: 'hi', slopeSign: 's' }).imageNorm) {
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
    const fixed = t.kind === 'clip' ? windowBounds(t.center, t.width) : [0, 0];
    const meta = slot.metaColumn;
    const w = termPrimitive(t.kind).wgsl(t, {
      lo: meta !== undefined ? `sl[s * ${S} + ${meta}]` : f32(fixed[0]),
      hi: meta !== undefined ? `sl[s * ${S} + ${meta + 1}]` : f32(fixed[1]),
      slopeSign: `sl[s * ${S}]`,
    });
    out.push(`fn term${i}(x: f32, s: i32) -> f32 {\n  ${w.value}\n}`);
    let norm = w.windowNorm ?? '';
    if (slot.range !== undefined) {
      norm = withTermRanges
        ? minMax.wgsl(`ra[s * ${2 * QA} + ${2 * slot.range}]`, `ra[s * ${2 * QA} + ${2 * slot.range + 1}]`, w.afterImageNorm)
        : 'return 0.0; // ranges not available in this pass';
    }
    out.push(`fn nterm${i}(x: f32, s: i32) -> f32 {\n  let v = term${i}(x, s);\n  ${norm || 'return v;'}\n}`);
  });
  for (const si of l.usedScalars) {
    const sc = l.plan.scalars[si];
    const mine = l.terms.map((slot, i) => ({ slot, i })).filter(({ slot }) => slot.scalar === si);
    // Left to right, like the reference's a·w0 + b·w1 + c·w2.
    const sum = ensemble.wgsl(mine.map(({ i }) => `nterm${i}(x, s)`), mine.map(({ slot }) => (sc.terms[slot.term] as WindowTerm).weight));
    out.push(`fn rawScalar${si}(x: f32, s: i32) -> f32 {\n  return ${sum};\n}`);
    const q = l.scalarRanges.indexOf(si);
    const body =
      q < 0
        ? 'return v;'
        : withScalarRanges
          ? minMax.wgsl(`rb[s * ${2 * QB} + ${2 * q}]`, `rb[s * ${2 * QB} + ${2 * q + 1}]`)
          : 'return 0.0; // ranges not available in this pass';
    out.push(`fn scalar${si}(x: f32, s: i32) -> f32 {\n  let v = rawScalar${si}(x, s);\n  ${body}\n}`);
  }
  return out.join('\n');
}

/** WGSL expression of one channel map applied to `g`. */
export function mapExpr(m: ChannelMap, g: string): string {
  return mapPrimitive(m.kind).wgsl(m, g);
}
