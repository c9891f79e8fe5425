/**
 * The distinct stored values of one slice and, for each pixel, the index of its value among
 * them: the lookup-table key of the fast path.
 *
 * A window is a pure function of the stored value (HU = stored × slope + intercept, padding →
 * air, MONOCHROME1 reflected), and its per-slice min/max normalisations depend only on the set
 * of values present. So the windowed output of a slice is `table[index[p]]`, where `table`
 * holds the plan evaluated once per distinct value (a few hundred to a few thousand entries
 * against 262 144 pixels at 512×512).
 * Written by hand: a histogram over the integer stored range is what makes this cheap (no
 * sort); no library does it for DICOM's integer pixel types.
 *
 * @example
 *   const ix = storedIndex(img, 'air');  // undefined → caller uses the reference path
 *   // ix.hu[k]: HU of the k-th distinct value (float32, exactly as huFrame computes it)
 *   // ix.index[p]: k for pixel p
 */
import type { DicomImage } from '../types.js';
import { AIR_HU, type PaddingMode } from '../dicom/index.js';

export interface StoredIndex {
  /** HU of each distinct stored value (first-appearance order); float32 exactly as huFrame. */
  hu: Float32Array;
  /** Per pixel (frame 0, row-major): index into `hu`. */
  index: Uint16Array | Uint32Array;
}

/** Widest stored range handled with a dense table (beyond it: the reference path). */
const MAX_RANGE = 1 << 20;

// Reused across slices on one thread: value − base → 1 + its slot (0 = not seen in this slice);
// reset after each slice for the values it held only.
let slot1 = new Uint32Array(65536);
let keys = new Int32Array(65536);

function ensure(range: number): void {
  if (slot1.length < range) slot1 = new Uint32Array(range);
}

/** First sight of a value (key k) gives it the next slot; returns the new count. */
function addKey(k: number, count: number): number {
  if (count === keys.length) {
    const grown = new Int32Array(keys.length * 2);
    grown.set(keys);
    keys = grown;
  }
  keys[count] = k;
  slot1[k] = count + 1;
  return count + 1;
}

function indexInt16(src: Int16Array, n: number, index: Uint16Array): number {
  const map = slot1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const k = src[i] + 32768;
    let j = map[k];
    if (j === 0) j = count = addKey(k, count);
    index[i] = j - 1;
  }
  return count;
}

function indexAny(src: ArrayLike<number>, n: number, base: number, index: Uint16Array | Uint32Array): number {
  const map = slot1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const k = src[i] - base;
    let j = map[k];
    if (j === 0) j = count = addKey(k, count);
    index[i] = j - 1;
  }
  return count;
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
 * Distinct values + per-pixel index of frame 0 of `img`, or undefined when the stored values
 * are not integers in a range of at most 2^20 (float pixel data), for the caller to fall back.
 * Table order is first appearance (order does not matter: min/max and pointwise ops only).
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
  ensure(range);
  const index = range <= 65536 ? new Uint16Array(n) : new Uint32Array(n);
  const count =
    src instanceof Int16Array && index instanceof Uint16Array
      ? indexInt16(src, n, index) // the CT case, kept monomorphic for the JIT
      : indexAny(src, n, base, index);
  const ks = keys;
  const map = slot1;
  const hu = new Float32Array(count);
  const f = huOf(img, padding);
  for (let j = 0; j < count; j++) {
    hu[j] = f(ks[j] + base);
    map[ks[j]] = 0;
  }
  return { hu, index };
}
