/**
 * Windows slices through per-slice lookup tables. The plan is evaluated on each slice's
 * distinct HU values only: by the JavaScript mirror of the reference's float32 arithmetic
 * (plan-js.ts, verified bit for bit against applyWindowReference when first compiled) or,
 * for a plan the mirror cannot express, by applyWindowReference itself (all slices of a chunk
 * in one tfjs call, [B, 1, U] padded with a value the slice already holds, which changes no
 * min/max). The tables are encoded to the output dtype with the same `tensorBytes` as the
 * reference path, and every pixel copies its entry. Same float32 results on the same numbers
 * → the same bytes as InProcessProcessor (on the cpu backend), at a fraction of the cost.
 * When the output size differs from the slice size, the float entries are gathered, resized
 * with tf.image.resizeBilinear(…, false, true) exactly as the reference does, then encoded.
 *
 * @example
 *   const bytes = windowLut(plan, [{ ix, meta, rows: 512, cols: 512 }], { size: [512, 512], dtype: 'uint8' });
 */
import type { OutputDType } from '../types.js';
import { BYTES_PER } from '../batching/dtype.js';
import type { WindowPlan, SliceWindowMeta } from '../windowing/plan.js';
import type { StoredIndex } from './stored-index.js';
import { compilePlanJs, type TableFn } from './plan-js.js';
import { loadTf } from './tf-lazy.js';
import { readVerdict, writeVerdict } from './verdict-cache.js';

export interface LutSlice {
  ix: StoredIndex;
  meta: SliceWindowMeta;
  rows: number;
  cols: number;
}


// Per plan: its verified JavaScript table function, or null (evaluate with tfjs).
const registry = new Map<string, TableFn | null>();

/** The recorded verification outcome for `plan`, or undefined when it was never verified. */
export function registeredTableFn(plan: WindowPlan): TableFn | null | undefined {
  return registry.get(JSON.stringify(plan));
}

export function registerTableFn(plan: WindowPlan, fn: TableFn | null): void {
  registry.set(JSON.stringify(plan), fn);
}

/**
 * Records the outcome of a verification done elsewhere (the main thread verifies once; worker
 * threads take its word instead of re-running the probes, and never load tfjs for it).
 */
export function presetTableFn(plan: WindowPlan, usable: boolean): void {
  registerTableFn(plan, usable ? (compilePlanJs(plan) ?? null) : null);
}

/**
 * The plan's table function, or null (evaluate with tfjs): as registered on this thread, else
 * the verdict an earlier run recorded (verdict-cache.ts), else verified now (plan-verify.ts,
 * loads tfjs) and recorded.
 */
export async function planTableFn(plan: WindowPlan): Promise<TableFn | null> {
  const fn = registeredTableFn(plan);
  if (fn !== undefined) return fn;
  const cached = readVerdict(plan);
  if (cached !== undefined) {
    presetTableFn(plan, cached);
    return registeredTableFn(plan) ?? null;
  }
  const verified = (await import('./plan-verify.js')).tableFnFor(plan);
  writeVerdict(plan, verified !== null);
  return verified;
}

/**
 * Evaluates the plan on every slice's distinct values: one float32 array of all tables,
 * slice b's table at [offsets[b], offsets[b] + U_b·C).
 */
async function tables(plan: WindowPlan, slices: LutSlice[]): Promise<{ all: Float32Array; offsets: number[] }> {
  const C = plan.outputs.length;
  const fn = await planTableFn(plan);
  if (fn) {
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
  // tfjs: all slices in one call, [B, 1, U] padded with a value the slice already holds.
  const tf = await loadTf();
  const { applyWindowReference } = await import('../windowing/reference.js');
  const U = Math.max(1, ...slices.map((s) => s.ix.hu.length));
  const x = new Float32Array(slices.length * U);
  slices.forEach((s, b) => {
    const hu = s.ix.hu;
    x.set(hu, b * U);
    if (hu.length < U) x.fill(hu.length ? hu[0] : 0, b * U + hu.length, (b + 1) * U);
  });
  const t = tf.tidy(() => applyWindowReference(plan, tf.tensor3d(x, [slices.length, 1, U]), slices.map((s) => s.meta)));
  const all = t.dataSync() as Float32Array;
  t.dispose();
  return { all, offsets: slices.map((_, b) => b * U * C) };
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

/**
 * uint8 encoding of table entries, the same bits as `tensorBytes(t, 'uint8')` on tfjs-cpu
 * (float32 mul by 255, banker's rounding, clip to 0..255, cast to int32 (NaN → 0), to byte),
 * without six tfjs kernel launches per chunk.
 */
export function encodeUint8(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const s = Math.fround(values[i] * 255);
    const base = Math.floor(s);
    const d = s - base;
    const r = d < 0.5 ? base : d > 0.5 ? Math.ceil(s) : base % 2 === 0 ? base : base + 1;
    const c = r > 255 ? 255 : r < 0 ? 0 : r;
    out[i] = c | 0; // NaN → 0, as Int32Array.from
  }
  return out;
}

function view(bytes: Uint8Array, dtype: OutputDType): Uint8Array | Uint16Array | Uint32Array {
  if (dtype === 'uint8') return bytes;
  const Ctor = dtype === 'float16' ? Uint16Array : Uint32Array;
  return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength / Ctor.BYTES_PER_ELEMENT);
}

/**
 * Per-slice output bytes ([h, w, C] row-major in the output dtype) of each slice, in order.
 * All slices must hold at least one pixel.
 */
export async function windowLut(
  plan: WindowPlan,
  slices: LutSlice[],
  opts: { size: [number, number]; dtype: OutputDType; alloc?: (bytes: number) => Uint8Array },
): Promise<Uint8Array[]> {
  if (!slices.length) return [];
  const C = plan.outputs.length;
  const [h, w] = opts.size;
  const { all, offsets } = await tables(plan, slices);
  const tableOf = (b: number) => all.subarray(offsets[b], offsets[b] + slices[b].ix.hu.length * C);
  const bpe = BYTES_PER[opts.dtype];
  const out: Uint8Array[] = new Array(slices.length);
  const direct = slices.map((s) => s.rows === h && s.cols === w);
  if (direct.some(Boolean)) {
    // Encode the tables (Σ U·C entries), then every pixel copies its entry's bytes.
    let enc: Uint8Array;
    if (opts.dtype === 'uint8') enc = encodeUint8(all);
    else {
      const tf = await loadTf();
      const { tensorBytes } = await import('../batching/quantize.js');
      const t = tf.tensor1d(all, 'float32');
      enc = await tensorBytes(t, opts.dtype);
      t.dispose();
    }
    slices.forEach((s, b) => {
      if (!direct[b]) return;
      const table = enc.subarray(offsets[b] * bpe, (offsets[b] + s.ix.hu.length * C) * bpe);
      const bytes = opts.alloc ? opts.alloc(h * w * C * bpe) : new Uint8Array(h * w * C * bpe); // every byte is written below
      if (opts.dtype === 'uint8' && C === 3) gatherU8C3(bytes, table, s.ix);
      else if (opts.dtype === 'uint8') gather(bytes, table, s.ix, C);
      else if (opts.dtype === 'float16') gather(view(bytes, 'float16') as Uint16Array, view(table.slice(), 'float16') as Uint16Array, s.ix, C);
      else gather(view(bytes, 'float32') as Uint32Array, view(table.slice(), 'float32') as Uint32Array, s.ix, C);
      out[b] = bytes;
    });
  }
  if (direct.some((d) => !d)) {
    // Resize groups of equal size together, as the reference does.
    const groups = new Map<string, number[]>();
    slices.forEach((s, b) => {
      if (direct[b]) return;
      const k = `${s.rows}x${s.cols}`;
      (groups.get(k) ?? groups.set(k, []).get(k)!).push(b);
    });
    const tf = await loadTf();
    const { tensorBytes } = await import('../batching/quantize.js');
    for (const members of groups.values()) {
      const { rows, cols } = slices[members[0]];
      const plane = rows * cols * C;
      const floats = new Float32Array(members.length * plane);
      members.forEach((b, j) => {
        gather(floats.subarray(j * plane, (j + 1) * plane), tableOf(b), slices[b].ix, C);
      });
      const y = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(floats, [members.length, rows, cols, C]), [h, w], false, true));
      const bytes = await tensorBytes(y, opts.dtype);
      y.dispose();
      const per = bytes.length / members.length;
      members.forEach((b, j) => {
        const part = bytes.subarray(j * per, (j + 1) * per);
        const own = opts.alloc ? opts.alloc(per) : new Uint8Array(per);
        own.set(part);
        out[b] = own;
      });
    }
  }
  return out;
}
