/**
 * RLE Lossless (1.2.840.10008.1.2.5), DICOM PS3.5 Annex G.
 * Written by hand: no maintained npm package decodes DICOM RLE (it is a 64-byte segment
 * table plus PackBits per byte plane, ~50 lines), and the cornerstone loader's copy is not
 * published on its own.
 *
 * @example rleDecoder.decode(fragmentBytes, info).data
 */
import { DicomDecodeError } from '../errors.js';
import type { FrameDecoder, FrameInfo } from './types.js';
import { samplesFromBytes } from './types.js';

export const rleDecoder: FrameDecoder = {
  name: 'rle',
  init: async () => {},
  ready: () => true,
  decode(encoded: Uint8Array, info: FrameInfo) {
    const bps = info.bitsAllocated / 8;
    const spp = info.samplesPerPixel;
    const n = info.rows * info.cols;
    if (encoded.length < 64) throw new DicomDecodeError(`RLE frame holds ${encoded.length} bytes, shorter than its 64-byte header`, { kind: 'truncated' });
    const dv = new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    const nseg = dv.getUint32(0, true);
    if (nseg !== bps * spp) {
      throw new DicomDecodeError(`RLE header lists ${nseg} segments, expected ${bps * spp} (${spp} sample(s) × ${bps} byte(s))`, { kind: 'corrupt-codestream' });
    }
    const out = new Uint8Array(n * bps * spp);
    for (let s = 0; s < nseg; s++) {
      const start = dv.getUint32(4 + 4 * s, true);
      const end = s + 1 < nseg ? dv.getUint32(8 + 4 * s, true) : encoded.length;
      if (start < 64 || end > encoded.length || end < start) {
        throw new DicomDecodeError(`RLE segment ${s} offsets [${start}, ${end}) lie outside the ${encoded.length}-byte frame`, { kind: 'corrupt-codestream' });
      }
      // Segment order per sample: most significant byte first. Output is little endian, interleaved.
      const sample = Math.floor(s / bps);
      const byteInSample = bps - 1 - (s % bps);
      const stride = bps * spp;
      let o = sample * bps + byteInSample;
      const oEnd = out.length;
      let i = start;
      let written = 0;
      while (i < end && written < n) {
        const h = encoded[i++];
        if (h < 128) {
          const cnt = Math.min(h + 1, n - written, end - i);
          for (let k = 0; k < cnt; k++, o += stride) out[o] = encoded[i + k];
          i += h + 1;
          written += cnt;
        } else if (h > 128) {
          const cnt = Math.min(257 - h, n - written);
          const v = encoded[i++];
          for (let k = 0; k < cnt && o < oEnd; k++, o += stride) out[o] = v;
          written += cnt;
        }
      }
      if (written < n) {
        throw new DicomDecodeError(`RLE segment ${s} decodes to ${written} bytes, expected ${n}`, { kind: 'truncated' });
      }
    }
    return { data: samplesFromBytes(out, info.bitsAllocated, info.pixelRepresentation === 1) };
  },
};
