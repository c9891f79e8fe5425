/**
 * Stored values → Hounsfield units, float32: HU = stored × slope + intercept in floating
 * point (no truncation), per-frame rescale for Enhanced CT, MONOCHROME1 inverted, padding
 * pixels set to air (−1000 HU) unless `padding: 'keep'`.
 *
 * @example const hu = huFrame(img, 0, { padding: 'keep' }); // Float32Array rows*cols
 */
import type { DicomImage } from '../types.js';
import { DicomDecodeError } from './errors.js';

export type PaddingMode = 'air' | 'keep';
/** The one default of every command (`run`'s decode.padding, `decode`, `window`, `preview`): padding pixels are air. */
export const DEFAULT_PADDING: PaddingMode = 'air';

/** A `--padding` value checked; throws naming the flag. */
export function paddingMode(v: string): PaddingMode {
  if (v !== 'air' && v !== 'keep') throw new Error(`--padding: expected 'air' or 'keep', got '${v}'`);
  return v;
}
export const AIR_HU = -1000;

/**
 * Why an image has no Hounsfield units, or undefined: the one check of `probe`, `decode`,
 * `window` and the pipeline (so `probe` never calls decodable what `decode` then refuses).
 */
export function huProblem(img: Pick<DicomImage, 'samplesPerPixel' | 'photometric'>): string | undefined {
  if (img.samplesPerPixel !== 1) return `${img.samplesPerPixel} samples per pixel (${img.photometric}): CT slices are monochrome, one sample per pixel`;
  return undefined;
}

export function huFrame(img: DicomImage, frame = 0, opts: { padding?: PaddingMode } = {}): Float32Array {
  const padding = opts.padding ?? 'air';
  if (padding !== 'air' && padding !== 'keep') throw new DicomDecodeError(`huFrame: padding must be 'air' or 'keep', got '${padding}'`, { kind: 'bad-request' });
  if (!Number.isInteger(frame) || frame < 0 || frame >= img.frames) {
    throw new DicomDecodeError(`huFrame: frame ${frame} out of range, image has ${img.frames} frame(s)`, { kind: 'bad-request' });
  }
  const problem = huProblem(img);
  if (problem) throw new DicomDecodeError(problem, { kind: 'unsupported-pixels' });
  const n = img.rows * img.cols;
  const r = img.frameRescale?.[frame];
  const slope = r?.slope ?? img.slope;
  const intercept = r?.intercept ?? img.intercept;
  const src = img.stored.subarray(frame * n, (frame + 1) * n);
  const out = new Float32Array(n);
  // MONOCHROME1: reflect within the BitsStored range (max + min − v) before rescale, folded
  // into the linear map: (flip − v)·slope + intercept = v·(−slope) + (flip·slope + intercept).
  const invert = img.photometric === 'MONOCHROME1';
  const flip = img.pixelRepresentation === 1 ? -1 : 2 ** img.bitsStored - 1;
  const a = invert ? -slope : slope;
  const b = invert ? flip * slope + intercept : intercept;
  rescale(src, out, a, b);
  const ppv = padding === 'air' ? img.pixelPaddingValue : undefined;
  if (ppv !== undefined) {
    const lim = img.pixelPaddingRangeLimit ?? ppv;
    const lo = Math.min(ppv, lim);
    const hi = Math.max(ppv, lim);
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (v >= lo && v <= hi) out[i] = AIR_HU;
    }
  }
  return out;
}

/** out[i] = src[i]·a + b, in float64 then stored as float32 (one tight loop, no branches). */
function rescale(src: ArrayLike<number>, out: Float32Array, a: number, b: number): void {
  const n = out.length;
  if (a === 1) for (let i = 0; i < n; i++) out[i] = src[i] + b;
  else for (let i = 0; i < n; i++) out[i] = src[i] * a + b;
}
