/**
 * The cornerstone WASM codecs (CharLS for JPEG-LS, OpenJPEG for JPEG 2000, OpenJPH for HTJ2K,
 * libjpeg-turbo for 8-bit JPEG) share one emscripten API: new XDecoder(); getEncodedBuffer(n).set(bytes);
 * decode(); getFrameInfo(); getDecodedBuffer(). Each module is instantiated once and reused;
 * the decoded buffer is a view into WASM memory, so it is copied out before the decoder is
 * deleted. A corrupt codestream can trap inside WASM ("memory access out of bounds"),
 * after which that instance is unusable; the compiled module is kept, so a fresh instance
 * is made synchronously (emscripten's `instantiateWasm` hook) and decoding goes on.
 *
 * @example
 *   await jpegLsDecoder.init();
 *   jpegLsDecoder.decode(fragment, info).data  // Uint16Array / Int16Array
 */
import { readFileSync } from 'node:fs';
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

/** The slice of the WebAssembly JS API used here (tsconfig's lib has no DOM/WebAssembly types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The package's subpaths of the emscripten glue and its WASM (decoder-only builds by default). */
function wasmDecoder(name: string, pkg: string, className: string, paths = { js: 'decodewasmjs', wasm: 'decodewasm' }): FrameDecoder {
  let mod: Module | undefined;
  let compiled: object | undefined;
  let loading: Promise<void> | undefined;
  const factory = () => require(`${pkg}/${paths.js}`) as (opts: object) => Promise<Module>;
  /** A new instance over the compiled module, ready when this returns (instantiation is synchronous). */
  const instantiate = (): Module => {
    const arg: Record<string, unknown> = {
      // Emscripten prints aborts to stderr by default; keep the CLI output clean.
      print: () => {},
      printErr: () => {},
      instantiateWasm(imports: object, done: (i: object, m: object) => void) {
        const inst = new WA.Instance(compiled!, imports);
        done(inst, compiled!);
        return inst.exports;
      },
    };
    factory()(arg).catch(() => {});
    if (typeof arg[className] !== 'function') throw new DicomDecodeError(`${name} codec did not instantiate`, { kind: 'internal' });
    return arg as unknown as Module;
  };
  return {
    name,
    ready: () => mod !== undefined,
    init() {
      loading ??= (async () => {
        compiled = await WA.compile(readFileSync(require.resolve(`${pkg}/${paths.wasm}`)));
        mod = instantiate();
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
        // The codec failed inside WASM: its memory may be corrupt, so start a clean instance.
        dec = undefined;
        mod = instantiate();
        const msg = e instanceof Error ? e.message : typeof e === 'number' ? `codec error (C++ exception ${e}) on corrupt codestream` : String(e);
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

export const jpegLsDecoder = wasmDecoder('JPEG-LS (CharLS)', '@cornerstonejs/codec-charls', 'JpegLSDecoder');
export const jpeg2000Decoder = wasmDecoder('JPEG 2000 (OpenJPEG)', '@cornerstonejs/codec-openjpeg', 'J2KDecoder');
/** HTJ2K (JPEG 2000 Part 15): OpenJPH's build holds encoder and decoder in one module. */
export const htj2kDecoder = wasmDecoder('HTJ2K (OpenJPH)', '@cornerstonejs/codec-openjph', 'HTJ2KDecoder', { js: 'wasmjs', wasm: 'wasm' });
export const jpegBaselineDecoder = wasmDecoder('JPEG baseline (libjpeg-turbo)', '@cornerstonejs/codec-libjpeg-turbo-8bit', 'JPEGDecoder');
