/**
 * Output encodings of windowed values v ∈ [0, 1]:
 *   uint8   round(v × 255) (ties to even, as tf.round), clamped to 0..255
 *   float16 IEEE half, round to nearest even (written by hand: Node 20 has no Float16Array)
 *   float32 as computed
 * All little endian.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { OutputDType } from '../types.js';
import { BYTES_PER } from './dtype.js';

export { BYTES_PER };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Float32 → IEEE 754 binary16 bits, round to nearest even; NaN/Inf kept. */
export function toFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** Encodes float values in [0, 1] to the output dtype's bytes. */
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
      for (let i = 0; i < values.length; i++) {
        const s = values[i] * 255;
        // round half to even, like tf.round and numpy.rint
        let r = Math.round(s);
        if (r - s === 0.5 && r % 2 !== 0) r -= 1;
        out[i] = r < 0 ? 0 : r > 255 ? 255 : r;
      }
      return out;
    }
  }
}

/** Reads a [.., C] float tensor in [0, 1] and encodes it (disposes nothing). */
export async function tensorBytes(x: tf.Tensor, dtype: OutputDType): Promise<Uint8Array> {
  if (dtype === 'uint8') {
    const q = tf.tidy(() => tf.cast(tf.clipByValue(tf.round(tf.mul(x, 255)), 0, 255), 'int32'));
    const v = (await q.data()) as Int32Array;
    q.dispose();
    return Uint8Array.from(v);
  }
  return encodeValues((await x.data()) as Float32Array, dtype);
}
