/**
 * Stored values from decoded samples: BitsStored masking / sign extension and the
 * PixelRepresentation the header declares (also when a J2K codestream says otherwise).
 * Leaves the input untouched (and returns it, zero-copy) when it is already in range.
 *
 * @example normaliseStored(new Uint16Array([0x0fff]), { bitsStored: 12, pixelRepresentation: 1, highBit: 11 }) // Int16Array [-1]
 */
import type { Samples } from './codecs/types.js';

export interface StoredSpec {
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  pixelRepresentation: 0 | 1;
}

/** Reinterprets an integer array with the header's signedness (same bytes, no copy). */
function withSign(a: Samples, signed: boolean): Samples {
  if (a instanceof Float32Array) return a;
  const bpe = a.BYTES_PER_ELEMENT;
  const { buffer, byteOffset, length } = a;
  if (bpe === 1) return signed ? (a instanceof Int8Array ? a : new Int8Array(buffer, byteOffset, length)) : a instanceof Uint8Array ? a : new Uint8Array(buffer, byteOffset, length);
  if (bpe === 2) return signed ? (a instanceof Int16Array ? a : new Int16Array(buffer, byteOffset, length)) : a instanceof Uint16Array ? a : new Uint16Array(buffer, byteOffset, length);
  return signed ? (a instanceof Int32Array ? a : new Int32Array(buffer, byteOffset, length)) : a instanceof Uint32Array ? a : new Uint32Array(buffer, byteOffset, length);
}

export function normaliseStored(samples: Samples, spec: StoredSpec): Samples {
  const signed = spec.pixelRepresentation === 1;
  const bs = spec.bitsStored;
  const width = samples.BYTES_PER_ELEMENT * 8;
  let a = withSign(samples, signed);
  const shift = Math.max(0, spec.highBit + 1 - bs);
  if (bs >= width && shift === 0) return a;
  const lo = signed ? -(2 ** (bs - 1)) : 0;
  const hi = signed ? 2 ** (bs - 1) - 1 : 2 ** bs - 1;
  if (shift === 0) {
    let inRange = true;
    for (let i = 0; i < a.length; i++) {
      const v = a[i];
      if (v < lo || v > hi) {
        inRange = false;
        break;
      }
    }
    if (inRange) return a;
  }
  // Mask the BitsStored bits (after HighBit alignment) and sign-extend when signed.
  const out = new (a.constructor as new (n: number) => Samples)(a.length);
  const mask = bs >= 32 ? 0xffffffff : 2 ** bs - 1;
  const ext = 32 - bs;
  for (let i = 0; i < a.length; i++) {
    const u = (a[i] >>> shift) & mask;
    out[i] = signed ? (u << ext) >> ext : u;
  }
  a = out;
  return a;
}
