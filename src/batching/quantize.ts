/**
 * tensorBytes: a [.., C] float tensor in [0, 1] read back and encoded to the output dtype with
 * the one encoder (encode.ts).
 *
 * @example const bytes = await tensorBytes(windowed, 'uint8');
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { OutputDType } from '../types.js';
import { BYTES_PER } from './dtype.js';
import { encodeValues, toFloat16Bits, uint8Of } from './encode.js';

export { BYTES_PER, encodeValues, toFloat16Bits, uint8Of };

/** Reads `x` and encodes it (disposes nothing). */
export async function tensorBytes(x: tf.Tensor, dtype: OutputDType): Promise<Uint8Array> {
  return encodeValues((await x.data()) as Float32Array, dtype);
}
