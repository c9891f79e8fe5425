/**
 * The contract of a windowing primitive. A primitive is one building block of a WindowPlan (a
 * term, a normalisation, the ensemble sum, a channel map) defined once, in one file, with its
 * forms side by side — the way tfjs defines an op once and registers a kernel per backend:
 *
 *   tfjs  : the reference form, tfjs ops on [B,H,W] float32 tensors (the definition of truth);
 *   table : the same arithmetic on a slice's distinct HU values in plain JavaScript, float32 at
 *           every step exactly where tfjs-cpu stores float32 (the CPU lookup-table executor);
 *   wgsl  : the same expression as WGSL source (the fused WebGPU executor).
 *
 * The tfjs form receives the tfjs namespace as an argument, so that the table and WGSL forms
 * load without tfjs (a worker thread that never needs tfjs starts ~0.3 s sooner).
 * Every primitive is registered in ./index.ts; an executor that meets a kind it has no form for
 * refuses the plan with the kind's name (`planSupport`), never a silent slow path.
 */
import type * as TF from '@tensorflow/tfjs-core';
import type { ChannelMap, SliceWindowMeta, WindowPlan, WindowTerm } from '../plan.js';

export type Tf = typeof TF;

/** Everything a term's forms may need beyond the term itself. */
export interface TermContext {
  plan: WindowPlan;
}

/** WGSL of one term, given where its per-slice window bounds live. */
export interface TermWgsl {
  /** Body of `fn termN(x: f32, s: i32) -> f32` (before normalisation). */
  value: string;
  /** Body of the window normalisation of `v` (norm 'window'), if any. */
  windowNorm?: string;
  /** Whether the term is normalised by the slice's own range (a reduction pass computes it). */
  imageNorm: boolean;
  /** WGSL applied to the normalised `r` after an image normalisation (raw: the slope's sign). */
  afterImageNorm?: string;
}

export interface TermPrimitive<T extends WindowTerm = WindowTerm> {
  kind: T['kind'];
  /** Per-term arguments the executors cannot take (a non-finite weight…), or undefined. */
  problem(t: T): string | undefined;
  /** [B,H,W] HU → [B,H,W] normalised term values. */
  tfjs(tf: Tf, t: T, x: TF.Tensor3D, meta: SliceWindowMeta[], ctx: TermContext): TF.Tensor3D;
  /** Distinct HU values of one slice → normalised term values (float32, same bits as tfjs-cpu). */
  table(t: T, ctx: TermContext): (x: Float32Array, meta: SliceWindowMeta) => Float32Array;
  /** WGSL, given the expressions of the slice's window bounds (clip terms) and slope sign. */
  wgsl(t: T, at: { lo: string; hi: string; slopeSign: string }): TermWgsl;
}

export type MapOf<K extends ChannelMap['kind']> = Extract<ChannelMap, { kind: K }>;

export interface MapPrimitive<M extends ChannelMap = ChannelMap> {
  kind: M['kind'];
  problem(m: M): string | undefined;
  tfjs<T extends TF.Tensor>(tf: Tf, m: M, g: T): T;
  /** One value g (a float32) → the channel's value (float32). */
  table(m: M): (g: number) => number;
  /** WGSL expression of the map applied to the expression `g`. */
  wgsl(m: M, g: string): string;
}
