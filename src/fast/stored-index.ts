/**
 * The distinct stored values of one slice: the lookup-table keys of the fast path.
 *
 * A window is a pure function of the stored value (HU = stored × slope + intercept, padding →
 * air, MONOCHROME1 reflected), and its per-slice min/max normalisations depend only on the set
 * of values present. So the windowed output of a slice is `table[stored[p]]`, where `table`
 * holds the plan evaluated once per distinct value (a few hundred to a few thousand entries
 * against 262 144 pixels at 512×512).
 * Written by hand: a presence pass over the integer stored range is what makes this cheap (no
 * sort, no per-pixel index); no library does it for DICOM's integer pixel types.
 *
 * @example
 *   const ix = storedIndex(img, 'air');  // undefined → caller uses the reference path
 *   // ix.hu[j]: HU of the j-th distinct value (float32, exactly as huFrame computes it)
 *   // ix.keys[j]: that value − ix.base; pixel p has key ix.src[p] − ix.base
 */
import type { DicomImage } from '../types.js';
import { AIR_HU, type PaddingMode } from '../dicom/index.js';

export type StoredArray = Exclude<DicomImage['stored'], Float32Array>;

export interface StoredIndex {
  /** HU of each distinct stored value, ascending; float32 exactly as huFrame. */
  hu: Float32Array;
  /** Each distinct stored value minus `base`, ascending (same order as `hu`). */
  keys: Int32Array;
  /** Offset of the keys: key = stored − base, 0 ≤ key < range. */
  base: number;
  range: number;
  /** The slice's stored values (frame 0 is its first rows × cols). */
  src: StoredArray;
  /** rows × cols. */
  n: number;
}

/** Widest stored range handled with a dense table (beyond it: the reference path). */
const MAX_RANGE = 1 << 20;

// Presence marks over the stored range, reused across slices on one thread (cleared as read),
// and the scratch the marked keys are collected in.
let marks = new Uint8Array(65536);
let keyScratch = new Int32Array(65536);

/** Two pixels per 32-bit load: for int16 v, v + 32768 = (v & 0xffff) ^ 0x8000 (order is irrelevant). */
function markInt16(src: Int16Array, n: number, m: Uint8Array): void {
  let i = 0;
  if (src.byteOffset % 4 !== 0 && n > 0) {
    m[src[0] + 32768] = 1;
    i = 1;
  }
  const pairs = (n - i) >> 1;
  const u32 = new Uint32Array(src.buffer, src.byteOffset + 2 * i, pairs);
  for (let q = 0; q < pairs; q++) {
    const w = u32[q];
    m[(w & 0xffff) ^ 0x8000] = 1;
    m[(w >>> 16) ^ 0x8000] = 1;
  }
  for (let j = i + 2 * pairs; j < n; j++) m[src[j] + 32768] = 1;
}

function markAny(src: ArrayLike<number>, n: number, base: number, m: Uint8Array): void {
  for (let i = 0; i < n; i++) m[src[i] - base] = 1;
}

/** HU of stored value v with huFrame's exact arithmetic (double, then stored as float32). */
function huOf(img: DicomImage, padding: PaddingMode): (v: number) => number {
  const r = img.frameRescale?.[0];
  const slope = r?.slope ?? img.slope;
  const intercept = r?.intercept ?? img.intercept;
  const invert = img.photometric === 'MONOCHROME1';
  const flip = img.pixelRepresentation === 1 ? -1 : 2 ** img.bitsStored - 1;
  const ppv = padding === 'air' ? img.pixelPaddingValue : undefined;
  const lim = img.pixelPaddingRangeLimit ?? ppv;
  const pLo = ppv === undefined ? Infinity : Math.min(ppv, lim!);
  const pHi = ppv === undefined ? -Infinity : Math.max(ppv, lim!);
  return (v) => (v >= pLo && v <= pHi ? AIR_HU : (invert ? flip - v : v) * slope + intercept);
}

/**
 * Distinct values of frame 0 of `img`, or undefined when the stored values are not integers
 * in a range of at most 2^20 (float pixel data), for the caller to fall back.
 */
export function storedIndex(img: DicomImage, padding: PaddingMode): StoredIndex | undefined {
  const src = img.stored;
  if (src instanceof Float32Array) return undefined;
  const n = img.rows * img.cols;
  if (src.length < n) throw new Error(`storedIndex: stored holds ${src.length} values, expected at least ${n} (rows × cols)`);
  let base: number;
  let range: number;
  if (src instanceof Int16Array) [base, range] = [-32768, 65536];
  else if (src instanceof Uint16Array) [base, range] = [0, 65536];
  else if (src instanceof Int8Array) [base, range] = [-128, 256];
  else if (src instanceof Uint8Array) [base, range] = [0, 256];
  else {
    // 32-bit stored values: a dense table over the slice's own range, when it is small enough.
    let mn = Infinity;
    let mx = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = src[i];
      if (v < mn) mn = v;
      if (v > mx) mx = v;
    }
    base = n ? mn : 0;
    range = n ? mx - mn + 1 : 1;
    if (!(range <= MAX_RANGE)) return undefined;
  }
  if (marks.length < range) marks = new Uint8Array(range);
  const m = marks;
  if (src instanceof Int16Array) markInt16(src, n, m); // the CT case, kept monomorphic for the JIT
  else markAny(src, n, base, m);
  // Collect the marked keys (ascending) and clear them, four marks per 32-bit word: the marks
  // are sparse over the 65,536 possible values (a few thousand set), so most words are zero.
  if (keyScratch.length < range) keyScratch = new Int32Array(range);
  const found = keyScratch;
  let count = 0;
  const words = range >> 2;
  const m32 = new Uint32Array(m.buffer, 0, words);
  for (let q = 0; q < words; q++) {
    const w = m32[q];
    if (w === 0) continue;
    m32[q] = 0;
    const k = q << 2;
    if (w & 0xff) found[count++] = k;
    if (w & 0xff00) found[count++] = k + 1;
    if (w & 0xff0000) found[count++] = k + 2;
    if (w & 0xff000000) found[count++] = k + 3;
  }
  for (let k = words << 2; k < range; k++) {
    if (!m[k]) continue;
    m[k] = 0;
    found[count++] = k;
  }
  const keys = found.slice(0, count);
  const hu = new Float32Array(count);
  const f = huOf(img, padding);
  for (let j = 0; j < count; j++) hu[j] = f(keys[j] + base);
  return { hu, keys, base, range, src, n };
}

/** Per-pixel slot j (into hu/keys) of every pixel: for tests and diagnostics. */
export function pixelSlots(ix: StoredIndex): Uint32Array {
  const slot = new Uint32Array(ix.range);
  ix.keys.forEach((k, j) => (slot[k] = j));
  const out = new Uint32Array(ix.n);
  for (let p = 0; p < ix.n; p++) out[p] = slot[ix.src[p] - ix.base];
  return out;
}
