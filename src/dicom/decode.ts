/**
 * bytes → DicomImage. `decodeDicomSync` needs `initCodecs()` to have resolved (worker
 * threads call it in a tight loop); `decodeDicom` awaits it for you. Every failure is a
 * DicomDecodeError with a reason; nothing else escapes.
 *
 * @example
 *   await initCodecs();
 *   const img = decodeDicomSync(bytes);               // all frames
 *   const f3 = decodeDicomSync(bytes, { frame: 3 });  // only frame 3 (img.frames === 1)
 */
import type { DicomImage } from '../types.js';
import { TAGS, readGeometry, readIdentity, readImageAttributes, str } from './attributes.js';
import { decoderFor, initCodecs } from './codecs/index.js';
import type { FrameInfo, Samples } from './codecs/types.js';
import { InputFileError, readInputFile } from './read-file.js';
import { DicomDecodeError, asDecodeError } from './errors.js';
import { encapsulatedFrames } from './fragments.js';
import { PIXEL_DATA, parseDicomBytes } from './parse.js';
import { sameFamily, sniffCodestream } from './codestream.js';
import { normaliseStored } from './pixels.js';
import { syntaxLabel, transferSyntax, type CodecName } from './syntax.js';

/**
 * The codec for an encapsulated frame: the codestream's own (its SOF or SIZ marker), noting a
 * label that says otherwise in `warnings`; a codestream no decoder here reads is refused by
 * name. A frame with no recognisable codestream goes to the labelled codec (which says why not).
 */
function codecOf(frame: Uint8Array, index: number, labelled: CodecName, uid: string, warnings: string[]): CodecName {
  const cs = sniffCodestream(frame);
  if (!cs) return labelled;
  if (!cs.codec) {
    throw new DicomDecodeError(`frame ${index} is ${cs.what}, which ctwindow cannot decode (transfer syntax ${syntaxLabel(uid)})`, { kind: 'unsupported-codestream' });
  }
  if (!sameFamily(cs.codec, labelled)) {
    warnings.push(`the frames are ${cs.what}, the transfer syntax says ${syntaxLabel(uid)}: decoded as ${cs.what}`);
    return cs.codec;
  }
  // One DCT family: the extended decoder reads both precisions; the baseline one only 8 bits.
  return labelled === 'jpeg-baseline' && cs.codec === 'jpeg-extended' ? cs.codec : labelled;
}

/** Largest decoded frame of a compressed file (Rows × Columns × samples × bytes): 256 MiB, 4× a 4096² RGB 16-bit frame. */
export const MAX_FRAME_BYTES = 256 * 2 ** 20;

export interface DecodeOptions {
  /** Decode only this 0-based frame; the result then holds one frame. */
  frame?: number;
  /**
   * Largest decoded frame taken from a compressed (encapsulated) file, in bytes: its header's
   * Rows × Columns are refused beyond this before a codec allocates (default MAX_FRAME_BYTES).
   * Native pixel data needs no cap: it must be present in the file.
   */
  maxFrameBytes?: number;
  /** File name used in error messages. */
  file?: string;
}

export async function decodeDicom(bytes: Uint8Array, opts: DecodeOptions = {}): Promise<DicomImage> {
  await initCodecs();
  return decodeDicomSync(bytes, opts);
}

/** Reads and decodes a file; errors name the path. */
export async function readDicomFile(path: string, opts: DecodeOptions = {}): Promise<DicomImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readInputFile(path);
  } catch (e) {
    throw new DicomDecodeError((e as InputFileError).reason ?? (e as Error).message, { file: path, kind: 'io' });
  }
  return decodeDicom(bytes, { ...opts, file: opts.file ?? path });
}

export function decodeDicomSync(bytes: Uint8Array, opts: DecodeOptions = {}): DicomImage {
  try {
    return decodeInner(bytes, opts);
  } catch (e) {
    const err = e instanceof DicomDecodeError ? e : asDecodeError(e, 'unexpected decoder failure', 'internal');
    throw opts.file ? err.withFile(opts.file) : err;
  }
}

function decodeInner(bytes: Uint8Array, opts: DecodeOptions): DicomImage {
  const { dataSet: d, syntaxUid, byteArray, headless } = parseDicomBytes(bytes);
  const ts = transferSyntax(syntaxUid);
  if (!ts) throw new DicomDecodeError(`unsupported transfer syntax ${syntaxLabel(syntaxUid)}`, { kind: 'unsupported-syntax' });
  const pix = d.elements[PIXEL_DATA];
  if (!pix) {
    const other = d.elements['x7fe00008'] ? ' (has Float Pixel Data, not supported for CT)' : d.elements['x7fe00009'] ? ' (has Double Float Pixel Data, not supported for CT)' : '';
    const mod = str(d, TAGS.modality);
    throw new DicomDecodeError(
      `no Pixel Data (7FE0,0010)${other}${mod ? `; modality ${mod}` : ''}${headless ? '; file has no preamble/meta header' : ''}`,
      { kind: 'no-pixel-data' },
    );
  }
  const a = readImageAttributes(d);
  const frameLen = a.rows * a.cols * a.samplesPerPixel;
  const want = opts.frame;
  if (want !== undefined && (!Number.isInteger(want) || want < 0 || want >= a.frames)) {
    throw new DicomDecodeError(`frame ${want} requested, file has ${a.frames} frame(s) (0-based)`, { kind: 'bad-request' });
  }
  const info: FrameInfo = {
    rows: a.rows,
    cols: a.cols,
    samplesPerPixel: a.samplesPerPixel,
    bitsAllocated: a.bitsAllocated,
    bitsStored: a.bitsStored,
    pixelRepresentation: a.pixelRepresentation,
    planarConfiguration: a.planarConfiguration,
    littleEndian: ts.littleEndian,
  };
  const decoder = decoderFor(ts.codec);
  if (!decoder.ready()) {
    throw new DicomDecodeError(`codec ${ts.codec} not initialised: await initCodecs() before decodeDicomSync`, { kind: 'codec-not-ready' });
  }
  const frameIdx = want !== undefined ? [want] : Array.from({ length: a.frames }, (_, i) => i);
  let frameBytes: (i: number) => Uint8Array;
  const pixStart = pix.dataOffset;
  if (ts.encapsulated) {
    const cap = opts.maxFrameBytes ?? MAX_FRAME_BYTES;
    const decoded = frameLen * Math.ceil(a.bitsAllocated / 8);
    if (decoded > cap) {
      throw new DicomDecodeError(
        `a compressed frame of ${a.rows}×${a.cols}×${a.samplesPerPixel} at ${a.bitsAllocated} bits would decode to ${decoded} bytes, more than the ${cap}-byte limit (decode option maxFrameBytes)`,
        { kind: 'too-large' },
      );
    }
    if (!pix.encapsulatedPixelData) {
      throw new DicomDecodeError(`transfer syntax ${syntaxLabel(syntaxUid)} needs encapsulated Pixel Data, found a ${pix.length}-byte native value`, { kind: 'corrupt-codestream' });
    }
    frameBytes = encapsulatedFrames(byteArray, pix, a.frames, ts.codec);
  } else {
    if (pix.encapsulatedPixelData || pix.hadUndefinedLength) {
      throw new DicomDecodeError(`Pixel Data is encapsulated but the transfer syntax ${syntaxLabel(syntaxUid)} is uncompressed`, { kind: 'corrupt-codestream' });
    }
    const fb = frameLen * (a.bitsAllocated / 8);
    const need = fb * a.frames;
    const have = Math.min(pix.length, byteArray.length - pixStart);
    if (have < need) {
      throw new DicomDecodeError(
        `pixel data truncated: ${have} bytes, expected ${need} for ${a.frames} frame(s) of ${a.rows}×${a.cols}×${a.samplesPerPixel} at ${a.bitsAllocated} bits`,
        { kind: 'truncated' },
      );
    }
    frameBytes = (i) => byteArray.subarray(pixStart + i * fb, pixStart + (i + 1) * fb);
  }

  let stored: Samples;
  const warnings: string[] = [];
  if (!ts.encapsulated && frameIdx.length === a.frames && (a.samplesPerPixel === 1 || a.planarConfiguration === 0)) {
    // Whole native pixel data at once: one (zero-copy when aligned) view for all frames.
    const all = byteArray.subarray(pixStart, pixStart + frameLen * (a.bitsAllocated / 8) * a.frames);
    const dec = decoder.decode(all, { ...info, rows: a.rows * a.frames });
    stored = normaliseStored(dec.data, a);
  } else {
    const parts: Samples[] = [];
    for (const i of frameIdx) {
      const bytesOfFrame = frameBytes(i);
      // Decoded by what the codestream is, whatever the label says (codestream.ts).
      const frameDecoder = ts.encapsulated ? decoderFor(codecOf(bytesOfFrame, i, ts.codec, syntaxUid, warnings)) : decoder;
      if (!frameDecoder.ready()) {
        throw new DicomDecodeError(`codec ${frameDecoder.name} not initialised: await initCodecs() before decodeDicomSync`, { kind: 'codec-not-ready' });
      }
      const dec = frameDecoder.decode(bytesOfFrame, info);
      if (dec.data.length < frameLen) {
        throw new DicomDecodeError(`frame ${i} decoded to ${dec.data.length} samples, expected ${frameLen}`, { kind: 'corrupt-codestream' });
      }
      parts.push(normaliseStored(dec.data.length === frameLen ? dec.data : dec.data.subarray(0, frameLen), a));
    }
    stored = parts.length === 1 ? parts[0] : joinFrames(parts);
  }

  const img: DicomImage = {
    transferSyntax: syntaxUid,
    rows: a.rows,
    cols: a.cols,
    frames: frameIdx.length,
    samplesPerPixel: a.samplesPerPixel,
    bitsAllocated: a.bitsAllocated,
    bitsStored: a.bitsStored,
    pixelRepresentation: a.pixelRepresentation,
    photometric: a.photometric,
    stored,
    slope: a.slope,
    intercept: a.intercept,
    windowCenter: a.windowCenter,
    windowWidth: a.windowWidth,
    ...readGeometry(d),
    ...readIdentity(d),
  };
  if (a.frameRescale) img.frameRescale = frameIdx.map((i) => a.frameRescale![i]);
  if (warnings.length) img.warnings = [...new Set(warnings)];
  if (a.pixelPaddingValue !== undefined) img.pixelPaddingValue = a.pixelPaddingValue;
  if (a.pixelPaddingRangeLimit !== undefined) img.pixelPaddingRangeLimit = a.pixelPaddingRangeLimit;
  return img;
}

function joinFrames(parts: Samples[]): Samples {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new (parts[0].constructor as new (n: number) => Samples)(n);
  let o = 0;
  for (const p of parts) {
    if (p.constructor !== out.constructor) throw new DicomDecodeError('frames decoded to different sample types', { kind: 'corrupt-codestream' });
    out.set(p as never, o);
    o += p.length;
  }
  return out;
}

/** Multi-frame → one single-frame image per frame (views, no copy). */
export function splitFrames(img: DicomImage): DicomImage[] {
  const n = img.rows * img.cols * img.samplesPerPixel;
  return Array.from({ length: img.frames }, (_, f) => {
    const one: DicomImage = { ...img, frames: 1, stored: img.stored.subarray(f * n, (f + 1) * n) as DicomImage['stored'] };
    if (img.frameRescale) one.frameRescale = [img.frameRescale[f]];
    return one;
  });
}

export { initCodecs };
