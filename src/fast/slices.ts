/**
 * The fast path for a chunk of slices on one thread: read → decode → distinct-value index →
 * one lookup-table evaluation for the chunk → gather (→ resize) → output bytes. Per-slice
 * problems become the same quarantine records as InProcessProcessor's; slices the table
 * cannot express (float pixel data, stored range > 2^20) take the reference path
 * (`windowGroup`), so every input is handled.
 *
 * Light on purpose (no tfjs, no codec WASM until a slice needs it): a worker thread that only
 * meets uncompressed CT starts in ~0.1 s.
 *
 * @example
 *   const results = await processChunk(refs, opts); // SliceResult[] in the order of refs
 */
import type { DicomImage, SliceRef } from '../types.js';
import { decodeDicomSync, initCodecs } from '../dicom/decode.js';
import { DicomDecodeError } from '../dicom/errors.js';
import { huFrame, huProblem } from '../dicom/hu.js';
import type { BufferPool } from './buffer-pool.js';
import { fail, fetchRemoteSlices, readSliceBytes, type DecodedSlice, type ProcessorOptions, type SliceResult } from '../batching/slice.js';
import { windowProblem } from '../windowing/problem.js';
import { sliceMeta } from '../windowing/meta.js';
import { storedIndex } from './stored-index.js';
import { windowLut, type LutSlice } from './window-lut.js';
import { loadTf } from './tf-lazy.js';

/** Buffers a worker reuses: slice outputs (handed back by the pipeline) and file reads. */
export interface ChunkBuffers {
  /**
   * `n` bytes for a slice output (contents undefined: every byte is written); the worker's are
   * slab slots (slab-pool.ts), or pooled ArrayBuffers past its slab cap.
   */
  out: (n: number) => Uint8Array;
  read: BufferPool;
}

/** Read buffers come in 64 KiB size classes, so files of a series share them. */
const readClass = (n: number) => Math.max(65536, Math.ceil(n / 65536) * 65536);

/** A slice's bytes, into a pooled buffer when `pool` is given (the caller gives it back). */
function readSync(ref: SliceRef, pool?: BufferPool): Uint8Array | SliceResult {
  return readSliceBytes(ref, pool ? (size) => new Uint8Array(pool.take(readClass(size))) : undefined);
}

/** Decode + checks, with InProcessProcessor's exact quarantine reasons. */
async function decodeChecked(ref: SliceRef, bytes: Uint8Array, opts: ProcessorOptions): Promise<DicomImage | SliceResult> {
  let img: DicomImage;
  try {
    try {
      img = decodeDicomSync(bytes);
    } catch (e) {
      // The first compressed slice this thread meets loads the codecs (WASM), once.
      if (!(e instanceof DicomDecodeError && e.kind === 'codec-not-ready')) throw e;
      await initCodecs();
      img = decodeDicomSync(bytes);
    }
  } catch (e) {
    return fail(ref, 'decode', `${ref.path}: ${(e as { reason?: string }).reason ?? (e as Error).message}`);
  }
  const notHu = huProblem(img);
  if (notHu) return fail(ref, 'decode', `${ref.path}: ${notHu}`);
  const problem = windowProblem(opts.plan, sliceMeta(img));
  if (problem) return fail(ref, 'window', `${ref.path}: ${problem}`);
  return img;
}

/**
 * Processes `refs` on the calling thread. With `buffers`, outputs (of every path: table, resize,
 * reference) and file reads use the worker's buffers (the file buffers go back to the pool when
 * the chunk is done).
 */
export async function processChunk(refs: SliceRef[], opts: ProcessorOptions, buffers?: ChunkBuffers): Promise<SliceResult[]> {
  const results: SliceResult[] = new Array(refs.length);
  const lut: (LutSlice & { i: number })[] = [];
  const slow: (DecodedSlice & { i: number })[] = [];
  const remote = await fetchRemoteSlices(refs);
  const files = refs.map((r, i) => remote[i] ?? readSync(r, buffers?.read));
  // Only pooled local reads go back to the pool (an object's bytes are its own buffer).
  const reads = buffers ? files.filter((f, i): f is Uint8Array => f instanceof Uint8Array && remote[i] === undefined) : [];
  for (let i = 0; i < refs.length; i++) {
    const f = files[i];
    if (!(f instanceof Uint8Array)) {
      results[i] = f;
      continue;
    }
    const img = await decodeChecked(refs[i], f, opts);
    if ('ok' in img) {
      results[i] = img;
      continue;
    }
    files[i] = undefined as never; // let the file bytes go
    const meta = sliceMeta(img);
    const ix = img.rows * img.cols > 0 ? storedIndex(img, opts.padding) : undefined;
    if (ix) lut.push({ ix, meta, rows: img.rows, cols: img.cols, i });
    else slow.push({ ref: refs[i], rows: img.rows, cols: img.cols, hu: huFrame(img, 0, { padding: opts.padding }), meta, i });
  }
  const bytes = windowLut(opts.plan, lut, { ...opts, alloc: buffers?.out });
  lut.forEach((s, j) => (results[s.i] = { ok: true, ref: refs[s.i], bytes: bytes[j] }));
  // The reference path, grouped by size like InProcessProcessor.
  const groups = new Map<string, typeof slow>();
  for (const d of slow) {
    const k = `${d.rows}x${d.cols}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(d);
  }
  // tfjs (cpu backend) is loaded for these on first need: a worker thread starts without it.
  const windowGroup = groups.size ? (await loadTf(), (await import('../batching/processor.js')).windowGroup) : undefined;
  for (const group of groups.values()) {
    const out = await windowGroup!(group, opts);
    group.forEach((d, j) => {
      const own = buffers ? buffers.out(out[j].byteLength) : new Uint8Array(out[j].byteLength);
      own.set(out[j]);
      results[d.i] = { ok: true, ref: d.ref, bytes: own };
    });
  }
  // Nothing refers to the file bytes any more (HU, tables and outputs are copies).
  for (const f of reads) buffers!.read.give(f.buffer as ArrayBuffer);
  return results;
}
