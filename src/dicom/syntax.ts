/**
 * Transfer syntax table: how the data set is encoded and which pixel decoder applies.
 *
 * @example
 *   transferSyntax('1.2.840.10008.1.2.4.90').codec  // 'jpeg2000'
 */
export type CodecName =
  | 'native'
  | 'rle'
  | 'jpeg-baseline'
  | 'jpeg-extended'
  | 'jpeg-lossless'
  | 'jpeg-ls'
  | 'jpeg2000'
  | 'htj2k';

export interface TransferSyntaxInfo {
  uid: string;
  name: string;
  explicitVR: boolean;
  littleEndian: boolean;
  deflated: boolean;
  /** Pixel data in fragments (encapsulated). */
  encapsulated: boolean;
  lossy: boolean;
  codec: CodecName;
}

const T = (
  uid: string,
  name: string,
  codec: CodecName,
  o: Partial<Pick<TransferSyntaxInfo, 'explicitVR' | 'littleEndian' | 'deflated' | 'lossy'>> = {},
): TransferSyntaxInfo => ({
  uid,
  name,
  explicitVR: o.explicitVR ?? true,
  littleEndian: o.littleEndian ?? true,
  deflated: o.deflated ?? false,
  encapsulated: codec !== 'native',
  lossy: o.lossy ?? false,
  codec,
});

export const TRANSFER_SYNTAXES: Record<string, TransferSyntaxInfo> = Object.fromEntries(
  [
    T('1.2.840.10008.1.2', 'Implicit VR Little Endian', 'native', { explicitVR: false }),
    T('1.2.840.10008.1.2.1', 'Explicit VR Little Endian', 'native'),
    T('1.2.840.10008.1.2.1.99', 'Deflated Explicit VR Little Endian', 'native', { deflated: true }),
    T('1.2.840.10008.1.2.2', 'Explicit VR Big Endian', 'native', { littleEndian: false }),
    T('1.2.840.10008.1.2.4.50', 'JPEG Baseline (8-bit)', 'jpeg-baseline', { lossy: true }),
    T('1.2.840.10008.1.2.4.51', 'JPEG Extended (12-bit)', 'jpeg-extended', { lossy: true }),
    T('1.2.840.10008.1.2.4.57', 'JPEG Lossless (Process 14)', 'jpeg-lossless'),
    T('1.2.840.10008.1.2.4.70', 'JPEG Lossless SV1', 'jpeg-lossless'),
    T('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless', 'jpeg-ls'),
    T('1.2.840.10008.1.2.4.81', 'JPEG-LS Near-Lossless', 'jpeg-ls', { lossy: true }),
    T('1.2.840.10008.1.2.4.90', 'JPEG 2000 Lossless', 'jpeg2000'),
    T('1.2.840.10008.1.2.4.91', 'JPEG 2000', 'jpeg2000', { lossy: true }),
    T('1.2.840.10008.1.2.4.201', 'HTJ2K Lossless', 'htj2k'),
    T('1.2.840.10008.1.2.4.202', 'HTJ2K Lossless RPCL', 'htj2k'),
    T('1.2.840.10008.1.2.4.203', 'HTJ2K', 'htj2k', { lossy: true }),
    T('1.2.840.10008.1.2.5', 'RLE Lossless', 'rle'),
  ].map((t) => [t.uid, t]),
);

/** Transfer syntaxes ctwindow knows by name but does not decode: messages and `probe` name them. */
export const UNSUPPORTED_SYNTAXES: Record<string, string> = {
  '1.2.840.10008.1.2.4.52': 'JPEG Extended, Processes 3 & 5 (retired)',
  '1.2.840.10008.1.2.4.53': 'JPEG Spectral Selection, Non-Hierarchical, Processes 6 & 8 (retired)',
  '1.2.840.10008.1.2.4.54': 'JPEG Spectral Selection, Non-Hierarchical, Processes 7 & 9 (retired)',
  '1.2.840.10008.1.2.4.55': 'JPEG Full Progression, Non-Hierarchical, Processes 10 & 12 (retired)',
  '1.2.840.10008.1.2.4.56': 'JPEG Full Progression, Non-Hierarchical, Processes 11 & 13 (retired)',
  '1.2.840.10008.1.2.4.58': 'JPEG Lossless, Non-Hierarchical, Process 15 (retired)',
  '1.2.840.10008.1.2.4.59': 'JPEG Extended, Hierarchical, Processes 16 & 18 (retired)',
  '1.2.840.10008.1.2.4.60': 'JPEG Extended, Hierarchical, Processes 17 & 19 (retired)',
  '1.2.840.10008.1.2.4.61': 'JPEG Spectral Selection, Hierarchical, Processes 20 & 22 (retired)',
  '1.2.840.10008.1.2.4.62': 'JPEG Spectral Selection, Hierarchical, Processes 21 & 23 (retired)',
  '1.2.840.10008.1.2.4.63': 'JPEG Full Progression, Hierarchical, Processes 24 & 26 (retired)',
  '1.2.840.10008.1.2.4.64': 'JPEG Full Progression, Hierarchical, Processes 25 & 27 (retired)',
  '1.2.840.10008.1.2.4.65': 'JPEG Lossless, Hierarchical, Process 28 (retired)',
  '1.2.840.10008.1.2.4.66': 'JPEG Lossless, Hierarchical, Process 29 (retired)',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.94': 'JPIP Referenced',
  '1.2.840.10008.1.2.4.95': 'JPIP Referenced Deflate',
  '1.2.840.10008.1.2.4.100': 'MPEG2 Main Profile / Main Level',
  '1.2.840.10008.1.2.4.101': 'MPEG2 Main Profile / High Level',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264 High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.103': 'MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1',
  '1.2.840.10008.1.2.4.104': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video',
  '1.2.840.10008.1.2.4.105': 'MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video',
  '1.2.840.10008.1.2.4.106': 'MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265 Main Profile / Level 5.1',
  '1.2.840.10008.1.2.4.108': 'HEVC/H.265 Main 10 Profile / Level 5.1',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
  '1.2.840.10008.1.2.4.111': 'JPEG XL JPEG Recompression',
  '1.2.840.10008.1.2.4.112': 'JPEG XL',
  '1.2.840.10008.1.2.4.204': 'HTJ2K with RPCL Options',
  '1.2.840.10008.1.2.6.1': 'RFC 2557 MIME encapsulation (retired)',
  '1.2.840.10008.1.2.6.2': 'XML Encoding (retired)',
  '1.2.840.10008.1.2.8.1': 'Deflated Image Frame Compression',
};

/** Info for a transfer syntax UID, or undefined when ctwindow has no decoder for it. */
export function transferSyntax(uid: string): TransferSyntaxInfo | undefined {
  return TRANSFER_SYNTAXES[uid];
}

/** A readable label: "1.2.840.10008.1.2.5 (RLE Lossless)", "1.2.840.10008.1.2.4.55 (JPEG Full Progression, …, not supported)". */
export function syntaxLabel(uid: string): string {
  const t = TRANSFER_SYNTAXES[uid];
  if (t) return `${uid} (${t.name})`;
  const known = UNSUPPORTED_SYNTAXES[uid];
  return known ? `${uid} (${known}, not supported)` : `${uid} (unknown transfer syntax)`;
}
