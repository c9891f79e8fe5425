/**
 * JPEG Lossless, Process 14 (1.2.840.10008.1.2.4.57 / .70) via jpeg-lossless-decoder-js.
 *
 * @example jpegLosslessDecoder.decode(fragment, info).data  // Uint16Array
 */
import { Decoder } from 'jpeg-lossless-decoder-js';
import { DicomDecodeError } from '../errors.js';
import type { FrameDecoder, FrameInfo } from './types.js';

export const jpegLosslessDecoder: FrameDecoder = {
  name: 'JPEG lossless (jpeg-lossless-decoder-js)',
  init: async () => {},
  ready: () => true,
  decode(encoded: Uint8Array, info: FrameInfo) {
    const numBytes = info.bitsAllocated <= 8 ? 1 : 2;
    let out: Uint8Array | Uint16Array;
    let dec: Decoder;
    try {
      dec = new Decoder();
      // The decoder reads through a DataView over the ArrayBuffer; give it an exact copy.
      const buf = encoded.byteOffset === 0 && encoded.byteLength === encoded.buffer.byteLength ? encoded.buffer : encoded.slice().buffer;
      out = dec.decode(buf as ArrayBuffer, 0, encoded.byteLength, numBytes) as Uint8Array | Uint16Array;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new DicomDecodeError(`JPEG lossless codec failed: ${msg}`, { kind: 'corrupt-codestream', cause: e });
    }
    const d = dec as unknown as { xDim: number; yDim: number; numComp: number };
    if (!out || d.xDim !== info.cols || d.yDim !== info.rows) {
      throw new DicomDecodeError(`JPEG lossless codestream is ${d.xDim}×${d.yDim}, header says ${info.cols}×${info.rows}`, { kind: 'corrupt-codestream' });
    }
    if (d.numComp !== info.samplesPerPixel) {
      throw new DicomDecodeError(`JPEG lossless codestream has ${d.numComp} component(s), header says ${info.samplesPerPixel}`, { kind: 'corrupt-codestream' });
    }
    const data = out instanceof Uint16Array && info.pixelRepresentation === 1 ? new Int16Array(out.buffer, out.byteOffset, out.length) : out;
    return { data };
  },
};
