/**
 * Uncompressed pixel data (implicit/explicit/deflated LE, explicit BE). Little endian
 * is zero-copy when the data is aligned: a typed-array view over the file's buffer.
 * Big endian is byte-swapped into a new array.
 *
 * @example nativeDecoder.decode(frameBytes, info).data  // Int16Array view
 */
import { DicomDecodeError } from '../errors.js';
import type { FrameDecoder, FrameInfo } from './types.js';
import { samplesFromBytes } from './types.js';

export const nativeDecoder: FrameDecoder = {
  name: 'native',
  init: async () => {},
  ready: () => true,
  decode(encoded: Uint8Array, info: FrameInfo) {
    const need = info.rows * info.cols * info.samplesPerPixel * (info.bitsAllocated / 8);
    if (encoded.length < need) {
      throw new DicomDecodeError(`pixel data truncated: frame holds ${encoded.length} bytes, expected ${need}`, { kind: 'truncated' });
    }
    let bytes = encoded.subarray(0, need);
    if (!info.littleEndian && info.bitsAllocated > 8) {
      bytes = bytes.slice();
      if (info.bitsAllocated === 16) Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap16();
      else Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap32();
    }
    const signed = info.pixelRepresentation === 1;
    let data = samplesFromBytes(bytes, info.bitsAllocated, signed);
    if (info.samplesPerPixel > 1 && info.planarConfiguration === 1) data = interleave(data, info.samplesPerPixel);
    return { data };
  },
};

/** Planar (RRR…GGG…BBB…) to interleaved (RGBRGB…). */
export function interleave<T extends { length: number; [i: number]: number }>(planar: T, spp: number): T {
  const n = planar.length / spp;
  const out = new (planar.constructor as new (n: number) => T)(planar.length);
  for (let s = 0; s < spp; s++) for (let i = 0; i < n; i++) out[i * spp + s] = planar[s * n + i];
  return out;
}
