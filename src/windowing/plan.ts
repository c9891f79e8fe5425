/**
 * WindowPlan: a plain, JSON-serialisable description of a windowing strategy, built from a
 * handful of primitives. `compileWindow(config)` produces it; three executors consume it:
 *
 *   - `applyWindowReference` (plain tfjs ops, the definition of truth),
 *   - a fused GPU kernel (`src/windowing/gpu/`),
 *   - any CPU fast path (e.g. a lookup table over the stored-value range).
 *
 * Evaluation model, per slice (HU image `x`, float32):
 *
 *   1. every **scalar** `s` is a weighted sum of **terms** (windows of `x`), optionally min–max
 *      normalised by the slice's own range:
 *          s = norm( Σ_k weight_k · term_k(x) )
 *   2. every **output channel** applies a pointwise **map** to one scalar:
 *          out[c] = map_c( s[scalar_c] )
 *
 * Every term is a pure per-pixel function of HU **except** where its `norm` is `'image'`
 * (division by the slice's own min/max of that term), and the scalar's own `norm: 'image'`.
 * Those per-slice reductions are the only non-pointwise steps; an executor does a reduction
 * pass for them and a pointwise pass for everything else.
 *
 * Min–max normalisation of a constant image (max = min) gives zeros (the seed gives NaN).
 *
 * @example
 *   // 'gradient' = lung window normalised by the image's own range, mapped to a 3-colour gradient
 *   const plan: WindowPlan = {
 *     version: 1, name: 'gradient', channels: ['gradient.r', 'gradient.g', 'gradient.b'],
 *     scalars: [{ terms: [{ kind: 'clip', center: 50, width: 350, above: 'clamp', norm: 'image', weight: 1 }], norm: 'none' }],
 *     outputs: [
 *       { name: 'gradient.r', scalar: 0, map: { kind: 'gradient', component: 'r', floor: 0 } },
 *       { name: 'gradient.g', scalar: 0, map: { kind: 'gradient', component: 'g', floor: 0 } },
 *       { name: 'gradient.b', scalar: 0, map: { kind: 'gradient', component: 'b', floor: 0 } },
 *     ],
 *     needsMetadata: false,
 *   };
 */

/** How a term or scalar is normalised to [0,1]. */
export type WindowNorm =
  /** (v − min_slice(v)) / (max_slice(v) − min_slice(v)); zeros when max = min. */
  | 'image'
  /** (v − lo) / (hi − lo) with the window's own bounds (clip terms only). */
  | 'window'
  /** left as is. */
  | 'none';

/**
 * Raw stored values normalised by their own range (the seed's `none`, which uses
 * `pixel_array`). With HU = stored·slope + intercept, min–max of stored equals min–max of HU
 * when slope > 0 and `1 − minmax(HU)` when slope < 0, so executors need only HU and the sign
 * of each slice's slope. Always normalised by the image (`norm` is implied).
 */
export interface RawTerm {
  kind: 'raw';
  weight: number;
}

/**
 * Hard window [lo, hi] with lo = center − ⌊width/2⌋, hi = center + ⌊width/2⌋ (the seed's
 * Python floor division). Values below lo become lo; values above hi become hi
 * (`above: 'clamp'`) or lo (`above: 'floor'`, the seed's exclusive window).
 * `source: 'metadata'` takes center/width per slice from the DICOM window tags (first value;
 * truncated towards zero like the seed's int() when `truncate`), falling back to
 * `WindowPlan.fallback` when the tags are absent.
 */
export interface ClipTerm {
  kind: 'clip';
  /** Fixed window (ignored when source is 'metadata'). */
  center: number;
  width: number;
  source?: 'fixed' | 'metadata';
  /** metadata only: int() the tag values as the seed does (default true). */
  truncate?: boolean;
  above: 'clamp' | 'floor';
  norm: 'image' | 'window';
  weight: number;
}

/**
 * Sigmoid window: y = U / (1 + exp(−z)), z = (2·ue/width)·x − (2·center/width)·ue,
 * ue = ln(U/eps − 1); then normalised (`norm`, 'image' in every seed strategy, which makes U
 * cancel except through ue). Computed in float32 as 1/(1+exp(−z)): exp overflow gives 0, never NaN.
 */
export interface SigmoidTerm {
  kind: 'sigmoid';
  center: number;
  width: number;
  U: number;
  eps: number;
  norm: 'image' | 'none';
  weight: number;
}

export type WindowTerm = RawTerm | ClipTerm | SigmoidTerm;

/** A grey image: weighted sum of terms, then optionally normalised by its own range. */
export interface ScalarPlan {
  terms: WindowTerm[];
  norm: 'image' | 'none';
}

/** Pointwise map of a scalar g to one output channel. */
export type ChannelMap =
  /** out = g */
  | { kind: 'identity' }
  /**
   * The seed's map_to_gradient, one component of it:
   *   r = clip(4g − 2, 0, 1) · [g > floor] · [g ≤ 1]
   *   g = clip(4g · [g ≤ 0.75], 0, 1) + clip((4 − 4g) · [g > 0.75], 0, 1)
   *   b = clip(2 − 4g, 0, 1) · [g > floor] · [g ≤ 1]
   * floor is 0 (gradient, gradient-ensemble) or 0.01 (sigmoid-gradient-ensemble).
   */
  | { kind: 'gradient'; component: 'r' | 'g' | 'b'; floor: number }
  /** One window over three channels: out = clip(3g − index, 0, 1) (index 0, 1 or 2). */
  | { kind: 'spread'; index: 0 | 1 | 2 };

export interface OutputChannel {
  name: string;
  /** Index into WindowPlan.scalars. */
  scalar: number;
  map: ChannelMap;
}

export interface WindowPlan {
  version: 1;
  /** Strategy name, or 'custom'. */
  name: string;
  /** Output channel names, after repetition (length C of the output). */
  channels: string[];
  scalars: ScalarPlan[];
  /** One per output channel, in output order (same length as `channels`). */
  outputs: OutputChannel[];
  /** True when some term takes its window from the DICOM tags. */
  needsMetadata: boolean;
  /** Window used when a slice has no window tags (metadata terms only). */
  fallback?: { center: number; width: number };
}

/** Per-slice metadata the executors need. */
export interface SliceWindowMeta {
  windowCenter: number[];
  windowWidth: number[];
  slope: number;
  intercept: number;
}

/** The seed's window bounds: lo = c − ⌊w/2⌋, hi = c + ⌊w/2⌋ (Python floor division). */
export function windowBounds(center: number, width: number): [number, number] {
  const half = Math.floor(width / 2);
  return [center - half, center + half];
}

/**
 * The window a metadata clip term uses for one slice, or a reason it has none.
 * @example metadataWindow(term, { windowCenter: [40], windowWidth: [350], slope: 1, intercept: -1024 }, undefined) // {center: 40, width: 350}
 */
export function metadataWindow(
  term: ClipTerm,
  meta: SliceWindowMeta,
  fallback: { center: number; width: number } | undefined,
): { center: number; width: number } | string {
  const c = meta.windowCenter?.[0];
  const w = meta.windowWidth?.[0];
  if (Number.isFinite(c) && Number.isFinite(w) && (w as number) > 0) {
    const t = term.truncate ?? true;
    return { center: t ? Math.trunc(c as number) : (c as number), width: t ? Math.trunc(w as number) : (w as number) };
  }
  if (fallback) return fallback;
  const what =
    c === undefined || w === undefined
      ? 'no WindowCenter/WindowWidth tags (0028,1050/1051)'
      : `unusable WindowCenter/WindowWidth (${c}/${w})`;
  return `metadata window: ${what} and no window.fallback configured`;
}
