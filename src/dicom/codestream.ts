/**
 * What an encapsulated frame really is, read from its own markers: a JPEG's start-of-frame
 * (baseline / extended / progressive DCT, lossless process 14, JPEG-LS), a JPEG 2000 codestream
 * (or JP2 file) and whether it is High-Throughput (HTJ2K: SIZ's Rsiz has the Part 15 bit). A
 * frame is decoded by what it is, not by its transfer syntax's label (GDCM and DCMTK do the
 * same): a baseline JPEG under a lossless label handed to the lossless decoder "decodes" to noise.
 *
 * @example
 *   sniffCodestream(frame)  // { codec: 'jpeg-baseline', what: 'baseline DCT JPEG (SOF0, 8-bit)' }
 */
import type { CodecName } from './syntax.js';

export interface Codestream {
  /** The decoder for it; undefined when ctwindow has none (progressive 12-bit, hierarchical, arithmetic). */
  codec?: CodecName;
  /** In words, with the marker: "lossless JPEG (SOF3, 16-bit)". */
  what: string;
  /** Sample precision of a JPEG frame header. */
  bits?: number;
}

const SOF_NAMES: Record<number, string> = {
  0xc0: 'baseline DCT JPEG (SOF0',
  0xc1: 'extended DCT JPEG (SOF1',
  0xc2: 'progressive DCT JPEG (SOF2',
  0xc3: 'lossless JPEG (SOF3',
  0xc5: 'hierarchical DCT JPEG (SOF5',
  0xc6: 'hierarchical progressive JPEG (SOF6',
  0xc7: 'hierarchical lossless JPEG (SOF7',
  0xc9: 'arithmetic-coded DCT JPEG (SOF9',
  0xca: 'arithmetic-coded progressive JPEG (SOF10',
  0xcb: 'arithmetic-coded lossless JPEG (SOF11',
  0xcd: 'hierarchical arithmetic JPEG (SOF13',
  0xce: 'hierarchical arithmetic progressive JPEG (SOF14',
  0xcf: 'hierarchical arithmetic lossless JPEG (SOF15',
  0xf7: 'JPEG-LS (SOF55',
};

function jpeg(b: Uint8Array): Codestream | undefined {
  // Markers from SOI to the first start-of-frame (within the first 256 KiB: tables come first).
  const end = Math.min(b.length, 1 << 18);
  let i = 2;
  while (i + 4 <= end) {
    if (b[i] !== 0xff) return undefined;
    let m = b[i + 1];
    while (m === 0xff && i + 2 < end) m = b[++i + 1]; // fill bytes
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = (b[i + 2] << 8) | b[i + 3];
    const name = SOF_NAMES[m];
    if (name) {
      const bits = b[i + 4];
      const what = `${name}, ${bits}-bit)`;
      if (m === 0xc0 || ((m === 0xc1 || m === 0xc2) && bits <= 8)) return { codec: 'jpeg-baseline', what, bits };
      if (m === 0xc1 && bits <= 12) return { codec: 'jpeg-extended', what, bits };
      if (m === 0xc3) return { codec: 'jpeg-lossless', what, bits };
      if (m === 0xf7) return { codec: 'jpeg-ls', what, bits };
      return { what, bits };
    }
    if (m === 0xda || len < 2) return undefined; // scan data before any frame header: not a JPEG we can read
    i += 2 + len;
  }
  return undefined;
}

function j2k(b: Uint8Array, at: number): Codestream {
  // SOC (FF4F) then SIZ (FF51): Lsiz (2), Rsiz (2); Rsiz bit 14 marks a Part 15 (HT) codestream.
  const rsiz = (b[at + 6] << 8) | b[at + 7];
  return rsiz & 0x4000 ? { codec: 'htj2k', what: 'High-Throughput JPEG 2000 (HTJ2K) codestream' } : { codec: 'jpeg2000', what: 'JPEG 2000 codestream' };
}

/** What `frame` is, from its first bytes; undefined when it is none of the codestreams above. */
export function sniffCodestream(frame: Uint8Array): Codestream | undefined {
  if (frame.length < 8) return undefined;
  if (frame[0] === 0xff && frame[1] === 0xd8) return jpeg(frame);
  if (frame[0] === 0xff && frame[1] === 0x4f && frame[2] === 0xff && frame[3] === 0x51) return j2k(frame, 0);
  // A JP2 file (box format): its 'jp2c' box holds the codestream.
  if (frame[4] === 0x6a && frame[5] === 0x50 && frame[6] === 0x20 && frame[7] === 0x20) {
    const n = Math.min(frame.length - 4, 1 << 16);
    for (let i = 8; i < n; i++) {
      if (frame[i] === 0xff && frame[i + 1] === 0x4f && frame[i + 2] === 0xff && frame[i + 3] === 0x51) return { ...j2k(frame, i), what: 'JPEG 2000 (JP2 file)' };
    }
  }
  return undefined;
}

/** Codecs that read the same codestreams (the DCT JPEGs: one decoder per precision). */
export function sameFamily(a: CodecName, b: CodecName): boolean {
  const dct = (c: CodecName) => c === 'jpeg-baseline' || c === 'jpeg-extended';
  return a === b || (dct(a) && dct(b));
}
