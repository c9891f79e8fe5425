/**
 * The one interface every pixel decoder implements (one module per transfer-syntax
 * family, like pydicom's `pixels/` handlers). A decoder turns one frame's bytes into
 * samples; masking, sign and rescale happen later in `pixels.ts` / `hu.ts`.
 */
export type Samples = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array | Float32Array;

export interface FrameInfo {
  rows: number;
  cols: number;
  samplesPerPixel: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: 0 | 1;
  planarConfiguration: number;
  littleEndian: boolean;
}

export interface DecodedFrame {
  /** rows*cols*samplesPerPixel samples. May be a view over the input (zero-copy). */
  data: Samples;
  /** Signedness the codestream declares, when it declares one (J2K, JPEG-LS). */
  codestreamSigned?: boolean;
  /** Sample precision the codestream declares, when known. */
  codestreamBits?: number;
}

export interface FrameDecoder {
  name: string;
  /** Loads WASM/JS once; later calls resolve immediately. */
  init(): Promise<void>;
  ready(): boolean;
  /** Decodes one frame. Throws DicomDecodeError (or anything, wrapped by the caller). */
  decode(encoded: Uint8Array, info: FrameInfo): DecodedFrame;
}

/** A typed array of the right type over `bytes` (copied when unaligned). */
export function samplesFromBytes(bytes: Uint8Array, bitsAllocated: number, signed: boolean): Samples {
  const bpe = bitsAllocated / 8;
  let b = bytes;
  if (bpe > 1 && b.byteOffset % bpe !== 0) b = b.slice();
  const n = Math.floor(b.byteLength / bpe);
  switch (bitsAllocated) {
    case 8:
      return signed ? new Int8Array(b.buffer, b.byteOffset, n) : b;
    case 16:
      return signed ? new Int16Array(b.buffer, b.byteOffset, n) : new Uint16Array(b.buffer, b.byteOffset, n);
    case 32:
      return signed ? new Int32Array(b.buffer, b.byteOffset, n) : new Uint32Array(b.buffer, b.byteOffset, n);
    default:
      throw new Error(`samplesFromBytes: unsupported bitsAllocated ${bitsAllocated}`);
  }
}
