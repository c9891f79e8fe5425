/**
 * Turns the slices of one batch into output tensors: read → decode → HU → window (tfjs,
 * batched over slices of equal size) → resize (bilinear) → encode to the output dtype.
 * Per-slice failures come back as quarantine records; the batch goes on.
 *
 * `BatchProcessor` is the seam for faster implementations (worker threads, GPU); every
 * implementation must give the same bytes as `InProcessProcessor`.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DicomImage, SliceRef } from '../types.js';
import { decodeDicom, huFrame, huProblem } from '../dicom/index.js';
import { applyWindow, sliceMeta, windowProblem } from '../windowing/index.js';
import { tensorBytes } from './quantize.js';
import { fail, fetchRemoteSlices, readSliceBytes, type BatchProcessor, type DecodedSlice, type ProcessorOptions, type SliceFail, type SliceResult } from './slice.js';

export { fail, type BatchProcessor, type DecodedSlice, type ProcessorOptions, type SliceFail, type SliceOk, type SliceResult } from './slice.js';


/** Decode and check one slice: HU + window metadata, or the reason it cannot be used. */
export async function decodeSlice(ref: SliceRef, bytes: Uint8Array, opts: ProcessorOptions): Promise<DecodedSlice | SliceFail> {
  let img: DicomImage;
  try {
    img = await decodeDicom(bytes);
  } catch (e) {
    return fail(ref, 'decode', `${ref.path}: ${(e as { reason?: string }).reason ?? (e as Error).message}`);
  }
  const notHu = huProblem(img);
  if (notHu) return fail(ref, 'decode', `${ref.path}: ${notHu}`);
  const meta = sliceMeta(img);
  const problem = windowProblem(opts.plan, meta);
  if (problem) return fail(ref, 'window', `${ref.path}: ${problem}`);
  return { ref, rows: img.rows, cols: img.cols, hu: huFrame(img, 0, { padding: opts.padding }), meta };
}

/**
 * Windows decoded slices of one size as a batch and returns per-slice output bytes
 * ([h, w, C] row-major in the output dtype).
 */
export async function windowGroup(group: DecodedSlice[], opts: ProcessorOptions): Promise<Uint8Array[]> {
  const { rows, cols } = group[0];
  const plane = rows * cols;
  const hu = new Float32Array(group.length * plane);
  group.forEach((s, i) => hu.set(s.hu, i * plane));
  const [h, w] = opts.size;
  const out = tf.tidy(() => {
    const x = tf.tensor3d(hu, [group.length, rows, cols]);
    const y = applyWindow(opts.plan, x, group.map((s) => s.meta));
    return rows === h && cols === w ? y : tf.image.resizeBilinear(y, [h, w], false, true);
  });
  const bytes = await tensorBytes(out, opts.dtype);
  out.dispose();
  const per = bytes.length / group.length;
  return group.map((_, i) => bytes.subarray(i * per, (i + 1) * per));
}

/** The reference implementation: everything on the calling thread, tfjs on the selected backend. */
export class InProcessProcessor implements BatchProcessor {
  constructor(private readonly opts: ProcessorOptions) {}

  async process(refs: SliceRef[]): Promise<SliceResult[]> {
    const results: SliceResult[] = new Array(refs.length);
    const decoded: (DecodedSlice & { i: number })[] = [];
    const remote = await fetchRemoteSlices(refs);
    const files = refs.map((r, i) => remote[i] ?? readSliceBytes(r));
    for (let i = 0; i < refs.length; i++) {
      const f = files[i];
      if (!(f instanceof Uint8Array)) { results[i] = f; continue; }
      const d = await decodeSlice(refs[i], f, this.opts);
      if ('ok' in d) results[i] = d;
      else decoded.push({ ...d, i });
    }
    // Batch slices of equal size together (real series mix 512, 568, 616… sizes).
    const groups = new Map<string, (DecodedSlice & { i: number })[]>();
    for (const d of decoded) {
      const k = `${d.rows}x${d.cols}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(d);
    }
    for (const group of groups.values()) {
      const bytes = await windowGroup(group, this.opts);
      group.forEach((d, j) => (results[d.i] = { ok: true, ref: d.ref, bytes: bytes[j] }));
    }
    return results;
  }

  async close(): Promise<void> {}
}
