/**
 * The output encodings of windowed values v ∈ [0, 1], written once for every executor (no tfjs):
 *   uint8   round(fround(v × 255)) ties to even, clamped to 0..255, NaN → 0 — the bits of
 *           tf.cast(tf.clipByValue(tf.round(tf.mul(x, 255)), 0, 255), 'int32') on tfjs-cpu
 *   float16 IEEE half of the float32 value, round to nearest even (Node 20 has no Float16Array)
 *   float32 as computed
 * All little endian.
 *
 * @example
 *   uint8Of(0.5)                          // 128 (127.5 ties to even)
 *   encodeValues(Float32Array.of(0, 1), 'uint8') // Uint8Array [0, 255]
 */
import type { OutputDType } from '../types.js';

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One value's uint8 code (see above); branches that the hot loops predict well (values in [0, 1]). */
export function uint8Of(v: number): number {
  const s = Math.fround(v * 255);
  if (!(s >= 0)) return 0; // negative, −0, NaN
  if (s >= 255) return 255;
  const r = (s + 0.5) | 0; // half up …
  return r - s === 0.5 && (r & 1) === 1 ? r - 1 : r; // … then ties to even
}

/** Float32 → IEEE 754 binary16 bits, round to nearest even; NaN/Inf kept. */
export function toFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  // Positive and in half's normal range (2^-14 ≤ v < 65536; windowed values mostly are): drop 13
  // mantissa bits rounding to nearest even (a carry runs into the exponent as it should), then
  // rebias the exponent from 127 to 15.
  if (x >= 0x38800000 && x < 0x477fe000) return ((x + 0xfff + ((x >>> 13) & 1)) >>> 13) - 0x1c000;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** Encodes float values in [0, 1] to the output dtype's bytes (float32: a view, no copy). */
export function encodeValues(values: Float32Array, dtype: OutputDType): Uint8Array {
  switch (dtype) {
    case 'float32':
      return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    case 'float16': {
      const out = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]);
      return new Uint8Array(out.buffer);
    }
    case 'uint8': {
      const out = new Uint8Array(values.length);
      for (let i = 0; i < values.length; i++) out[i] = uint8Of(values[i]);
      return out;
    }
  }
}
