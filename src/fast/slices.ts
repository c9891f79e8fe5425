/**
 * The fast path for a chunk of slices on one thread: read → decode → distinct-value index →
 * one lookup-table evaluation for the chunk → gather (→ resize) → output bytes. Per-slice
 * problems become the same quarantine records as InProcessProcessor's; slices the table
 * cannot express (float pixel data, stored range > 2^20) take the reference path
 * (`windowGroup`), so every input is handled.
 *
 * @example
 *   await initCodecs();
 *   const results = await processChunk(refs, opts); // SliceResult[] in the order of refs
 */
import type { DicomImage, SliceRef } from '../types.js';
import { decodeDicomSync, huFrame } from '../dicom/index.js';
import { readFileSync } from 'node:fs';
import { fail, windowGroup, windowMeta, type DecodedSlice, type ProcessorOptions, type SliceResult } from '../batching/processor.js';
import { windowProblem } from '../windowing/index.js';
import { storedIndex } from './stored-index.js';
import { windowLut, type LutSlice } from './window-lut.js';

/** readSlice's reads and reasons, synchronous and without its copy (a worker does one thing at a time). */
function readSync(ref: SliceRef): Uint8Array | SliceResult {
  try {
    const b = readFileSync(ref.path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(ref, 'read', code === 'ENOENT' ? `file not found: ${ref.path}` : `cannot read ${ref.path}: ${code ?? (e as Error).message}`);
  }
}

/** Decode + checks, with InProcessProcessor's exact quarantine reasons. */
function decodeChecked(ref: SliceRef, bytes: Uint8Array, opts: ProcessorOptions): DicomImage | SliceResult {
  let img: DicomImage;
  try {
    img = decodeDicomSync(bytes);
  } catch (e) {
    return fail(ref, 'decode', `${ref.path}: ${(e as { reason?: string }).reason ?? (e as Error).message}`);
  }
  if (img.samplesPerPixel !== 1) return fail(ref, 'decode', `${ref.path}: ${img.samplesPerPixel} samples per pixel (${img.photometric}); CT slices are monochrome`);
  const problem = windowProblem(opts.plan, windowMeta(img));
  if (problem) return fail(ref, 'window', `${ref.path}: ${problem}`);
  return img;
}

/** Processes `refs` on the calling thread. Needs `initCodecs()` to have resolved. */
export async function processChunk(refs: SliceRef[], opts: ProcessorOptions): Promise<SliceResult[]> {
  const results: SliceResult[] = new Array(refs.length);
  const lut: (LutSlice & { i: number })[] = [];
  const slow: (DecodedSlice & { i: number })[] = [];
  const files = refs.map(readSync);
  for (let i = 0; i < refs.length; i++) {
    const f = files[i];
    if (!(f instanceof Uint8Array)) {
      results[i] = f;
      continue;
    }
    const img = decodeChecked(refs[i], f, opts);
    if ('ok' in img) {
      results[i] = img;
      continue;
    }
    files[i] = undefined as never; // let the file bytes go
    const meta = windowMeta(img);
    const ix = img.rows * img.cols > 0 ? storedIndex(img, opts.padding) : undefined;
    if (ix) lut.push({ ix, meta, rows: img.rows, cols: img.cols, i });
    else slow.push({ ref: refs[i], rows: img.rows, cols: img.cols, hu: huFrame(img, 0, { padding: opts.padding }), meta, i });
  }
  const bytes = await windowLut(opts.plan, lut, opts);
  lut.forEach((s, j) => (results[s.i] = { ok: true, ref: refs[s.i], bytes: bytes[j] }));
  // The reference path, grouped by size like InProcessProcessor.
  const groups = new Map<string, typeof slow>();
  for (const d of slow) {
    const k = `${d.rows}x${d.cols}`;
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(d);
  }
  for (const group of groups.values()) {
    const out = await windowGroup(group, opts);
    group.forEach((d, j) => (results[d.i] = { ok: true, ref: d.ref, bytes: out[j].slice() }));
  }
  return results;
}
