/**
 * The table executor: a decoded slice to output bytes — window, resize, encode — through
 * per-slice lookup tables. The plan is evaluated once per distinct stored value of each slice
 * (windowing/table.ts, compiled from each primitive's table form; the same float32 steps as the
 * tfjs reference, held to it bit for bit by the tests). Then, per output value:
 *   - same size: every pixel copies its value's entry, encoded once per table entry;
 *   - other sizes (any input, any output, up or down): bilinear resampling with the exact
 *     arithmetic of tf.image.resizeBilinear(x, size, false, true) on tfjs-cpu (half-pixel
 *     centres; double lerps of float32 values, stored as float32), reading the four source
 *     pixels' entries straight from the table, then encoding each value as `tensorBytes` does.
 * Same bytes as InProcessProcessor on the cpu backend, at a fraction of the cost; no tfjs.
 *
 * @example
 *   const bytes = windowLut(plan, [{ ix, meta, rows: 512, cols: 512 }], { size: [256, 256], dtype: 'uint8' });
 */
import type { OutputDType } from '../types.js';
import { BYTES_PER } from '../batching/dtype.js';
import { encodeValues, toFloat16Bits, uint8Of } from '../batching/encode.js';
import type { WindowPlan, SliceWindowMeta } from '../windowing/plan.js';
import { tableFor } from '../windowing/table.js';
import type { StoredIndex } from './stored-index.js';

export interface LutSlice {
  ix: StoredIndex;
  meta: SliceWindowMeta;
  rows: number;
  cols: number;
}

/**
 * Evaluates the plan on every slice's distinct values: one float32 array of all tables,
 * slice b's table at [offsets[b], offsets[b] + U_b·C).
 */
function tables(plan: WindowPlan, slices: LutSlice[]): { all: Float32Array; offsets: number[] } {
  const fn = tableFor(plan);
  const parts = slices.map((s) => fn(s.ix.hu, s.meta));
  const offsets: number[] = [];
  let n = 0;
  for (const p of parts) {
    offsets.push(n);
    n += p.length;
  }
  const all = new Float32Array(n);
  parts.forEach((p, b) => all.set(p, offsets[b]));
  return { all, offsets };
}

// Dense per-thread scratch over the stored range: packed uint8 entries / slot numbers.
let packedScratch = new Uint32Array(65536);
let slotScratch = new Uint32Array(65536);

/** Int16 source read two pixels per 32-bit load (4-byte aligned src): v + 32768 = (v & 0xffff) ^ 0x8000. */
function gatherPackedInt16(w: Uint32Array, packed: Uint32Array, src: Int16Array, n4: number): void {
  if (src.byteOffset % 4 !== 0) return gatherPackedInt16Odd(w, packed, src, n4);
  const s32 = new Uint32Array(src.buffer, src.byteOffset, n4 >> 1);
  for (let q = 0, o = 0; o < (n4 * 3) >> 2; q += 2, o += 3) {
    const x = s32[q];
    const y = s32[q + 1];
    const a = packed[(x & 0xffff) ^ 0x8000];
    const b = packed[(x >>> 16) ^ 0x8000];
    const c = packed[(y & 0xffff) ^ 0x8000];
    const d = packed[(y >>> 16) ^ 0x8000];
    w[o] = a | (b << 24);
    w[o + 1] = (b >>> 8) | (c << 16);
    w[o + 2] = (c >>> 16) | (d << 8);
  }
}

/**
 * The same for a source at byteOffset ≡ 2 (mod 4) (most CT files: the pixel data starts at an odd
 * 16-bit offset): pixel 0 alone, then 32-bit loads of (1, 2), (3, 4), …; each group of four takes
 * the high half of the previous load as its first pixel.
 */
function gatherPackedInt16Odd(w: Uint32Array, packed: Uint32Array, src: Int16Array, n4: number): void {
  if (n4 === 0) return;
  const s32 = new Uint32Array(src.buffer, src.byteOffset + 2, (n4 - 2) >> 1);
  let carry = packed[src[0] + 32768];
  const last = ((n4 * 3) >> 2) - 3;
  let q = 0;
  let o = 0;
  for (; o < last; q += 2, o += 3) {
    const x = s32[q];
    const y = s32[q + 1];
    const a = carry;
    const b = packed[(x & 0xffff) ^ 0x8000];
    const c = packed[(x >>> 16) ^ 0x8000];
    const d = packed[(y & 0xffff) ^ 0x8000];
    carry = packed[(y >>> 16) ^ 0x8000];
    w[o] = a | (b << 24);
    w[o + 1] = (b >>> 8) | (c << 16);
    w[o + 2] = (c >>> 16) | (d << 8);
  }
  // The last group: its fourth pixel is the final one read (no 32-bit load past the group).
  const x = s32[q];
  const a = carry;
  const b = packed[(x & 0xffff) ^ 0x8000];
  const c = packed[(x >>> 16) ^ 0x8000];
  const d = packed[src[n4 - 1] + 32768];
  w[o] = a | (b << 24);
  w[o + 1] = (b >>> 8) | (c << 16);
  w[o + 2] = (c >>> 16) | (d << 8);
}

function gatherPackedAny(w: Uint32Array, packed: Uint32Array, src: ArrayLike<number>, base: number, n4: number): void {
  for (let p = 0, o = 0; p < n4; p += 4, o += 3) {
    const a = packed[src[p] - base];
    const b = packed[src[p + 1] - base];
    const c = packed[src[p + 2] - base];
    const d = packed[src[p + 3] - base];
    w[o] = a | (b << 24);
    w[o + 1] = (b >>> 8) | (c << 16);
    w[o + 2] = (c >>> 16) | (d << 8);
  }
}

/** uint8, 3 channels: out[p·3 + c] = table[slot(p)·3 + c], 4 pixels (3 words) per step. */
function gatherU8C3(out: Uint8Array, table: Uint8Array, ix: StoredIndex): void {
  if (packedScratch.length < ix.range) packedScratch = new Uint32Array(ix.range);
  const packed = packedScratch;
  const { keys, src, base, n } = ix;
  for (let j = 0; j < keys.length; j++) packed[keys[j]] = table[3 * j] | (table[3 * j + 1] << 8) | (table[3 * j + 2] << 16);
  const n4 = out.byteOffset % 4 === 0 ? n & ~3 : 0;
  const w = new Uint32Array(out.buffer, out.byteOffset, (n4 * 3) / 4);
  if (src instanceof Int16Array) gatherPackedInt16(w, packed, src, n4);
  else gatherPackedAny(w, packed, src, base, n4);
  for (let p = n4; p < n; p++) {
    const e = packed[src[p] - base];
    out[3 * p] = e & 255;
    out[3 * p + 1] = (e >>> 8) & 255;
    out[3 * p + 2] = (e >>> 16) & 255;
  }
}

/** Any dtype/channel count: out[p·C + c] = table[slot(p)·C + c]. */
function gather<T extends Uint8Array | Uint16Array | Uint32Array | Float32Array>(out: T, table: T, ix: StoredIndex, C: number): T {
  if (slotScratch.length < ix.range) slotScratch = new Uint32Array(ix.range);
  const slot = slotScratch;
  const { keys, src, base, n } = ix;
  for (let j = 0; j < keys.length; j++) slot[keys[j]] = j * C;
  if (C === 1) {
    for (let p = 0; p < n; p++) out[p] = table[slot[src[p] - base]];
  } else {
    for (let p = 0, o = 0; p < n; p++) {
      const k = slot[src[p] - base];
      for (let c = 0; c < C; c++) out[o++] = table[k + c];
    }
  }
  return out;
}

function view(bytes: Uint8Array, dtype: OutputDType): Uint8Array | Uint16Array | Uint32Array {
  if (dtype === 'uint8') return bytes;
  const Ctor = dtype === 'float16' ? Uint16Array : Uint32Array;
  return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
}


/**
 * Source rows (or columns) and weights of tf.image.resizeBilinear(…, alignCorners false,
 * halfPixelCenters true) on tfjs-cpu, output index by output index: the same double arithmetic.
 */
function axis(inSize: number, outSize: number): { lo: Int32Array; hi: Int32Array; frac: Float64Array } {
  const ratio = inSize / outSize;
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const frac = new Float64Array(outSize);
  for (let i = 0; i < outSize; i++) {
    const src = ratio * (i + 0.5) - 0.5;
    const f = Math.max(0, Math.floor(src));
    lo[i] = f;
    hi[i] = Math.min(inSize - 1, Math.ceil(src));
    frac[i] = src - f;
  }
  return { lo, hi, frac };
}

const axes = new Map<string, ReturnType<typeof axis>>();
function axisOf(inSize: number, outSize: number): ReturnType<typeof axis> {
  const k = `${inSize}>${outSize}`;
  let a = axes.get(k);
  if (!a) {
    if (axes.size > 64) axes.clear();
    axes.set(k, (a = axis(inSize, outSize)));
  }
  return a;
}

/** tfjs-cpu's bilinear value of entries a, b (top row) and d, e (bottom row): double lerps, stored as float32. */
function mix(table: Float32Array, a: number, b: number, d: number, e: number, cf: number, rf: number): number {
  const t = table[a] + (table[b] - table[a]) * cf;
  return Math.fround(t + (table[d] + (table[e] - table[d]) * cf - t) * rf);
}

// Per-thread scratch of the resize: the entries' codes (packed three to a word for uint8 × 3).
let codeScratch = new Uint32Array(65536);
const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);

/** What every resize loop reads: source pixels, their entries, the table, codes, axes. */
interface ResizeJob {
  src: StoredIndex['src'];
  base: number;
  /** Entry index of each stored value − base. */
  slot: Uint32Array;
  table: Float32Array;
  /** The output dtype's code of every entry and channel (uint8 code, float16 bits, float32 bits). */
  codes: Uint32Array;
  cols: number;
  R: ReturnType<typeof axis>;
  X: ReturnType<typeof axis>;
}

/**
 * The output rows of a resize, in order: each with its two source rows' offsets (top, bottom),
 * its vertical weight and the index of its first output value (`stride` values per pixel).
 * Both resize loops below walk their rows through here; each owns its loop over the columns.
 */
function forEachRow(j: ResizeJob, stride: number, row: (top: number, bot: number, rf: number, o: number) => void): void {
  const { cols, R } = j;
  const step = j.X.lo.length * stride;
  for (let r = 0; r < R.lo.length; r++) row(R.lo[r] * cols, R.hi[r] * cols, R.frac[r], r * step);
}

/**
 * uint8 × 3 channels, the common case: per output pixel the four source pixels' codes, three to
 * a word indexed by stored value (`packed`, one read each, as gatherU8C3 reads them); the
 * entries and the arithmetic only where they differ.
 */
function resizeU8C3(out: Uint8Array, j: ResizeJob, packed: Uint32Array): void {
  forEachRow(j, 3, (top, bot, rf, o) => {
    // The row's inputs as locals: the hot loop reads typed arrays only.
    const { src, base, slot, table } = j;
    const { lo: xlo, hi: xhi, frac: xf } = j.X;
    const pk = packed;
    const dst = out;
    for (let c = 0; c < xlo.length; c++, o += 3) {
      const x0 = xlo[c];
      const x1 = xhi[c];
      const ka = src[top + x0] - base;
      const kb = src[top + x1] - base;
      const kd = src[bot + x0] - base;
      const ke = src[bot + x1] - base;
      const pa = pk[ka];
      const differ = (pa ^ pk[kb]) | (pa ^ pk[kd]) | (pa ^ pk[ke]);
      if (differ === 0) {
        dst[o] = pa;
        dst[o + 1] = pa >>> 8;
        dst[o + 2] = pa >>> 16;
        continue;
      }
      const cf = xf[c];
      const a = slot[ka] * 3;
      const b = slot[kb] * 3;
      const d = slot[kd] * 3;
      const e = slot[ke] * 3;
      dst[o] = differ & 0xff ? uint8Of(mix(table, a, b, d, e, cf, rf)) : pa;
      dst[o + 1] = differ & 0xff00 ? uint8Of(mix(table, a + 1, b + 1, d + 1, e + 1, cf, rf)) : pa >>> 8;
      dst[o + 2] = differ & 0xff0000 ? uint8Of(mix(table, a + 2, b + 2, d + 2, e + 2, cf, rf)) : pa >>> 16;
    }
  });
}

/** Any dtype and channel count; `put` stores a computed value, `copy` a code. */
function resizeAny(C: number, j: ResizeJob, copy: (o: number, code: number) => void, put: (o: number, v: number) => void): void {
  forEachRow(j, C, (top, bot, rf, o) => {
    const { src, base, slot, table, codes } = j;
    const { lo: xlo, hi: xhi, frac: xf } = j.X;
    for (let c = 0; c < xlo.length; c++) {
      const cf = xf[c];
      const a = slot[src[top + xlo[c]] - base] * C;
      const b = slot[src[top + xhi[c]] - base] * C;
      const d = slot[src[bot + xlo[c]] - base] * C;
      const e = slot[src[bot + xhi[c]] - base] * C;
      for (let ch = 0; ch < C; ch++, o++) {
        const code = codes[a + ch];
        if (code === codes[b + ch] && code === codes[d + ch] && code === codes[e + ch]) copy(o, code);
        else put(o, mix(table, a + ch, b + ch, d + ch, e + ch, cf, rf));
      }
    }
  });
}

/**
 * One slice resized from its table: output value (r, c, ch) is the bilinear value of the four
 * source pixels' entries as tf.image.resizeBilinear(x, [h, w], false, true) computes it on
 * tfjs-cpu (`mix`), encoded to the output dtype.
 *
 * Where a channel's four source entries have the same code in the output dtype, that code is
 * the answer without arithmetic: the bilinear value lies between the four values (each lerp
 * a + (b − a)·t with t ∈ [0, 1] stays within [a, b] in IEEE arithmetic), and float32 rounding,
 * the uint8 code and float16 rounding are all monotonic, so its code lies between theirs.
 */
function resizeFromTable(out: Uint8Array, table: Float32Array, ix: StoredIndex, rows: number, cols: number, h: number, w: number, C: number, dtype: OutputDType): void {
  const { keys } = ix;
  const U = keys.length;
  if (slotScratch.length < ix.range) slotScratch = new Uint32Array(ix.range);
  const slot = slotScratch;
  for (let j = 0; j < U; j++) slot[keys[j]] = j;
  if (codeScratch.length < U * C) codeScratch = new Uint32Array(U * C);
  const codes = codeScratch;
  const job: ResizeJob = { src: ix.src, base: ix.base, slot, table, codes, cols, R: axisOf(rows, h), X: axisOf(cols, w) };
  const n = h * w * C;
  if (dtype === 'uint8') {
    for (let k = 0; k < U * C; k++) codes[k] = uint8Of(table[k]);
    if (C !== 3) return resizeAny(C, job, (o, code) => (out[o] = code), (o, v) => (out[o] = uint8Of(v)));
    if (packedScratch.length < ix.range) packedScratch = new Uint32Array(ix.range);
    for (let j = 0; j < U; j++) packedScratch[keys[j]] = codes[3 * j] | (codes[3 * j + 1] << 8) | (codes[3 * j + 2] << 16);
    return resizeU8C3(out, job, packedScratch);
  }
  if (dtype === 'float16') {
    for (let k = 0; k < U * C; k++) codes[k] = toFloat16Bits(table[k]);
    const o16 = new Uint16Array(out.buffer, out.byteOffset, n);
    return resizeAny(C, job, (o, code) => (o16[o] = code), (o, v) => (o16[o] = toFloat16Bits(v)));
  }
  for (let k = 0; k < U * C; k++) codes[k] = ((f32Bits[0] = table[k]), u32Bits[0]);
  const o32 = new Uint32Array(out.buffer, out.byteOffset, n);
  const f32 = new Float32Array(out.buffer, out.byteOffset, n);
  resizeAny(C, job, (o, code) => (o32[o] = code), (o, v) => (f32[o] = v));
}

/**
 * Per-slice output bytes ([h, w, C] row-major in the output dtype) of each slice, in order.
 * All slices must hold at least one pixel.
 */
export function windowLut(
  plan: WindowPlan,
  slices: LutSlice[],
  opts: { size: [number, number]; dtype: OutputDType; alloc?: (bytes: number) => Uint8Array },
): Uint8Array[] {
  if (!slices.length) return [];
  const C = plan.outputs.length;
  const [h, w] = opts.size;
  const { all, offsets } = tables(plan, slices);
  const bpe = BYTES_PER[opts.dtype];
  const size = h * w * C * bpe;
  const alloc = opts.alloc ?? ((n: number) => new Uint8Array(n));
  // Encode the tables once (Σ U·C entries) for the slices every pixel of which copies an entry.
  const enc = slices.some((s) => s.rows === h && s.cols === w) ? encodeValues(all, opts.dtype) : undefined;
  return slices.map((s, b) => {
    const bytes = alloc(size); // every byte is written below
    const n = s.ix.hu.length * C;
    if (s.rows !== h || s.cols !== w) {
      resizeFromTable(bytes, all.subarray(offsets[b], offsets[b] + n), s.ix, s.rows, s.cols, h, w, C, opts.dtype);
      return bytes;
    }
    const table = enc!.subarray(offsets[b] * bpe, (offsets[b] + n) * bpe);
    if (opts.dtype === 'uint8' && C === 3) gatherU8C3(bytes, table, s.ix);
    else if (opts.dtype === 'uint8') gather(bytes, table, s.ix, C);
    else if (opts.dtype === 'float16') gather(view(bytes, 'float16') as Uint16Array, view(table.slice(), 'float16') as Uint16Array, s.ix, C);
    else gather(view(bytes, 'float32') as Uint32Array, view(table.slice(), 'float32') as Uint32Array, s.ix, C);
    return bytes;
  });
}
