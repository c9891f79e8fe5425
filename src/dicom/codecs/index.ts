/**
 * Codec registry: transfer syntax → FrameDecoder. `initCodecs()` loads every WASM/JS codec
 * once; after it resolves, all decoding is synchronous.
 *
 * @example
 *   await initCodecs();
 *   decoderFor('1.2.840.10008.1.2.4.80').decode(bytes, info);
 */
import type { CodecName } from '../syntax.js';
import { jpegExtendedDecoder } from './jpeg-extended.js';
import { jpegLosslessDecoder } from './jpeg-lossless.js';
import { nativeDecoder } from './native.js';
import { rleDecoder } from './rle.js';
import type { FrameDecoder } from './types.js';
import { htj2kDecoder, jpeg2000Decoder, jpegBaselineDecoder, jpegLsDecoder } from './wasm.js';

export type { FrameDecoder, FrameInfo, DecodedFrame, Samples } from './types.js';

export const DECODERS: Record<CodecName, FrameDecoder> = {
  native: nativeDecoder,
  rle: rleDecoder,
  'jpeg-baseline': jpegBaselineDecoder,
  'jpeg-extended': jpegExtendedDecoder,
  'jpeg-lossless': jpegLosslessDecoder,
  'jpeg-ls': jpegLsDecoder,
  jpeg2000: jpeg2000Decoder,
  htj2k: htj2kDecoder,
};

let all: Promise<void> | undefined;

/** Loads all codecs (idempotent). */
export function initCodecs(): Promise<void> {
  all ??= Promise.all(Object.values(DECODERS).map((d) => d.init())).then(() => undefined);
  return all;
}

export function codecsReady(): boolean {
  return Object.values(DECODERS).every((d) => d.ready());
}

export function decoderFor(codec: CodecName): FrameDecoder {
  return DECODERS[codec];
}
