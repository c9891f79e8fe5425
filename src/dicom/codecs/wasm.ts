/**
 * The cornerstone WASM codecs (CharLS for JPEG-LS, OpenJPEG for JPEG 2000, libjpeg-turbo
 * for 8-bit JPEG) share one emscripten API: new XDecoder(); getEncodedBuffer(n).set(bytes);
 * decode(); getFrameInfo(); getDecodedBuffer(). Each module is instantiated once and reused;
 * the decoded buffer is a view into WASM memory, so it is copied out before the decoder is
 * deleted.
 *
 * @example
 *   await jpegLsDecoder.init();
 *   jpegLsDecoder.decode(fragment, info).data  // Uint16Array / Int16Array
 */
import { createRequire } from 'node:module';
import { DicomDecodeError } from '../errors.js';
import type { DecodedFrame, FrameDecoder, FrameInfo } from './types.js';
import { samplesFromBytes } from './types.js';

const require = createRequire(import.meta.url);

interface WasmFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(n: number): Uint8Array;
  decode(): void;
  getFrameInfo(): WasmFrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
type Module = Record<string, new () => WasmDecoder>;

function wasmDecoder(name: string, pkg: string, className: string): FrameDecoder {
  let mod: Module | undefined;
  let loading: Promise<void> | undefined;
  return {
    name,
    ready: () => mod !== undefined,
    init() {
      loading ??= (async () => {
        const factory = require(pkg) as (opts?: object) => Promise<Module>;
        // Emscripten prints aborts to stderr by default; keep the CLI output clean.
        mod = await factory({ print: () => {}, printErr: () => {} });
      })();
      return loading;
    },
    decode(encoded: Uint8Array, info: FrameInfo): DecodedFrame {
      if (!mod) throw new DicomDecodeError(`${name} codec not initialised: await initCodecs() first`, { kind: 'internal' });
      let dec: WasmDecoder | undefined;
      try {
        dec = new mod[className]();
        dec.getEncodedBuffer(encoded.length).set(encoded);
        dec.decode();
        const fi = dec.getFrameInfo();
        if (fi.width !== info.cols || fi.height !== info.rows) {
          throw new DicomDecodeError(
            `${name} codestream is ${fi.width}×${fi.height}, header says ${info.cols}×${info.rows}`,
            { kind: 'corrupt-codestream' },
          );
        }
        if (fi.componentCount !== info.samplesPerPixel) {
          throw new DicomDecodeError(
            `${name} codestream has ${fi.componentCount} component(s), header says SamplesPerPixel ${info.samplesPerPixel}`,
            { kind: 'corrupt-codestream' },
          );
        }
        const bytes = dec.getDecodedBuffer().slice();
        const bits = fi.bitsPerSample <= 8 ? 8 : fi.bitsPerSample <= 16 ? 16 : 32;
        const signed = fi.isSigned ?? info.pixelRepresentation === 1;
        const expected = info.rows * info.cols * info.samplesPerPixel * (bits / 8);
        if (bytes.length < expected) {
          throw new DicomDecodeError(`${name} decoded ${bytes.length} bytes, expected ${expected}`, { kind: 'corrupt-codestream' });
        }
        let data = samplesFromBytes(bytes.subarray(0, expected), bits, signed);
        if (bits === 8 && info.bitsAllocated === 16) data = signed ? Int16Array.from(data) : Uint16Array.from(data);
        const out: DecodedFrame = { data, codestreamBits: fi.bitsPerSample };
        if (fi.isSigned !== undefined) out.codestreamSigned = fi.isSigned;
        return out;
      } catch (e) {
        if (e instanceof DicomDecodeError) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        throw new DicomDecodeError(`${name} codec failed: ${msg}`, { kind: 'corrupt-codestream', cause: e });
      } finally {
        try {
          dec?.delete();
        } catch {
          /* a failed decode may leave nothing to delete */
        }
      }
    },
  };
}

export const jpegLsDecoder = wasmDecoder('JPEG-LS (CharLS)', '@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder');
export const jpeg2000Decoder = wasmDecoder('JPEG 2000 (OpenJPEG)', '@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder');
export const jpegBaselineDecoder = wasmDecoder('JPEG baseline (libjpeg-turbo)', '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs', 'JPEGDecoder');
